/**
 * A log capture of a whole flow — login, code, token, refresh, revocation, failures — at the
 * most verbose level holds no secret, password, code or token, and every request line has a
 * request id (an incoming X-Request-Id is kept and echoed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { type RunningServer, getJson, postForm, startServer } from '../helpers/server.js';

const SECRET = 'log-test-secret-0123456789';
const PASSWORD = 'log test password 42';
const REDIRECT = 'https://app.example.com/callback';

function cookieOf(res: Response, name: string): string | undefined {
  for (const c of res.headers.getSetCookie()) if (c.startsWith(`${name}=`)) return c.split(';')[0];
  return undefined;
}

describe('logs', () => {
  let ws: Workspace;
  let server: RunningServer;
  const secrets: string[] = [SECRET, PASSWORD];

  before(async () => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() } });
    await ws.json(['tenant', 'create', '--id', 'acme', '--name', 'Acme']);
    await ws.json(
      ['user', 'create', '--email', 'ann@acme.example', '--tenant', 'acme', '--password-stdin'],
      { stdin: `${PASSWORD}\n` },
    );
    await ws.json(
      [
        'client',
        'create',
        '--name',
        'App',
        '--client-id',
        'app',
        '--grant',
        'authorization_code',
        '--grant',
        'refresh_token',
        '--redirect-uri',
        REDIRECT,
        '--secret-stdin',
      ],
      { stdin: `${SECRET}\n` },
    );
    server = await startServer({
      database: ws.database,
      env: ws.env,
      cwd: ws.dir,
      args: ['--log-level', 'trace'],
    });
  });

  after(async () => {
    await server?.stop();
    ws?.remove();
  });

  test('a full flow at trace level logs no credential and tags every request with its id', async () => {
    const query = new URLSearchParams({
      client_id: 'app',
      redirect_uri: REDIRECT,
      response_type: 'code',
      state: 's1',
    });
    const page = await fetch(`${server.url}/oauth/authorize?${query}`, {
      headers: { 'x-request-id': 'trace-me-1' },
    });
    assert.equal(page.headers.get('x-request-id'), 'trace-me-1');
    const html = await page.text();
    const field = (name: string) =>
      new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
    const csrfCookie = cookieOf(page, 'tessera_csrf') ?? '';
    const login = await fetch(`${server.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
      body: new URLSearchParams({
        txn: field('txn'),
        csrf: field('csrf'),
        email: 'ann@acme.example',
        password: PASSWORD,
      }).toString(),
    });
    assert.equal(login.status, 303);
    const code = new URL(login.headers.get('location') ?? '').searchParams.get('code') ?? '';
    secrets.push(code, cookieOf(login, 'tessera_session')?.split('=')[1] ?? 'no-session');

    const auth = { client_id: 'app', client_secret: SECRET };
    const tokens = await postForm(`${server.url}/oauth/token`, {
      ...auth,
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    assert.equal(tokens.status, 200);
    const { access_token, refresh_token } = tokens.body as {
      access_token: string;
      refresh_token: string;
    };
    secrets.push(access_token, refresh_token);
    const refreshed = await postForm(`${server.url}/oauth/token`, {
      ...auth,
      grant_type: 'refresh_token',
      refresh_token,
    });
    assert.equal(refreshed.status, 200);
    secrets.push(String(refreshed.body['refresh_token']), String(refreshed.body['access_token']));
    // Failures log their reasons; they must not quote what was sent.
    await postForm(`${server.url}/oauth/token`, {
      ...auth,
      grant_type: 'refresh_token',
      refresh_token,
    });
    await postForm(`${server.url}/oauth/token`, {
      client_id: 'app',
      client_secret: `${SECRET}-wrong`,
      grant_type: 'client_credentials',
    });
    await getJson(`${server.url}/oauth/userinfo`, { authorization: `Bearer ${access_token}` });
    await postForm(`${server.url}/oauth/revoke`, {
      ...auth,
      token: String(refreshed.body['refresh_token']),
    });

    const logs = server.stderr();
    const lines = logs.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 10, 'trace level logs every request');
    for (const secret of secrets) {
      assert.ok(secret.length >= 16, 'each credential was captured');
      assert.ok(!logs.includes(secret), `the log contains a credential (${secret.slice(0, 6)}…)`);
    }
    const requestLines = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => 'req' in l || 'res' in l);
    assert.ok(requestLines.length > 0);
    for (const line of requestLines) assert.equal(typeof line['reqId'], 'string');
    assert.ok(requestLines.some((l) => l['reqId'] === 'trace-me-1'));
  });
});
