/**
 * `tessera serve` as a process: the announcement line, `--demo`, persistence across a restart,
 * health endpoints, shutdown on SIGTERM, refusal of bad options and configuration precedence.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { freePort } from '../helpers/postgres.js';
import {
  type RunningServer,
  type ServerOptions,
  getJson,
  postForm,
  postJson,
  startServer,
} from '../helpers/server.js';

type Jwks = Parameters<typeof createLocalJWKSet>[0];

const workspaces: Workspace[] = [];
const servers: RunningServer[] = [];

function workspace(env: Record<string, string> = {}): Workspace {
  const ws = createWorkspace({ env, prefix: 'tessera-serve-' });
  workspaces.push(ws);
  return ws;
}

/** Starts a server in `ws` (its database, environment and cwd); stopped in `after` at the latest. */
async function serve(ws: Workspace, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer({
    database: ws.database,
    cwd: ws.dir,
    ...options,
    env: { ...ws.env, ...options.env },
  });
  servers.push(server);
  return server;
}

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const ws of workspaces) ws.remove();
});

function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim().length > 0);
}

describe('serve --demo', { timeout: 300_000 }, () => {
  let ws: Workspace;
  before(() => {
    // No TESSERA_MASTER_KEY: with SQLite one is generated beside the database.
    ws = workspace();
  });

  test('seeds an empty database once and prints the credentials in the JSON line', async () => {
    const first = await serve(ws, { args: ['--demo'] });
    const demo = first.announced.demo;
    assert.ok(demo, 'the first start on an empty database prints demo credentials');
    assert.deepEqual(Object.keys(first.announced).sort(), ['demo', 'discovery', 'issuer', 'url']);
    assert.equal(typeof demo.tenant.id, 'string');
    assert.match(demo.user.email, /@/);
    assert.ok(demo.user.password.length >= 8);
    assert.deepEqual(demo.clients.map((c) => c.dialect).sort(), [
      'bright-pattern',
      'cisco-spaces',
      'setu',
      'standard',
    ]);
    for (const c of demo.clients) assert.match(c.client_secret ?? '', /^[A-Za-z0-9_-]{43}$/);

    // The master key was generated next to the database, readable by the owner only.
    assert.equal(statSync(join(ws.dir, 'master.key')).mode & 0o777, 0o600);
    assert.match(first.stderr(), /master key/);

    // The demo Setu client works at once.
    const setu = demo.clients.find((c) => c.dialect === 'setu');
    assert.ok(setu);
    const res = await postForm(`${first.url}/auth/token`, {
      grant_type: 'client_credentials',
      client_id: setu.client_id,
      client_secret: setu.client_secret ?? '',
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['accessToken', 'refreshToken']);
    assert.deepEqual(await first.stop(), { code: 0, signal: null });

    const second = await serve(ws, { args: ['--demo'] });
    assert.equal(second.announced.demo, undefined, 'a database with data gets no second demo');
    assert.deepEqual(Object.keys(second.announced).sort(), ['discovery', 'issuer', 'url']);
    // The generated master key was reused: the demo secrets still verify.
    const standard = demo.clients.find((c) => c.dialect === 'standard');
    assert.ok(standard);
    const again = await postForm(`${second.url}/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: standard.client_id,
      client_secret: standard.client_secret ?? '',
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(typeof again.body['expires_in'], 'number');
    assert.deepEqual(await second.stop('SIGINT'), { code: 0, signal: null }, 'SIGINT exits 0');
  });
});

describe('serve: health, shutdown and persistence across a restart', { timeout: 300_000 }, () => {
  let ws: Workspace;
  let server: RunningServer;
  let clientId: string;
  let clientSecret: string;
  let port: number;

  before(async () => {
    ws = workspace({ TESSERA_MASTER_KEY: newMasterKey() });
    // One fixed port for both runs, so the restarted server has the same (default) issuer.
    port = await freePort();
    server = await serve(ws, { port });
    await ws.json(['tenant', 'create', '--id', 'acme', '--name', 'Acme']);
    const created = await ws.json<{ client_id: string; client_secret: string }>([
      'client',
      'create',
      '--name',
      'Restart',
      '--grant',
      'client_credentials',
      '--grant',
      'refresh_token',
      '--tenant',
      'acme',
    ]);
    clientId = created.client_id;
    clientSecret = created.client_secret;
  });

  test('announces url, issuer and discovery; the default issuer is the bound address', () => {
    assert.deepEqual(Object.keys(server.announced).sort(), ['discovery', 'issuer', 'url']);
    assert.equal(server.url, `http://127.0.0.1:${port}`);
    assert.equal(server.issuer, server.url);
    assert.equal(server.discovery, `${server.issuer}/.well-known/oauth-authorization-server`);
  });

  test('GET /healthz and /readyz answer 200', async () => {
    assert.equal((await getJson(`${server.url}/healthz`)).status, 200);
    assert.equal((await getJson(`${server.url}/readyz`)).status, 200);
    const metadata = await getJson(server.discovery);
    assert.equal(metadata.status, 200);
    assert.equal(metadata.body['issuer'], server.issuer);
  });

  test('refresh token, client secret and signing key survive a restart', async () => {
    const issued = await postForm(`${server.url}/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    assert.equal(issued.status, 200, issued.text);
    const accessToken = issued.body['access_token'] as string;
    const refreshToken = issued.body['refresh_token'] as string;
    assert.equal(typeof refreshToken, 'string');
    const jwksBefore = (await getJson<Jwks>(`${server.url}/.well-known/jwks.json`)).body;

    assert.deepEqual(await server.stop(), { code: 0, signal: null }, 'SIGTERM exits 0');
    const issuer = server.issuer;
    server = await serve(ws, { port });
    assert.equal(server.issuer, issuer);

    const jwksAfter = (await getJson<Jwks>(`${server.url}/.well-known/jwks.json`)).body;
    assert.deepEqual(
      jwksAfter.keys.map((k) => k.kid),
      jwksBefore.keys.map((k) => k.kid),
      'the same signing key is published after the restart',
    );
    // A token signed before the restart verifies against the JWKS served after it.
    const { payload } = await jwtVerify(accessToken, createLocalJWKSet(jwksAfter), {
      issuer,
      audience: issuer,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    assert.equal(payload['client_id'], clientId);

    const refresh = () =>
      postJson(`${server.url}/oauth/token`, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: clientId,
        client_secret: clientSecret,
      });
    const once = await refresh();
    assert.equal(once.status, 200, once.text);
    assert.equal(typeof once.body['refresh_token'], 'string');
    const twice = await refresh();
    assert.equal(twice.status, 400, twice.text);
    assert.equal(twice.body['error'], 'invalid_grant');

    const cc = await postForm(`${server.url}/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    assert.equal(cc.status, 200, cc.text);
  });

  test('SIGTERM exits 0', async () => {
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  });
});

describe(
  'serve: bad options are refused with one line naming the option',
  { timeout: 300_000 },
  () => {
    let ws: Workspace;
    before(() => {
      ws = workspace({ TESSERA_MASTER_KEY: newMasterKey() });
    });

    const cases: { name: string; args: string[]; env?: Record<string, string>; names: RegExp }[] = [
      { name: '--port abc', args: ['serve', '--port', 'abc'], names: /--port/ },
      { name: '--port 70000', args: ['serve', '--port', '70000'], names: /--port/ },
      {
        name: '--issuer http://example.com (http only on loopback)',
        args: ['serve', '--port', '0', '--issuer', 'http://example.com'],
        names: /issuer/,
      },
      {
        name: 'TESSERA_PORT=abc',
        args: ['serve'],
        env: { TESSERA_PORT: 'abc' },
        names: /TESSERA_PORT/,
      },
      {
        name: '--workers 0',
        args: ['serve', '--port', '0', '--workers', '0'],
        names: /--workers/,
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const r = await ws.cli(c.args, c.env ? { env: c.env } : {});
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, '');
        const lines = stderrLines(r.stderr);
        assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
        assert.match(lines[0] ?? '', c.names);
      });
    }

    test('--no-migrate on an empty database fails and exits (the bound port is released)', async () => {
      const empty = workspace({ TESSERA_MASTER_KEY: newMasterKey() });
      const r = await empty.cli(['serve', '--port', '0', '--no-migrate'], { timeoutMs: 60_000 });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.equal(stderrLines(r.stderr).length, 1, r.stderr);
    });

    test('an unknown key in tessera.config.json', async () => {
      const dir = workspace().dir;
      writeFileSync(join(dir, 'tessera.config.json'), JSON.stringify({ prot: 8080 }));
      const r = await ws.cli(['serve', '--port', '0'], { cwd: dir });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      const lines = stderrLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /prot/);
    });
  },
);

describe(
  'serve: configuration precedence flag > env > file > default',
  { timeout: 300_000 },
  () => {
    let ws: Workspace;
    let filePort: number;
    before(async () => {
      ws = workspace({ TESSERA_MASTER_KEY: newMasterKey() });
      filePort = await freePort();
      writeFileSync(
        join(ws.dir, 'tessera.config.json'),
        JSON.stringify({ port: filePort, issuer: 'http://localhost:7001' }),
      );
    });

    const portOf = (url: string): number => Number(new URL(url).port);

    test('the config file beats the defaults', async () => {
      const server = await serve(ws, { port: null });
      assert.equal(portOf(server.url), filePort);
      assert.equal(server.issuer, 'http://localhost:7001');
      assert.equal(
        server.discovery,
        'http://localhost:7001/.well-known/oauth-authorization-server',
      );
      const metadata = await getJson(`${server.url}/.well-known/oauth-authorization-server`);
      assert.equal(metadata.body['issuer'], 'http://localhost:7001');
      await server.stop();
    });

    test('the environment beats the config file', async () => {
      const envPort = await freePort();
      const server = await serve(ws, {
        port: null,
        env: { TESSERA_PORT: String(envPort), TESSERA_ISSUER: 'http://localhost:7002' },
      });
      assert.equal(portOf(server.url), envPort);
      assert.equal(server.issuer, 'http://localhost:7002');
      await server.stop();
    });

    test('flags beat the environment', async () => {
      const envPort = await freePort();
      const flagPort = await freePort();
      const server = await serve(ws, {
        port: flagPort,
        env: { TESSERA_PORT: String(envPort), TESSERA_ISSUER: 'http://localhost:7002' },
        args: ['--issuer', 'http://localhost:7003'],
      });
      assert.equal(portOf(server.url), flagPort);
      assert.equal(server.issuer, 'http://localhost:7003');
      await server.stop();
    });

    test('TESSERA_CONFIG names another config file', async () => {
      const other = join(ws.dir, 'other.json');
      writeFileSync(other, JSON.stringify({ issuer: 'http://localhost:7004' }));
      const server = await serve(ws, { env: { TESSERA_CONFIG: other } });
      assert.equal(server.issuer, 'http://localhost:7004');
      await server.stop();
    });
  },
);
