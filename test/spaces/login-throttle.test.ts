/**
 * Failed logins are throttled per account (the email as typed) and per IP; a lockout looks
 * the same whether or not the account exists, and every outcome is in the audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listAudit } from '../../src/admin/audit.js';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  CookieJar,
  SESSION_COOKIE,
  authorizeUrl,
  browserGet,
  isLoginPage,
  redirectOf,
  setCookie,
  submitLogin,
} from '../helpers/spaces.js';

const REDIRECT = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const PASSWORD = 'correct horse battery';

function errorText(html: string): string {
  return /<p class="error"[^>]*>([^<]*)<\/p>/.exec(html)?.[1] ?? '';
}

describe('login throttling', () => {
  let t: TestApp;
  const query = {
    client_id: 'dnaspaces',
    redirect_uri: REDIRECT,
    response_type: 'code',
    state: 'abc',
  };

  before(async () => {
    t = await createTestApp({
      flags: { loginFailureLimit: 3, loginIpFailureLimit: 100, throttleWindow: 600 },
    });
    await t.tenant('acme');
    await createUser(t.deps, { email: 'ann@acme.example', tenants: ['acme'], password: PASSWORD });
    await t.client({
      clientId: 'dnaspaces',
      secret: '31e08c21136c9102cdee',
      dialect: 'cisco-spaces',
      redirectUris: [REDIRECT],
    });
  });
  after(() => t.close());

  async function tryLogin(email: string, password: string) {
    const jar = new CookieJar();
    const page = await browserGet(t, jar, authorizeUrl(query));
    assert.ok(isLoginPage(page));
    return submitLogin(t, jar, page, email, password);
  }

  test('the limit-th failure locks the account: 429, Retry-After, a wait message, no session', async () => {
    assert.equal((await tryLogin('ann@acme.example', 'wrong-1')).statusCode, 401);
    assert.equal((await tryLogin('ann@acme.example', 'wrong-2')).statusCode, 401);
    const third = await tryLogin('ann@acme.example', 'wrong-3');
    assert.equal(third.statusCode, 429);
    assert.equal(third.headers['retry-after'], '600');
    assert.match(errorText(third.body), /Too many sign-in attempts\. Please wait 10 minute\(s\)/);
    assert.equal(setCookie(third, SESSION_COOKIE), undefined);
  });

  test('while locked, even the right password is refused', async () => {
    const res = await tryLogin('ann@acme.example', PASSWORD);
    assert.equal(res.statusCode, 429);
    assert.equal(setCookie(res, SESSION_COOKIE), undefined);
  });

  test('an email with no account locks the same way, so a lockout reveals nothing', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await tryLogin('ghost@acme.example', `guess-${i}`)).statusCode);
    assert.deepEqual(statuses, [401, 401, 429, 429]);
  });

  test('every outcome is audited, with the reason the page does not give', async () => {
    const failed = await listAudit(t.deps, { type: 'login.failed' });
    assert.deepEqual(
      failed.map((e) => e.reason),
      [
        'wrong password',
        'wrong password',
        'wrong password',
        'no account with this email',
        'no account with this email',
        'no account with this email',
      ],
    );
    assert.equal((await listAudit(t.deps, { type: 'login.locked' })).length, 2);
  });

  test('after the window the account signs in again', async () => {
    t.clock.advance(601);
    const res = await tryLogin('ann@acme.example', PASSWORD);
    assert.equal(res.statusCode, 303);
    assert.equal(redirectOf(res).origin + redirectOf(res).pathname, REDIRECT);
    const succeeded = await listAudit(t.deps, { type: 'login.succeeded' });
    assert.equal(succeeded.length, 1);
    assert.equal(succeeded[0]?.client_id, 'dnaspaces');
  });
});
