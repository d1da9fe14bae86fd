/**
 * A log capture of a whole flow — login, code, token, refresh, revocation, failures, and the
 * account mail: an invitation's link, a new password set through it, a forgot request and a
 * send that fails — at the most verbose level holds no secret, password, code, token or
 * account link, and every request line has a request id (an incoming X-Request-Id is kept
 * and echoed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { Browser } from '../helpers/browser.js';
import { cookieOf, inputs } from '../helpers/html.js';
import { type MailCatcher, linkIn, startMailCatcher } from '../helpers/smtp.js';
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
  let smtp: MailCatcher;
  const secrets: string[] = [SECRET, PASSWORD];

  before(async () => {
    smtp = await startMailCatcher();
    ws = createWorkspace({
      env: {
        TESSERA_MASTER_KEY: newMasterKey(),
        TESSERA_SMTP_URL: smtp.url,
        TESSERA_MAIL_POLL_INTERVAL: '0.05',
      },
    });
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
    await smtp?.stop();
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

    // Account mail: an invitation, its link opened and used, a forgot request.
    const invited = await ws.cli([
      'user',
      'invite',
      '--email',
      'ivy@acme.example',
      '--tenant',
      'acme',
    ]);
    assert.equal(invited.code, 0, invited.stderr);
    const link = linkIn((await smtp.next()).text);
    secrets.push(link.searchParams.get('token') ?? '', 'ivy chose this password');
    const browser = new Browser(server.url);
    const page = await browser.get(`${link.pathname}${link.search}`);
    const hidden = Object.fromEntries(inputs(page.body).map((i) => [i['name'], i['value']]));
    const set = await browser.post(
      {
        csrf: hidden['csrf'] ?? '',
        token: hidden['token'] ?? '',
        password: 'ivy chose this password',
        password_confirm: 'ivy chose this password',
      },
      '/account/setup',
    );
    assert.equal(set.status, 200);
    const forgot = await browser.get('/account/forgot');
    const csrf = inputs(forgot.body).find((i) => i['name'] === 'csrf')?.['value'] ?? '';
    await browser.post({ csrf, email: 'ivy@acme.example' }, '/account/forgot');
    secrets.push(linkIn((await smtp.next()).text).searchParams.get('token') ?? '');
    // A send that fails is logged with its reason, not with the link it carried.
    await smtp.stop();
    await browser.post({ csrf, email: 'ivy@acme.example' }, '/account/forgot');
    const deadline = Date.now() + 10_000;
    while (!server.stderr().includes('account mail will be retried') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(server.stderr().includes('account mail will be retried'));

    const logs = server.stderr();
    const lines = logs.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 10, 'trace level logs every request');
    for (const secret of secrets) {
      assert.ok(secret.length >= 16, 'each credential was captured');
      assert.ok(!logs.includes(secret), `the log contains a credential (${secret.slice(0, 6)}…)`);
    }
    assert.doesNotMatch(logs, /account\/(setup|reset)\?token=/, 'no account link, sent or not');
    const requestLines = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => 'req' in l || 'res' in l);
    assert.ok(requestLines.length > 0);
    for (const line of requestLines) assert.equal(typeof line['reqId'], 'string');
    assert.ok(requestLines.some((l) => l['reqId'] === 'trace-me-1'));
  });
});
