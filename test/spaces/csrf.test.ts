/**
 * The login CSRF token is signed: the form counts only with a `tessera_csrf` value this server
 * made, and only with the cookie it was made for. A page that can plant cookies for the host
 * (a sibling subdomain) cannot pair a value of its own with itself.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { formState } from '../helpers/html.js';
import {
  CSRF_COOKIE,
  CookieJar,
  SESSION_COOKIE,
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

const random = () => randomBytes(24).toString('base64url');

/** Tokens a cookie-planting page can make without the server's key. */
const forged = {
  'the right shape, a wrong signature': () =>
    `${random()}.v1.${randomBytes(32).toString('base64url')}`,
  'an unsigned 32-character value (the old token)': random,
};

describe('the login CSRF token is signed and bound to its cookie', () => {
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

  async function signedIn(): Promise<CookieJar> {
    const jar = new CookieJar();
    const picker = await submitLogin(
      t,
      jar,
      await browserGet(t, jar, authorizeUrl(query)),
      ann.email,
      ann.password,
    );
    assert.ok(isTenantPicker(picker), picker.body);
    return jar;
  }

  async function stillSignedIn(jar: CookieJar): Promise<boolean> {
    return !isLoginPage(await browserGet(t, jar, authorizeUrl(query)));
  }

  for (const [name, make] of Object.entries(forged)) {
    test(`login with ${name} in both cookie and field: 400 login-expired, no session`, async () => {
      const jar = new CookieJar();
      const { txn } = formState((await browserGet(t, jar, authorizeUrl(query))).body);
      const token = make();
      jar.set(CSRF_COOKIE, token, '/oauth');
      const res = await browserPost(t, jar, '/oauth/authorize', { txn, csrf: token, ...ann });
      assert.equal(res.statusCode, 400, res.body);
      assert.ok(res.body.includes('login-expired'), res.body);
      assert.equal(setCookie(res, SESSION_COOKIE), undefined);
    });

    test(`logout with ${name} in both cookie and field: 403 logout-refused, session kept`, async () => {
      const jar = await signedIn();
      const token = make();
      jar.set(CSRF_COOKIE, token, '/oauth');
      const res = await browserPost(t, jar, '/oauth/logout', { csrf: token });
      assert.equal(res.statusCode, 403, res.body);
      assert.ok(res.body.includes('logout-refused'), res.body);
      assert.equal(setCookie(res, SESSION_COOKIE), undefined);
      assert.ok(await stillSignedIn(jar));
    });

    test(`a page replaces a planted cookie holding ${name}`, async () => {
      const jar = new CookieJar();
      const planted = make();
      jar.set(CSRF_COOKIE, planted, '/oauth');
      const page = await browserGet(t, jar, authorizeUrl(query));
      const { csrf } = formState(page.body);
      assert.notEqual(csrf, planted);
      assert.equal(setCookie(page, CSRF_COOKIE)?.value, csrf);
    });
  }

  test('a genuine token from another browser, with this browser’s own cookie: refused', async () => {
    const mine = new CookieJar();
    const { txn } = formState((await browserGet(t, mine, authorizeUrl(query))).body);
    const theirs = new CookieJar();
    const { csrf } = formState((await browserGet(t, theirs, authorizeUrl(query))).body);
    assert.ok(mine.get(CSRF_COOKIE) && mine.get(CSRF_COOKIE) !== csrf);

    const login = await browserPost(t, mine, '/oauth/authorize', { txn, csrf, ...ann });
    assert.equal(login.statusCode, 400, login.body);
    assert.ok(login.body.includes('login-expired'));

    const jar = await signedIn();
    const logout = await browserPost(t, jar, '/oauth/logout', { csrf });
    assert.equal(logout.statusCode, 403, logout.body);
    assert.ok(await stillSignedIn(jar));
  });
});
