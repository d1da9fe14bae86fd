/**
 * A log capture of a whole flow — login, code, token, refresh, revocation, failures — at the
 * most verbose level holds no secret, password, code or token, and every request line has a
 * request id (an incoming X-Request-Id is kept and echoed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { cookieOf } from '../helpers/html.js';
import { type WebApp, loginForm, postLogin, seedWebApp } from '../helpers/login.js';
import { type RunningServer, getJson, postForm, startServer } from '../helpers/server.js';

const SECRET = 'log-test-secret-0123456789';
const APP: WebApp = {
  clientId: 'app',
  redirectUri: 'https://app.example.com/callback',
  email: 'ann@acme.example',
  password: 'log test password 42',
};
const PASSWORD = APP.password;
const REDIRECT = APP.redirectUri;

describe('logs', () => {
  let ws: Workspace;
  let server: RunningServer;
  const secrets: string[] = [SECRET, PASSWORD];

  before(async () => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() } });
    await seedWebApp(ws, APP, { grants: ['authorization_code', 'refresh_token'], secret: SECRET });
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
    const form = await loginForm(server.url, APP, { 'x-request-id': 'trace-me-1' });
    assert.equal(form.page.headers.get('x-request-id'), 'trace-me-1');
    const login = await postLogin(server.url, form);
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
