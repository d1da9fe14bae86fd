/**
 * `serve --tls-cert/--tls-key` without `--issuer`: the default issuer, the announcement, the
 * metadata and the cookies follow the scheme actually served (https), and every response
 * carries HSTS. An http (loopback) issuer sends no HSTS: a browser would pin a development
 * host to https otherwise.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const HSTS = 'max-age=31536000';
const REDIRECT_URI = 'https://app.example.com/cb';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An https request that trusts only the test's own certificate (no verification switched off). */
function httpsGet(url: string, ca: Buffer, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, ca, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

describe('serve with TLS and no --issuer', { timeout: 300_000 }, () => {
  let ws: Workspace;
  let server: RunningServer;
  let ca: Buffer;
  let clientId: string;

  before(async () => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() }, prefix: 'tessera-tls-' });
    const cert = join(ws.dir, 'cert.pem');
    const key = join(ws.dir, 'key.pem');
    // prettier-ignore
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    ca = readFileSync(cert);
    await ws.json(['tenant', 'create', '--id', 'acme', '--name', 'Acme']);
    ({ client_id: clientId } = await ws.json<{ client_id: string }>([
      'client',
      'create',
      '--name',
      'Web',
      '--grant',
      'authorization_code',
      '--redirect-uri',
      REDIRECT_URI,
      '--tenant',
      'acme',
    ]));
    server = await startServer({
      database: ws.database,
      cwd: ws.dir,
      env: ws.env,
      args: ['--tls-cert', cert, '--tls-key', key],
    });
  });
  after(async () => {
    await server?.stop();
    ws?.remove();
  });

  test('the announced URL, issuer and discovery URL are https', () => {
    const port = new URL(server.url).port;
    assert.equal(server.url, `https://127.0.0.1:${port}`);
    assert.equal(server.issuer, `https://127.0.0.1:${port}`);
    assert.equal(
      server.discovery,
      `https://127.0.0.1:${port}/.well-known/oauth-authorization-server`,
    );
  });

  test('the metadata names the https issuer and https endpoints, with HSTS', async () => {
    const res = await httpsGet(server.discovery, ca);
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], HSTS);
    const metadata = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(metadata['issuer'], server.issuer);
    const urls = Object.entries(metadata).filter(
      ([k]) => k.endsWith('_endpoint') || k === 'jwks_uri',
    );
    assert.ok(urls.length >= 5);
    for (const [name, value] of urls)
      assert.ok(String(value).startsWith(`${server.issuer}/`), `${name}: ${String(value)}`);
  });

  test('every response carries HSTS: errors and unknown paths too', async () => {
    for (const [path, method, status] of [
      ['/healthz', 'GET', 200],
      ['/no-such-path', 'GET', 404],
      ['/oauth/token', 'POST', 401],
    ] as const) {
      const res = await httpsGet(`${server.url}${path}`, ca, method);
      assert.equal(res.status, status, `${path}: ${res.body}`);
      assert.equal(res.headers['strict-transport-security'], HSTS, path);
    }
  });

  test('the login page cookies are Secure', async () => {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      state: 'tls-state',
    });
    const res = await httpsGet(`${server.url}/oauth/authorize?${query}`, ca);
    assert.equal(res.status, 200, res.body);
    const cookies = res.headers['set-cookie'] ?? [];
    assert.ok(cookies.length > 0, 'the login page sets its CSRF cookie');
    for (const c of cookies) assert.match(c, /;\s*Secure(;|$)/i, c);
  });
});

describe('HSTS follows the issuer scheme', () => {
  let http: TestApp;
  let https: TestApp;
  before(async () => {
    http = await createTestApp();
    // Behind a TLS-terminating proxy: the node speaks http, the issuer is https.
    https = await createTestApp({ flags: { issuer: 'https://auth.example.com' } });
  });
  after(async () => {
    await http.close();
    await https.close();
  });

  test('an http loopback issuer sends no Strict-Transport-Security', async () => {
    for (const url of ['/.well-known/oauth-authorization-server', '/healthz', '/nope']) {
      const res = await http.app.inject({ method: 'GET', url });
      assert.equal(res.headers['strict-transport-security'], undefined, url);
    }
  });

  test('an https issuer sends it on every response', async () => {
    for (const url of ['/.well-known/oauth-authorization-server', '/healthz', '/nope']) {
      const res = await https.app.inject({ method: 'GET', url });
      assert.equal(res.headers['strict-transport-security'], HSTS, url);
    }
  });
});
