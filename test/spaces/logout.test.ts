/**
 * `POST /oauth/logout` ends the login session only with the CSRF token of a Tessera page
 * (DESIGN §3): a cross-site form can make the browser post, but cannot read the token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { formState } from '../helpers/html.js';
import {
  CSRF_COOKIE,
  CookieJar,
  SESSION_COOKIE,
  assertPageHeaders,
  authorizeUrl,
  browserGet,
  browserPost,
  isLoginPage,
  isTenantPicker,
  setCookie,
  submitLogin,
} from '../helpers/spaces.js';

const REDIRECT = 'https://app.example/cb';
const ann = { email: 'ann@acme.example', password: 'correct horse battery' };
const query = { client_id: 'web', redirect_uri: REDIRECT, response_type: 'code' };

describe('POST /oauth/logout needs the page’s CSRF token', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await t.tenant('globex');
    await createUser(t.deps, { ...ann, tenants: ['acme', 'globex'] });
    await t.client({
      clientId: 'web',
      secret: 'web-secret-0123456789',
      grants: ['authorization_code'],
      redirectUris: [REDIRECT],
    });
  });
  after(() => t.close());

  /** Signs ann in; returns the jar and the tenant picker page she lands on (it has the token). */
  async function signedIn() {
    const jar = new CookieJar();
    const login = await browserGet(t, jar, authorizeUrl(query));
    assert.ok(isLoginPage(login));
    const picker = await submitLogin(t, jar, login, ann.email, ann.password);
    assert.ok(isTenantPicker(picker), picker.body);
    assert.ok(jar.get(SESSION_COOKIE));
    return { jar, csrf: formState(picker.body).csrf };
  }

  async function stillSignedIn(jar: CookieJar): Promise<boolean> {
    return !isLoginPage(await browserGet(t, jar, authorizeUrl(query)));
  }

  async function revokedSessions(): Promise<number> {
    const rows = await t.rows<{ n: number }>(
      'SELECT COUNT(*) AS n FROM sessions WHERE revoked_at IS NOT NULL',
    );
    return Number(rows[0]?.n);
  }

  for (const [name, payload] of [
    ['no token (a cross-site form)', ''],
    ['a wrong token', `csrf=${'A'.repeat(32)}`],
    ['an empty token', 'csrf='],
    ['a token given twice', 'csrf=x&csrf=y'],
  ] as const) {
    test(`${name}: 403 page, the session stays`, async () => {
      const { jar } = await signedIn();
      const before = await revokedSessions();
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/logout',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: jar.header('/oauth/logout') ?? '',
        },
        payload,
      });
      assert.equal(res.statusCode, 403, res.body);
      assertPageHeaders(res);
      assert.ok(res.body.includes('logout-refused'), res.body);
      assert.equal(setCookie(res, SESSION_COOKIE), undefined, 'the session cookie is kept');
      assert.equal(await revokedSessions(), before);
      assert.ok(await stillSignedIn(jar));
    });
  }

  test('the token without its cookie (another browser’s token): refused', async () => {
    const { jar } = await signedIn();
    const other = await signedIn();
    jar.delete(CSRF_COOKIE);
    const res = await browserPost(t, jar, '/oauth/logout', { csrf: other.csrf });
    assert.equal(res.statusCode, 403);
    assert.ok(await stillSignedIn(jar));
  });

  test('the page’s token: 200 signed-out page, cookie cleared, session ended on the server', async () => {
    const { jar, csrf } = await signedIn();
    const oldCookie = jar.get(SESSION_COOKIE) as string;
    const before = await revokedSessions();
    const res = await browserPost(t, jar, '/oauth/logout', { csrf });
    assert.equal(res.statusCode, 200, res.body);
    assertPageHeaders(res);
    assert.ok(res.body.includes('signed-out'));
    assert.equal(setCookie(res, SESSION_COOKIE)?.value, '');
    assert.equal(await revokedSessions(), before + 1);
    assert.ok(!(await stillSignedIn(jar)));
    jar.set(SESSION_COOKIE, oldCookie);
    assert.ok(!(await stillSignedIn(jar)), 'the old cookie no longer works');
  });

  test('the login page’s token works before any sign-in too (nothing to end)', async () => {
    const jar = new CookieJar();
    const login = await browserGet(t, jar, authorizeUrl(query));
    const res = await browserPost(t, jar, '/oauth/logout', { csrf: formState(login.body).csrf });
    assert.equal(res.statusCode, 200);
  });
});
