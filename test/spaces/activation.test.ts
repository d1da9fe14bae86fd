/**
 * Cisco Spaces partner-app activation, end to end, exactly as Spaces drives it (DESIGN §1,
 * §3): the browser's authorize request, login and tenant picker, the JSON token request of
 * Spaces' backend, App Info, the signed app launch and the app's own prompt-free sign-in —
 * then every way the authorization_code grant must refuse a code.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type JSONWebKeySet, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { setTelemetry, updateTenant } from '../../src/admin/tenants.js';
import { createUser, disableUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { formState, inputs } from '../helpers/html.js';
import {
  CSRF_COOKIE,
  CookieJar,
  type FakeKeyServer,
  PARTNER_KEY_PATH,
  SESSION_COOKIE,
  assertOAuthError,
  assertPageHeaders,
  authorize,
  authorizeUrl,
  bearerGet,
  browserGet,
  codeOf,
  formTokenRequest,
  isLoginPage,
  jsonTokenRequest,
  launchClaims,
  mintLaunchToken,
  pickerTenants,
  redirectOf,
  rsaKey,
  setCookie,
  startFakeKeyServer,
  submitLogin,
  submitTenant,
} from '../helpers/spaces.js';

const ISSUER = 'http://127.0.0.1:8080';
const SANDBOX = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const LIVE = 'https://dnaspaces.io/partner/OAuthValidation';
const SPACES_SECRET = '31e08c21136c9102cdee';
const APP_URL = 'https://app.acme.example/start';
const APP_CALLBACK = 'https://app.acme.example/callback';

function hexState(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

async function verify(t: TestApp, token: string) {
  const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  const keys = createLocalJWKSet(res.json<JSONWebKeySet>());
  return jwtVerify(token, keys, {
    issuer: ISSUER,
    audience: ISSUER,
    typ: 'at+jwt',
    currentDate: new Date(t.clock.now * 1000),
  });
}

describe('Cisco Spaces activation, end to end', () => {
  let t: TestApp;
  let keyServer: FakeKeyServer;
  let aliceId: string;
  const alice = { email: 'alice@acme.example', password: 'correct horse battery staple' };
  const browser = new CookieJar();
  const state = hexState();
  let code: string;
  let accessToken: string;

  before(async () => {
    keyServer = await startFakeKeyServer([{ version: 1, key: rsaKey(1024) }]);
    t = await createTestApp({ flags: { spacesLaunchAllowedBaseUrls: [keyServer.url] } });
    await t.tenant('acme', 'acme.example.com');
    await t.tenant('globex', 'globex.example.com');
    aliceId = (await createUser(t.deps, { ...alice, tenants: ['acme', 'globex'] })).id;
    await t.client({
      clientId: 'dnaspaces',
      secret: SPACES_SECRET,
      name: 'Cisco Spaces',
      dialect: 'cisco-spaces',
      redirectUris: [SANDBOX],
    });
    await t.client({
      clientId: 'acme-app',
      secret: 'acme-app-secret-0123456789',
      name: 'Acme app',
      grants: ['authorization_code'],
      redirectUris: [APP_CALLBACK],
      tenants: ['acme'],
    });
    await t.client({
      clientId: 'any-app',
      secret: 'any-app-secret-0123456789',
      name: 'An app of no tenant',
      grants: ['authorization_code'],
      redirectUris: [APP_CALLBACK],
    });
  });
  after(async () => {
    await t.close();
    await keyServer.close();
  });

  let loginPage: Awaited<ReturnType<typeof browserGet>>;
  let pickerPage: Awaited<ReturnType<typeof browserGet>>;

  test('Spaces sends the browser to the login URL: a login form, never cached', async () => {
    loginPage = await browserGet(
      t,
      browser,
      authorizeUrl({
        client_id: 'dnaspaces',
        redirect_uri: SANDBOX,
        response_type: 'code',
        state,
      }),
    );
    assert.equal(loginPage.statusCode, 200, loginPage.body);
    assertPageHeaders(loginPage);
    assert.equal(loginPage.headers['location'], undefined);
    const fields = inputs(loginPage.body);
    assert.ok(fields.some((i) => i['name'] === 'email' && i['type'] === 'email'));
    assert.ok(fields.some((i) => i['name'] === 'password' && i['type'] === 'password'));
    assert.match(loginPage.body, /<form method="post" action="\/oauth\/authorize">/);
    const { txn, csrf } = formState(loginPage.body);
    assert.ok(txn.length > 0 && csrf.length > 0);
    const csrfCookie = setCookie(loginPage, CSRF_COOKIE);
    assert.ok(csrfCookie, 'the login page sets the CSRF cookie');
    assert.equal(csrfCookie.value, csrf);
    assert.equal(csrfCookie.attributes['httponly'], true);
    // No session before the password.
    assert.equal(setCookie(loginPage, SESSION_COOKIE), undefined);
    assert.equal((await t.rows('select * from sessions')).length, 0);
  });

  test('the password opens a session; a user of two tenants picks one', async () => {
    pickerPage = await submitLogin(t, browser, loginPage, alice.email, alice.password);
    assert.equal(pickerPage.statusCode, 200, pickerPage.body);
    assertPageHeaders(pickerPage);
    assert.deepEqual(pickerTenants(pickerPage.body), ['acme', 'globex']);
    const session = setCookie(pickerPage, SESSION_COOKIE);
    assert.ok(session, 'the login sets the session cookie');
    assert.equal(session.attributes['httponly'], true);
    assert.equal(session.attributes['samesite'], 'Lax');
    assert.equal(session.attributes['path'], '/');
    assert.equal(session.attributes['secure'], undefined, 'no Secure on an http issuer');
    const rows = await t.rows<{ user_id: string; subject: string; id_hash: string }>(
      'select user_id, subject, id_hash from sessions',
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.user_id, aliceId);
    assert.equal(rows[0]?.subject, aliceId);
    assert.notEqual(rows[0]?.id_hash, session.value, 'the store keeps only a hash of the cookie');
    assert.equal((await t.rows('select * from authorization_codes')).length, 0);
  });

  test('choosing the tenant redirects to Spaces with code, state and iss', async () => {
    const res = await submitTenant(t, browser, pickerPage, 'acme');
    const location = redirectOf(res);
    assert.equal(`${location.origin}${location.pathname}`, SANDBOX);
    assert.deepEqual([...location.searchParams.keys()].sort(), ['code', 'iss', 'state']);
    code = codeOf(location);
    assert.equal(location.searchParams.get('state'), state);
    assert.equal(location.searchParams.get('iss'), ISSUER);
    const rows = await t.rows<Record<string, unknown>>('select * from authorization_codes');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.['client_id'], 'dnaspaces');
    assert.equal(rows[0]?.['user_id'], aliceId);
    assert.equal(rows[0]?.['tenant_id'], 'acme');
    assert.equal(rows[0]?.['state'], state);
    assert.equal(rows[0]?.['redirect_uri'], SANDBOX);
    assert.equal(rows[0]?.['consumed_at'], null);
    assert.notEqual(rows[0]?.['code_hash'], code, 'codes are stored hashed');
  });

  test("Spaces' backend redeems the code with its JSON body: exactly access_token, token_type, scope", async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/json' },
      payload: `{"code":"${code}","grant_type":"authorization_code","state":"${state}","client_id":"dnaspaces","client_secret":"${SPACES_SECRET}","redirect_uri":""}`,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json<Record<string, unknown>>();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'scope', 'token_type']);
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(body['scope'], 'acme');
    accessToken = body['access_token'] as string;
    const { payload, protectedHeader } = await verify(t, accessToken);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, aliceId);
    assert.equal(payload['email'], alice.email);
    assert.equal(payload['tenant_id'], 'acme');
    assert.equal(payload['client_id'], 'dnaspaces');
    const consumed = await t.rows<{ consumed_at: number | null }>(
      'select consumed_at from authorization_codes',
    );
    assert.equal(consumed[0]?.consumed_at, t.clock.now);
  });

  test('App Info answers the token of that tenant, telemetry values as strings', async () => {
    await updateTenant(t.deps, 'acme', { appUrl: APP_URL, supportEmail: 'support@acme.example' });
    await setTelemetry(t.deps, 'acme', {
      type: 'gauge',
      name: 'active_sensors',
      value: '42',
      units: 'sensors',
    });
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', accessToken);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.json(), {
      partnerTenantId: 'acme',
      userEmail: alice.email,
      supportEmail: 'support@acme.example',
      telemetry: [{ type: 'gauge', name: 'active_sensors', value: '42', units: 'sensors' }],
    });
  });

  const customer = new CookieJar();

  test('a launch signed with a 1024-bit Cisco key opens a tenant session and goes to the app', async () => {
    const key = keyServer.keys[0]?.key;
    assert.ok(key);
    const token = mintLaunchToken(key.privateKey, launchClaims('acme', keyServer.url, t.clock.now));
    const res = await t.app.inject({
      method: 'POST',
      url: '/spaces/launch',
      payload: new URLSearchParams({ token, version: '1' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    customer.absorb(res);
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers['location'], APP_URL);
    const session = setCookie(res, SESSION_COOKIE);
    assert.ok(session, 'the launch sets the session cookie');
    assert.equal(session.attributes['httponly'], true);
    assert.equal(session.attributes['samesite'], 'Lax');
    assert.equal(session.attributes['path'], '/');
    assert.deepEqual(keyServer.requests, [PARTNER_KEY_PATH]);
    const rows = await t.rows<{ user_id: string | null; subject: string; tenant_id: string }>(
      "select user_id, subject, tenant_id from sessions where subject like 'spaces:%'",
    );
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      [{ user_id: null, subject: 'spaces:acme', tenant_id: 'acme' }],
    );
  });

  test("the app's own sign-in completes without a login page; sub is spaces:<tenant>", async () => {
    const appState = hexState();
    const res = await browserGet(
      t,
      customer,
      authorizeUrl({
        client_id: 'acme-app',
        redirect_uri: APP_CALLBACK,
        response_type: 'code',
        state: appState,
      }),
    );
    assert.ok(!isLoginPage(res), 'no login page');
    const location = redirectOf(res);
    assert.equal(`${location.origin}${location.pathname}`, APP_CALLBACK);
    assert.equal(location.searchParams.get('state'), appState);
    assert.equal(location.searchParams.get('iss'), ISSUER);
    const tokenRes = await formTokenRequest(t, {
      grant_type: 'authorization_code',
      code: codeOf(location),
      redirect_uri: APP_CALLBACK,
      client_id: 'acme-app',
      client_secret: 'acme-app-secret-0123456789',
    });
    assert.equal(tokenRes.statusCode, 200, tokenRes.body);
    const body = tokenRes.json<Record<string, unknown>>();
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(typeof body['expires_in'], 'number');
    const { payload } = await verify(t, body['access_token'] as string);
    assert.equal(payload.sub, 'spaces:acme');
    assert.equal(payload['tenant_id'], 'acme');
    assert.equal(payload['client_id'], 'acme-app');
    assert.equal(payload['email'], undefined);
  });

  test('the app signs in with OpenID Connect too: an ID Token for spaces:<tenant>, no email claims', async () => {
    const res = await browserGet(
      t,
      customer,
      authorizeUrl({
        client_id: 'acme-app',
        redirect_uri: APP_CALLBACK,
        response_type: 'code',
        scope: 'openid profile email',
        nonce: 'n-launch',
        prompt: 'none',
      }),
    );
    const tokenRes = await formTokenRequest(t, {
      grant_type: 'authorization_code',
      code: codeOf(redirectOf(res)),
      redirect_uri: APP_CALLBACK,
      client_id: 'acme-app',
      client_secret: 'acme-app-secret-0123456789',
    });
    assert.equal(tokenRes.statusCode, 200, tokenRes.body);
    const body = tokenRes.json<Record<string, unknown>>();
    const idToken = decodeJwt(body['id_token'] as string);
    const [session] = await t.rows<{ created_at: number }>(
      "select created_at from sessions where subject = 'spaces:acme'",
    );
    assert.deepEqual(Object.keys(idToken).sort(), [
      'at_hash',
      'aud',
      'auth_time',
      'exp',
      'iat',
      'iss',
      'nonce',
      'sid',
      'sub',
      'tenant_id',
    ]);
    assert.equal(idToken.sub, 'spaces:acme');
    assert.equal(idToken.aud, 'acme-app');
    assert.equal(idToken['tenant_id'], 'acme');
    assert.equal(idToken['nonce'], 'n-launch');
    assert.equal(idToken['auth_time'], session?.created_at);
    const userinfo = await t.app.inject({
      method: 'GET',
      url: '/oauth/userinfo',
      headers: { authorization: `Bearer ${body['access_token'] as string}` },
    });
    assert.equal(userinfo.statusCode, 200, userinfo.body);
    assert.deepEqual(userinfo.json(), { sub: 'spaces:acme', tenant_id: 'acme' });
  });

  test('an OpenID Connect client not bound to the launch tenant gets no prompt-free sign-in', async () => {
    const query = {
      client_id: 'any-app',
      redirect_uri: APP_CALLBACK,
      response_type: 'code',
      scope: 'openid',
      state: 'st-any',
    };
    const quiet = redirectOf(
      await browserGet(t, customer, authorizeUrl({ ...query, prompt: 'none' })),
    );
    assert.equal(quiet.searchParams.get('error'), 'login_required');
    assert.equal(quiet.searchParams.get('state'), 'st-any');
    assert.equal(quiet.searchParams.get('iss'), ISSUER);
    assert.ok(isLoginPage(await browserGet(t, customer, authorizeUrl(query))));
  });

  test('the launch session is for its tenant only: the picker never offers another', async () => {
    // alice's browser (two tenants) still gets a picker; the launch browser never does.
    const res = await browserGet(
      t,
      browser,
      authorizeUrl({ client_id: 'dnaspaces', redirect_uri: SANDBOX, response_type: 'code' }),
    );
    assert.deepEqual(pickerTenants(res.body), ['acme', 'globex']);
    const launched = await browserGet(
      t,
      customer,
      authorizeUrl({ client_id: 'dnaspaces', redirect_uri: SANDBOX, response_type: 'code' }),
    );
    const location = redirectOf(launched);
    const redeemed = await jsonTokenRequest(t, {
      code: codeOf(location),
      grant_type: 'authorization_code',
      client_id: 'dnaspaces',
      client_secret: SPACES_SECRET,
    });
    assert.equal(redeemed.statusCode, 200, redeemed.body);
    assert.equal(redeemed.json<Record<string, unknown>>()['scope'], 'acme');
  });
});

describe('authorization_code grant refusals', () => {
  let t: TestApp;
  const bob = { email: 'bob@acme.example', password: 'bob-password-123' };
  const jar = new CookieJar();
  const WEB = {
    id: 'web',
    secret: 'web-secret-0123456789abcdef',
    redirect: 'https://web.example/cb',
  };
  const OTHER = {
    id: 'other',
    secret: 'other-secret-0123456789abcd',
    redirect: 'https://other.example/cb',
  };
  const SPA = { id: 'spa', redirect: 'https://spa.example/cb' };

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await createUser(t.deps, { ...bob, tenants: ['acme'] });
    await t.client({
      clientId: 'dnaspaces',
      secret: SPACES_SECRET,
      dialect: 'cisco-spaces',
      redirectUris: [SANDBOX],
    });
    await t.client({
      clientId: WEB.id,
      secret: WEB.secret,
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [WEB.redirect],
    });
    await t.client({
      clientId: OTHER.id,
      secret: OTHER.secret,
      grants: ['authorization_code'],
      redirectUris: [OTHER.redirect],
    });
    await t.client({
      clientId: SPA.id,
      public: true,
      grants: ['authorization_code'],
      redirectUris: [SPA.redirect],
    });
  });
  after(() => t.close());

  /** A fresh code for `clientId` (bob logs in once; later codes reuse the session). */
  async function codeFor(
    clientId: string,
    redirectUri: string,
    extra: Record<string, string> = {},
  ): Promise<string> {
    const location = await authorize(
      t,
      jar,
      { client_id: clientId, redirect_uri: redirectUri, response_type: 'code', ...extra },
      bob,
    );
    assert.equal(location.searchParams.get('error'), null, location.href);
    return codeOf(location);
  }

  /** The Spaces backend's JSON body, with overrides (undefined removes a key). */
  function spacesRedeem(
    code: string,
    state: string,
    overrides: Record<string, string | undefined> = {},
  ) {
    const body: Record<string, string | undefined> = {
      code,
      grant_type: 'authorization_code',
      state,
      client_id: 'dnaspaces',
      client_secret: SPACES_SECRET,
      redirect_uri: '',
      ...overrides,
    };
    return jsonTokenRequest(
      t,
      Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >,
    );
  }

  function webRedeem(code: string, extra: Record<string, string> = {}) {
    return formTokenRequest(t, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: WEB.redirect,
      client_id: WEB.id,
      client_secret: WEB.secret,
      ...extra,
    });
  }

  test('wrong client secret → 401 invalid_client, and the code is not spent', async () => {
    const state = hexState();
    const code = await codeFor('dnaspaces', SANDBOX, { state });
    const res = await spacesRedeem(code, state, { client_secret: '31e08c21136c9102cdef' });
    assertOAuthError(res, 401, 'invalid_client');
    assert.equal(
      (await t.rows('select * from authorization_codes where consumed_at is not null')).length,
      0,
    );
    const good = await spacesRedeem(code, state);
    assert.equal(good.statusCode, 200, good.body);
  });

  test('a code is good until codeTtl (300 s) and refused after it', async () => {
    const state = hexState();
    const fresh = await codeFor('dnaspaces', SANDBOX, { state });
    const stale = await codeFor('dnaspaces', SANDBOX, { state });
    t.clock.advance(299);
    assert.equal((await spacesRedeem(fresh, state)).statusCode, 200);
    t.clock.advance(2);
    assertOAuthError(await spacesRedeem(stale, state), 400, 'invalid_grant');
  });

  test('a code is refused from the very second codeTtl ends', async () => {
    const state = hexState();
    const code = await codeFor('dnaspaces', SANDBOX, { state });
    t.clock.advance(300);
    assertOAuthError(await spacesRedeem(code, state), 400, 'invalid_grant');
  });

  test('a replayed code → invalid_grant, and the first redemption’s token is refused everywhere', async () => {
    const state = hexState();
    const code = await codeFor('dnaspaces', SANDBOX, { state });
    const first = await spacesRedeem(code, state);
    assert.equal(first.statusCode, 200, first.body);
    const token = first.json<Record<string, string>>()['access_token'] as string;
    assert.equal(
      (await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token)).statusCode,
      200,
    );
    assert.equal((await bearerGet(t, '/oauth/userinfo', token)).statusCode, 200);

    assertOAuthError(await spacesRedeem(code, state), 400, 'invalid_grant');

    const appInfo = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token);
    assertOAuthError(appInfo, 401, 'invalid_token');
    assert.ok(String(appInfo.headers['www-authenticate']).includes('error="invalid_token"'));
    const userinfo = await bearerGet(t, '/oauth/userinfo', token);
    assertOAuthError(userinfo, 401, 'invalid_token');
  });

  test('a replayed code revokes the refresh token of the first redemption', async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    const first = await webRedeem(code);
    assert.equal(first.statusCode, 200, first.body);
    const body = first.json<Record<string, unknown>>();
    const access = body['access_token'] as string;
    const refresh = body['refresh_token'] as string;
    assert.equal(typeof refresh, 'string');
    assert.equal((await bearerGet(t, '/oauth/userinfo', access)).statusCode, 200);

    assertOAuthError(await webRedeem(code), 400, 'invalid_grant');

    assertOAuthError(await bearerGet(t, '/oauth/userinfo', access), 401, 'invalid_token');
    const refreshed = await formTokenRequest(t, {
      grant_type: 'refresh_token',
      refresh_token: refresh,
      client_id: WEB.id,
      client_secret: WEB.secret,
    });
    assertOAuthError(refreshed, 400, 'invalid_grant');
  });

  test('a used code replayed after it expired still revokes what it issued', async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    const first = await webRedeem(code);
    assert.equal(first.statusCode, 200, first.body);
    const access = first.json<Record<string, string>>()['access_token'] as string;
    t.clock.advance(301);
    assert.equal((await bearerGet(t, '/oauth/userinfo', access)).statusCode, 200);
    assertOAuthError(await webRedeem(code), 400, 'invalid_grant');
    assertOAuthError(await bearerGet(t, '/oauth/userinfo', access), 401, 'invalid_token');
  });

  test('50 parallel redemptions of one code: exactly one succeeds, and its token is then revoked', async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    const results = await Promise.all(Array.from({ length: 50 }, () => webRedeem(code)));
    const won = results.filter((r) => r.statusCode === 200);
    const lost = results.filter((r) => r.statusCode !== 200);
    assert.equal(won.length, 1);
    assert.equal(lost.length, 49);
    for (const r of lost) assertOAuthError(r, 400, 'invalid_grant');
    const access = won[0]?.json<Record<string, string>>()['access_token'];
    assert.ok(access);
    assertOAuthError(await bearerGet(t, '/oauth/userinfo', access), 401, 'invalid_token');
  });

  /** The stored code's `consumed_at`: null while it can still be redeemed. */
  async function consumedAt(code: string): Promise<unknown> {
    const [row] = await t.rows<{ consumed_at: unknown }>(
      'select consumed_at from authorization_codes where code_hash = ?',
      t.deps.crypto.hashSecret(code),
    );
    assert.ok(row, 'the code is stored');
    return row.consumed_at;
  }

  /** OTHER presents `code` with everything else as WEB would send it. */
  function otherRedeem(code: string) {
    return webRedeem(code, { client_id: OTHER.id, client_secret: OTHER.secret });
  }

  /** The access token still works at userinfo and the refresh token still refreshes. */
  async function assertLive(body: Record<string, unknown>): Promise<void> {
    const access = body['access_token'] as string;
    assert.equal((await bearerGet(t, '/oauth/userinfo', access)).statusCode, 200);
    const refreshed = await formTokenRequest(t, {
      grant_type: 'refresh_token',
      refresh_token: body['refresh_token'] as string,
      client_id: WEB.id,
      client_secret: WEB.secret,
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
  }

  test("another client's unused code → invalid_grant; it stays unspent and its client redeems it", async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    assertOAuthError(await otherRedeem(code), 400, 'invalid_grant');
    assertOAuthError(
      await webRedeem(code, {
        client_id: OTHER.id,
        client_secret: OTHER.secret,
        redirect_uri: OTHER.redirect,
      }),
      400,
      'invalid_grant',
    );
    assert.equal(await consumedAt(code), null);
    const own = await webRedeem(code);
    assert.equal(own.statusCode, 200, own.body);
    await assertLive(own.json());
  });

  test("another client replaying a used code → invalid_grant, and the first redemption's tokens stay live", async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    const first = await webRedeem(code);
    assert.equal(first.statusCode, 200, first.body);
    const replays = async () =>
      (await t.rows("select * from audit_events where type = 'code.replayed'")).length;
    const before = await replays();
    assertOAuthError(await otherRedeem(code), 400, 'invalid_grant');
    assert.equal(await replays(), before, 'no replay is recorded for a stranger');
    await assertLive(first.json());
  });

  test('a wrong verifier, redirect_uri or state from its own client does not spend the code', async () => {
    const state = hexState();
    const verifier = randomBytes(32).toString('base64url');
    const code = await codeFor(WEB.id, WEB.redirect, {
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const right = { state, code_verifier: verifier };
    for (const wrong of [
      { code_verifier: randomBytes(32).toString('base64url') },
      { code_verifier: undefined },
      { redirect_uri: 'https://web.example/other' },
      { state: hexState() },
    ]) {
      const extra = Object.fromEntries(
        Object.entries({ ...right, ...wrong }).filter(([, v]) => v !== undefined),
      ) as Record<string, string>;
      assertOAuthError(await webRedeem(code, extra), 400, 'invalid_grant');
      assert.equal(await consumedAt(code), null, JSON.stringify(wrong));
    }
    const redeemed = await webRedeem(code, right);
    assert.equal(redeemed.statusCode, 200, redeemed.body);
    await assertLive(redeemed.json());
  });

  test('a resource the client may not ask for → invalid_target, and the code is not spent', async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    assertOAuthError(
      await webRedeem(code, { resource: 'https://elsewhere.example' }),
      400,
      'invalid_target',
    );
    assert.equal(await consumedAt(code), null);
    const redeemed = await webRedeem(code);
    assert.equal(redeemed.statusCode, 200, redeemed.body);
    await assertLive(redeemed.json());
  });

  test('a user disabled since the code was issued → invalid_grant, and the code is not spent', async () => {
    const carol = { email: 'carol@acme.example', password: 'carol-password-123' };
    await createUser(t.deps, { ...carol, tenants: ['acme'] });
    const location = await authorize(
      t,
      new CookieJar(),
      { client_id: WEB.id, redirect_uri: WEB.redirect, response_type: 'code' },
      carol,
    );
    const code = codeOf(location);
    await disableUser(t.deps, carol.email);
    assertOAuthError(await webRedeem(code), 400, 'invalid_grant');
    assert.equal(await consumedAt(code), null);
  });

  test("a public client's used code replayed without its verifier revokes nothing; with it, the grant", async () => {
    const verifier = randomBytes(32).toString('base64url');
    const code = await codeFor(SPA.id, SPA.redirect, {
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    // Anyone can name a public client: only the verifier shows the request is the client's.
    const spaRedeem = (extra: Record<string, string>) =>
      formTokenRequest(t, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: SPA.redirect,
        client_id: SPA.id,
        ...extra,
      });
    const first = await spaRedeem({ code_verifier: verifier });
    assert.equal(first.statusCode, 200, first.body);
    const access = first.json<Record<string, string>>()['access_token'] as string;
    assertOAuthError(await spaRedeem({}), 400, 'invalid_grant');
    assertOAuthError(
      await spaRedeem({ code_verifier: randomBytes(32).toString('base64url') }),
      400,
      'invalid_grant',
    );
    assert.equal((await bearerGet(t, '/oauth/userinfo', access)).statusCode, 200);
    assertOAuthError(await spaRedeem({ code_verifier: verifier }), 400, 'invalid_grant');
    assertOAuthError(await bearerGet(t, '/oauth/userinfo', access), 401, 'invalid_token');
  });

  test('a non-empty different redirect_uri → invalid_grant, even in the cisco-spaces dialect', async () => {
    const state = hexState();
    const code = await codeFor('dnaspaces', SANDBOX, { state });
    assertOAuthError(await spacesRedeem(code, state, { redirect_uri: LIVE }), 400, 'invalid_grant');
    const webCode = await codeFor(WEB.id, WEB.redirect);
    assertOAuthError(
      await webRedeem(webCode, { redirect_uri: 'https://web.example/other' }),
      400,
      'invalid_grant',
    );
  });

  test('cisco-spaces: redirect_uri "" or absent uses the bound one; the exact one works too', async () => {
    for (const redirect of ['', undefined, SANDBOX]) {
      const state = hexState();
      const code = await codeFor('dnaspaces', SANDBOX, { state });
      const res = await spacesRedeem(code, state, { redirect_uri: redirect });
      assert.equal(res.statusCode, 200, `${String(redirect)}: ${res.body}`);
    }
  });

  test('standard dialect without redirect_uri → invalid_request', async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    const res = await formTokenRequest(t, {
      grant_type: 'authorization_code',
      code,
      client_id: WEB.id,
      client_secret: WEB.secret,
    });
    assertOAuthError(res, 400, 'invalid_request');
  });

  test('a state that differs from the bound one → invalid_grant', async () => {
    const state = hexState();
    const code = await codeFor('dnaspaces', SANDBOX, { state });
    assertOAuthError(await spacesRedeem(code, hexState()), 400, 'invalid_grant');
  });

  test('PKCE: a missing or wrong verifier → invalid_grant; the right one succeeds', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const pkce = { code_challenge: challenge, code_challenge_method: 'S256' };

    assertOAuthError(
      await webRedeem(await codeFor(WEB.id, WEB.redirect, pkce)),
      400,
      'invalid_grant',
    );
    const wrong = randomBytes(32).toString('base64url');
    assertOAuthError(
      await webRedeem(await codeFor(WEB.id, WEB.redirect, pkce), { code_verifier: wrong }),
      400,
      'invalid_grant',
    );
    const ok = await webRedeem(await codeFor(WEB.id, WEB.redirect, pkce), {
      code_verifier: verifier,
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const claims = decodeJwt(ok.json<Record<string, string>>()['access_token'] as string);
    assert.equal(claims['client_id'], WEB.id);
  });

  test('a verifier sent for a code issued without a challenge → invalid_grant', async () => {
    const code = await codeFor(WEB.id, WEB.redirect);
    const res = await webRedeem(code, { code_verifier: randomBytes(32).toString('base64url') });
    assertOAuthError(res, 400, 'invalid_grant');
  });

  test('a public client redeems with client_id and the PKCE verifier only', async () => {
    const verifier = randomBytes(48).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const code = await codeFor(SPA.id, SPA.redirect, {
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const res = await formTokenRequest(t, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: SPA.redirect,
      client_id: SPA.id,
      code_verifier: verifier,
    });
    assert.equal(res.statusCode, 200, res.body);
  });
});
