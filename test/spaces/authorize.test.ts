/**
 * The authorization endpoint and its login (DESIGN §3 "Authorization endpoint and login"):
 * the configuration-mismatch page that never redirects, errors redirected with `state` and
 * `iss`, PKCE rules, the login form (generic failures, CSRF, sealed transaction), the login
 * session (reuse, `prompt=login`, logout, cookie attributes) and tenant selection.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { createUser, disableUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import type { AuthorizationRequest } from '../../src/oauth/authorize/request.js';
import { openTransaction, sealTransaction } from '../../src/oauth/authorize/transaction.js';
import { formState } from '../helpers/html.js';
import {
  CSRF_COOKIE,
  CookieJar,
  SESSION_COOKIE,
  assertOAuthError,
  assertPageHeaders,
  authorize,
  authorizeUrl,
  browserGet,
  browserPost,
  codeOf,
  formTokenRequest,
  isLoginPage,
  isTenantPicker,
  jsonTokenRequest,
  pickerTenants,
  redirectOf,
  setCookie,
  submitLogin,
  submitTenant,
} from '../helpers/spaces.js';

const ISSUER = 'http://127.0.0.1:8080';
const SANDBOX = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const SPACES_SECRET = '31e08c21136c9102cdee';
const BOUND = {
  id: 'bound-a',
  secret: 'bound-a-secret-0123456789',
  redirect: 'https://bound.example/cb',
};
const SPA = { id: 'spa', redirect: 'https://spa.example/cb' };
const CC = { id: 'cc-only', redirect: 'https://cc.example/cb' };

const alice = { email: 'alice@acme.example', password: 'alice-password-1' };
const bob = { email: 'bob@acme.example', password: 'bob-password-123' };
const carol = { email: 'carol@acme.example', password: 'carol-password-1' };
const dave = { email: 'dave@initech.example', password: 'dave-password-12' };

function hexState(): string {
  return randomBytes(16).toString('hex');
}

function spacesQuery(extra: Record<string, string> = {}): Record<string, string> {
  return { client_id: 'dnaspaces', redirect_uri: SANDBOX, response_type: 'code', ...extra };
}

/** The text of the page's error paragraph (the login failure message). */
function errorMessage(body: string): string {
  const m = /<p class="error"[^>]*>([\s\S]*?)<\/p>/.exec(body);
  assert.ok(m, 'the page shows an error message');
  return (m[1] as string).trim();
}

/** A 400 configuration-mismatch page that names `field` and redirects nowhere. */
function assertMismatch(
  res: Awaited<ReturnType<typeof browserGet>>,
  field: 'client_id' | 'redirect_uri',
): void {
  assert.equal(res.statusCode, 400, res.body);
  assertPageHeaders(res);
  assert.equal(res.headers['location'], undefined);
  assert.ok(res.body.includes('configuration-mismatch'), res.body);
  assert.ok(res.body.includes(field), res.body);
  assert.ok(!res.body.includes('name="password"'), 'no login form on a mismatch');
}

/** A 303 error redirect to `redirectUri` with exactly `error`, `error_description`, `state`, `iss`. */
function assertErrorRedirect(
  res: Awaited<ReturnType<typeof browserGet>>,
  redirectUri: string,
  error: string,
  state: string | undefined,
): void {
  const location = redirectOf(res);
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('error'), error, location.href);
  assert.equal(location.searchParams.get('state'), state ?? null);
  assert.equal(location.searchParams.get('iss'), ISSUER);
  assert.equal(location.searchParams.get('code'), null);
}

describe('authorization endpoint', () => {
  let t: TestApp;
  let aliceId: string;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await t.tenant('globex');
    await t.tenant('initech');
    aliceId = (await createUser(t.deps, { ...alice, tenants: ['acme', 'globex'] })).id;
    await createUser(t.deps, { ...bob, tenants: ['acme'] });
    await createUser(t.deps, { ...carol, tenants: ['acme'] });
    await disableUser(t.deps, carol.email);
    await createUser(t.deps, { ...dave, tenants: ['initech'] });
    await t.client({
      clientId: 'dnaspaces',
      secret: SPACES_SECRET,
      name: 'Cisco Spaces',
      dialect: 'cisco-spaces',
      redirectUris: [SANDBOX],
    });
    await t.client({
      clientId: BOUND.id,
      secret: BOUND.secret,
      grants: ['authorization_code'],
      redirectUris: [BOUND.redirect],
      tenants: ['acme'],
    });
    await t.client({
      clientId: SPA.id,
      public: true,
      grants: ['authorization_code'],
      redirectUris: [SPA.redirect],
    });
    await t.client({
      clientId: CC.id,
      grants: ['client_credentials'],
      redirectUris: [CC.redirect],
      tenants: ['acme'],
    });
  });
  after(() => t.close());

  describe('configuration mismatch: a page, never a redirect', () => {
    test('unknown client_id', async () => {
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl(spacesQuery({ client_id: 'no-such-client', state: hexState() })),
      );
      assertMismatch(res, 'client_id');
      assert.ok(res.body.includes('no-such-client'));
    });

    test('what the request says is escaped on the page', async () => {
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl(spacesQuery({ client_id: '<script>alert(1)</script>' })),
      );
      assertMismatch(res, 'client_id');
      assert.ok(!res.body.includes('<script>'), res.body);
      assert.ok(res.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    });

    test('missing client_id', async () => {
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl({ redirect_uri: SANDBOX, response_type: 'code' }),
      );
      assertMismatch(res, 'client_id');
    });

    test('an unregistered redirect URI of another host', async () => {
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl(spacesQuery({ redirect_uri: 'https://evil.example/cb' })),
      );
      assertMismatch(res, 'redirect_uri');
    });

    test('a repeated client_id or redirect_uri', async () => {
      const state = hexState();
      const res = await browserGet(
        t,
        new CookieJar(),
        `/oauth/authorize?client_id=dnaspaces&client_id=other&redirect_uri=${encodeURIComponent(SANDBOX)}&response_type=code&state=${state}`,
      );
      assertMismatch(res, 'client_id');
      const res2 = await browserGet(
        t,
        new CookieJar(),
        `/oauth/authorize?client_id=dnaspaces&redirect_uri=${encodeURIComponent(SANDBOX)}&redirect_uri=${encodeURIComponent(SANDBOX)}&response_type=code`,
      );
      assertMismatch(res2, 'redirect_uri');
    });
  });

  describe('errors after the client is trusted go back by redirect', () => {
    test('missing response_type → invalid_request', async () => {
      const state = hexState();
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl({ client_id: 'dnaspaces', redirect_uri: SANDBOX, state }),
      );
      assertErrorRedirect(res, SANDBOX, 'invalid_request', state);
    });

    test('response_type=token → unsupported_response_type', async () => {
      const state = hexState();
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl(spacesQuery({ response_type: 'token', state })),
      );
      assertErrorRedirect(res, SANDBOX, 'unsupported_response_type', state);
    });

    test('a repeated state → invalid_request', async () => {
      const res = await browserGet(
        t,
        new CookieJar(),
        `/oauth/authorize?client_id=dnaspaces&redirect_uri=${encodeURIComponent(SANDBOX)}&response_type=code&state=a&state=b`,
      );
      const location = redirectOf(res);
      assert.equal(`${location.origin}${location.pathname}`, SANDBOX);
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.equal(location.searchParams.get('iss'), ISSUER);
    });

    test('a client without the authorization_code grant → unauthorized_client', async () => {
      const state = hexState();
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl({ client_id: CC.id, redirect_uri: CC.redirect, response_type: 'code', state }),
      );
      assertErrorRedirect(res, CC.redirect, 'unauthorized_client', state);
    });

    test('a public client without code_challenge → invalid_request', async () => {
      const state = hexState();
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl({
          client_id: SPA.id,
          redirect_uri: SPA.redirect,
          response_type: 'code',
          state,
        }),
      );
      assertErrorRedirect(res, SPA.redirect, 'invalid_request', state);
    });

    test('code_challenge_method=plain → invalid_request', async () => {
      const state = hexState();
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl({
          client_id: SPA.id,
          redirect_uri: SPA.redirect,
          response_type: 'code',
          state,
          code_challenge: randomBytes(32).toString('base64url'),
          code_challenge_method: 'plain',
        }),
      );
      assertErrorRedirect(res, SPA.redirect, 'invalid_request', state);
    });

    test('a public client with an S256 challenge gets the login page', async () => {
      const res = await browserGet(
        t,
        new CookieJar(),
        authorizeUrl({
          client_id: SPA.id,
          redirect_uri: SPA.redirect,
          response_type: 'code',
          code_challenge: randomBytes(32).toString('base64url'),
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(res.statusCode, 200);
      assert.ok(isLoginPage(res));
    });
  });

  describe('login form', () => {
    test('a wrong password and an unknown email get the same generic 401 page', async () => {
      const sessionsBefore = (await t.rows('select * from sessions')).length;
      const jar = new CookieJar();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state: hexState() })));
      const wrong = await submitLogin(t, jar, page, bob.email, 'not-the-password');
      assert.equal(wrong.statusCode, 401);
      assertPageHeaders(wrong);
      assert.ok(isLoginPage(wrong), 'the form is shown again');
      assert.equal(setCookie(wrong, SESSION_COOKIE), undefined);

      const unknown = await submitLogin(t, jar, wrong, 'nobody@acme.example', 'not-the-password');
      assert.equal(unknown.statusCode, 401);
      assert.ok(isLoginPage(unknown));
      assert.equal(setCookie(unknown, SESSION_COOKIE), undefined);

      assert.equal(errorMessage(wrong.body), errorMessage(unknown.body));
      assert.ok(!/not found|no such|unknown|exist/i.test(errorMessage(wrong.body)));
      assert.equal(
        (await t.rows('select * from sessions')).length,
        sessionsBefore,
        'no session opened',
      );
    });

    test('a disabled user cannot log in, and gets the same message', async () => {
      const jar = new CookieJar();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery()));
      const disabled = await submitLogin(t, jar, page, carol.email, carol.password);
      assert.equal(disabled.statusCode, 401);
      assert.ok(isLoginPage(disabled));
      assert.equal(setCookie(disabled, SESSION_COOKIE), undefined);
      const wrong = await submitLogin(t, jar, disabled, bob.email, 'not-the-password');
      assert.equal(errorMessage(disabled.body), errorMessage(wrong.body));
    });

    test('a CSRF token that is wrong, missing, or without its cookie → 400 page, no code', async () => {
      const before = (await t.rows('select * from authorization_codes')).length;
      const jar = new CookieJar();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state: hexState() })));
      const { txn, csrf } = formState(page.body);
      const attempts: [CookieJar, Record<string, string>][] = [
        [jar, { txn, csrf: `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`, ...bob }],
        [jar, { txn, ...bob }],
        [new CookieJar(), { txn, csrf, ...bob }],
      ];
      for (const [cookies, form] of attempts) {
        const res = await browserPost(t, cookies, '/oauth/authorize', form);
        assert.equal(res.statusCode, 400, res.body);
        assertPageHeaders(res);
        assert.equal(res.headers['location'], undefined);
        assert.equal(setCookie(res, SESSION_COOKIE), undefined);
        assert.ok(!isLoginPage(res));
      }
      assert.equal((await t.rows('select * from authorization_codes')).length, before);
    });

    test('a tampered transaction → 400 page', async () => {
      const jar = new CookieJar();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state: hexState() })));
      const { txn, csrf } = formState(page.body);
      const i = Math.floor(txn.length / 2);
      const flipped = `${txn.slice(0, i)}${txn[i] === 'A' ? 'B' : 'A'}${txn.slice(i + 1)}`;
      const res = await browserPost(t, jar, '/oauth/authorize', { txn: flipped, csrf, ...bob });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.headers['location'], undefined);
      assert.equal(setCookie(res, SESSION_COOKIE), undefined);
      // The untouched transaction still works.
      const ok = await browserPost(t, jar, '/oauth/authorize', { txn, csrf, ...bob });
      assert.equal(ok.statusCode, 303, ok.body);
    });

    test('state comes back verbatim, whatever characters it holds', async () => {
      const state = 'a b+c/d=e&f?é~%41';
      const location = await authorize(t, new CookieJar(), spacesQuery({ state }), bob);
      codeOf(location);
      assert.equal(location.searchParams.get('state'), state);
    });

    test('CSRF is checked by token, not Origin: a post with Origin: null succeeds', async () => {
      const jar = new CookieJar();
      const state = hexState();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state })));
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/authorize',
        payload: new URLSearchParams({ ...formState(page.body), ...bob }).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'null',
          cookie: jar.header('/oauth/authorize') ?? '',
        },
      });
      const location = redirectOf(res);
      codeOf(location);
      assert.equal(location.searchParams.get('state'), state);
    });
  });

  describe('login session', () => {
    test('the session cookie is HttpOnly, SameSite=Lax, Path=/ and a second authorization skips the password', async () => {
      const jar = new CookieJar();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state: hexState() })));
      const res = await submitLogin(t, jar, page, bob.email, bob.password);
      codeOf(redirectOf(res));
      const cookie = setCookie(res, SESSION_COOKIE);
      assert.ok(cookie);
      assert.equal(cookie.attributes['httponly'], true);
      assert.equal(cookie.attributes['samesite'], 'Lax');
      assert.equal(cookie.attributes['path'], '/');
      assert.equal(cookie.attributes['secure'], undefined);

      const state = hexState();
      const second = await browserGet(t, jar, authorizeUrl(spacesQuery({ state })));
      assert.ok(!isLoginPage(second), 'no login page the second time');
      const location = redirectOf(second);
      codeOf(location);
      assert.equal(location.searchParams.get('state'), state);

      // A different browser (no cookie) still gets the form.
      assert.ok(isLoginPage(await browserGet(t, new CookieJar(), authorizeUrl(spacesQuery()))));
    });

    test('prompt=login asks for the password despite the session', async () => {
      const jar = new CookieJar();
      codeOf(await authorize(t, jar, spacesQuery(), bob));
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ prompt: 'login' })));
      assert.equal(page.statusCode, 200);
      assert.ok(isLoginPage(page));
      const res = await submitLogin(t, jar, page, bob.email, bob.password);
      codeOf(redirectOf(res));
    });

    test('POST /oauth/logout ends the session: the next authorization shows the login page', async () => {
      const jar = new CookieJar();
      codeOf(await authorize(t, jar, spacesQuery(), bob));
      const oldCookie = jar.get(SESSION_COOKIE);
      assert.ok(oldCookie);
      assert.ok(!isLoginPage(await browserGet(t, jar, authorizeUrl(spacesQuery()))));

      const out = await browserPost(t, jar, '/oauth/logout', { csrf: jar.get(CSRF_COOKIE) ?? '' });
      assert.equal(out.statusCode, 200);
      assertPageHeaders(out);
      const cleared = setCookie(out, SESSION_COOKIE);
      assert.ok(cleared, 'the cookie is cleared');
      assert.equal(cleared.value, '');
      assert.equal(jar.get(SESSION_COOKIE), undefined);
      assert.ok(isLoginPage(await browserGet(t, jar, authorizeUrl(spacesQuery()))));

      // Ended on the server too: the old cookie value no longer works.
      jar.set(SESSION_COOKIE, oldCookie);
      assert.ok(isLoginPage(await browserGet(t, jar, authorizeUrl(spacesQuery()))));
    });
  });

  describe('login session lifetime', () => {
    test('the session ends after sessionTtl (8 h): the password is asked again', async () => {
      const jar = new CookieJar();
      codeOf(await authorize(t, jar, spacesQuery(), bob));
      t.clock.advance(8 * 3600 - 10);
      assert.ok(!isLoginPage(await browserGet(t, jar, authorizeUrl(spacesQuery()))));
      t.clock.advance(11);
      assert.ok(isLoginPage(await browserGet(t, jar, authorizeUrl(spacesQuery()))));
    });
  });

  describe('tenant selection', () => {
    test('an unbound client offers every tenant of the user; the choice is bound to the code', async () => {
      const jar = new CookieJar();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state: hexState() })));
      const picker = await submitLogin(t, jar, page, alice.email, alice.password);
      assert.ok(isTenantPicker(picker));
      assert.deepEqual(pickerTenants(picker.body), ['acme', 'globex']);
      const location = redirectOf(await submitTenant(t, jar, picker, 'globex'));
      const res = await jsonTokenRequest(t, {
        code: codeOf(location),
        grant_type: 'authorization_code',
        client_id: 'dnaspaces',
        client_secret: SPACES_SECRET,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json<Record<string, unknown>>()['scope'], 'globex');
    });

    test('a tenant the picker did not offer → access_denied', async () => {
      const jar = new CookieJar();
      const state = hexState();
      const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state })));
      const picker = await submitLogin(t, jar, page, alice.email, alice.password);
      const res = await submitTenant(t, jar, picker, 'initech');
      assertErrorRedirect(res, SANDBOX, 'access_denied', state);
    });

    test('a client bound to tenant A offers only A to a user of A and B: no picker, code for A', async () => {
      const jar = new CookieJar();
      const state = hexState();
      const page = await browserGet(
        t,
        jar,
        authorizeUrl({
          client_id: BOUND.id,
          redirect_uri: BOUND.redirect,
          response_type: 'code',
          state,
        }),
      );
      const res = await submitLogin(t, jar, page, alice.email, alice.password);
      assert.ok(!isTenantPicker(res), 'no picker');
      const location = redirectOf(res);
      assert.equal(location.searchParams.get('state'), state);
      const token = await formTokenRequest(t, {
        grant_type: 'authorization_code',
        code: codeOf(location),
        redirect_uri: BOUND.redirect,
        client_id: BOUND.id,
        client_secret: BOUND.secret,
      });
      assert.equal(token.statusCode, 200, token.body);
      const claims = decodeJwt(token.json<Record<string, string>>()['access_token'] as string);
      assert.equal(claims['tenant_id'], 'acme');
      assert.equal(claims.sub, aliceId);
    });

    test('a user in no tenant the client serves → access_denied', async () => {
      const jar = new CookieJar();
      const state = hexState();
      const page = await browserGet(
        t,
        jar,
        authorizeUrl({
          client_id: BOUND.id,
          redirect_uri: BOUND.redirect,
          response_type: 'code',
          state,
        }),
      );
      const res = await submitLogin(t, jar, page, dave.email, dave.password);
      assertErrorRedirect(res, BOUND.redirect, 'access_denied', state);
    });
  });
});

describe('authorization endpoint on an https issuer', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp({ flags: { issuer: 'https://auth.example.com' } });
    await t.tenant('acme');
    await createUser(t.deps, { ...bob, tenants: ['acme'] });
    await t.client({
      clientId: 'dnaspaces',
      secret: SPACES_SECRET,
      dialect: 'cisco-spaces',
      redirectUris: [SANDBOX],
    });
  });
  after(() => t.close());

  test('session and CSRF cookies are Secure; iss is the https issuer', async () => {
    const jar = new CookieJar();
    const state = hexState();
    const page = await browserGet(t, jar, authorizeUrl(spacesQuery({ state })));
    const csrf = setCookie(page, 'tessera_csrf');
    assert.ok(csrf);
    assert.equal(csrf.attributes['secure'], true);
    assert.equal(csrf.attributes['httponly'], true);
    const res = await submitLogin(t, jar, page, bob.email, bob.password);
    const session = setCookie(res, SESSION_COOKIE);
    assert.ok(session);
    assert.equal(session.attributes['secure'], true);
    assert.equal(session.attributes['httponly'], true);
    assert.equal(session.attributes['samesite'], 'Lax');
    assert.equal(session.attributes['path'], '/');
    const location = redirectOf(res);
    assert.equal(location.searchParams.get('iss'), 'https://auth.example.com');
    assert.equal(location.searchParams.get('state'), state);
  });
});

describe('redirect URI matching: exact, except the port of a loopback IP (RFC 9700 §4.1.3, RFC 8252 §7.3)', () => {
  let t: TestApp;
  const jar = new CookieJar();
  const WEB = {
    id: 'web',
    secret: 'web-secret-0123456789abcdef',
    redirect: 'https://app.example/cb',
  };
  const NATIVE = {
    id: 'native',
    secret: 'native-secret-0123456789ab',
    v4: 'http://127.0.0.1/callback',
    v6: 'http://[::1]/callback',
    named: 'http://localhost/callback',
    ported: 'http://127.0.0.1:8000/cb?app=1',
    // The URL parser reads `127.0.0.1.` as 127.0.0.1, but the string is no loopback IP literal.
    dotted: 'http://127.0.0.1./dotted',
  };

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await createUser(t.deps, { ...bob, tenants: ['acme'] });
    await t.client({
      clientId: WEB.id,
      secret: WEB.secret,
      grants: ['authorization_code'],
      redirectUris: [WEB.redirect],
    });
    await t.client({
      clientId: NATIVE.id,
      secret: NATIVE.secret,
      grants: ['authorization_code'],
      redirectUris: [NATIVE.v4, NATIVE.v6, NATIVE.named, NATIVE.ported, NATIVE.dotted],
    });
  });
  after(() => t.close());

  function authorizeWith(client: string, redirectUri: string | undefined) {
    return browserGet(
      t,
      new CookieJar(),
      authorizeUrl({
        client_id: client,
        response_type: 'code',
        ...(redirectUri !== undefined && { redirect_uri: redirectUri }),
      }),
    );
  }

  /** A code issued through `redirectUri` (or, when undefined, the only registered one). */
  async function codeVia(client: string, redirectUri: string | undefined): Promise<string> {
    const location = await authorize(
      t,
      jar,
      {
        client_id: client,
        response_type: 'code',
        ...(redirectUri !== undefined && { redirect_uri: redirectUri }),
      },
      bob,
    );
    assert.equal(location.searchParams.get('error'), null, location.href);
    return codeOf(location);
  }

  function redeem(client: { id: string; secret: string }, code: string, redirectUri?: string) {
    return formTokenRequest(t, {
      grant_type: 'authorization_code',
      code,
      client_id: client.id,
      client_secret: client.secret,
      ...(redirectUri !== undefined && { redirect_uri: redirectUri }),
    });
  }

  /** `wrong` at the token endpoint → invalid_grant, and the code still redeems with `right`. */
  async function assertRedeemsOnlyWith(
    client: { id: string; secret: string },
    code: string,
    wrong: string,
    right: string | undefined,
  ): Promise<void> {
    assertOAuthError(await redeem(client, code, wrong), 400, 'invalid_grant');
    const res = await redeem(client, code, right);
    assert.equal(res.statusCode, 200, res.body);
  }

  // Each is what one looser comparison than string equality would let through.
  const NEAR_MISSES: readonly (readonly [string, string])[] = [
    ['an added path segment (prefix match)', 'https://app.example/cb/evil'],
    ['a trailing slash', 'https://app.example/cb/'],
    ['an added query', 'https://app.example/cb?next=https://evil.example'],
    ['an empty query', 'https://app.example/cb?'],
    ['a fragment', 'https://app.example/cb#x'],
    ['a prefix of the registered URI', 'https://app.example/c'],
    ['host case', 'https://APP.example/cb'],
    ['path case', 'https://app.example/CB'],
    ['scheme case', 'HTTPS://app.example/cb'],
    ['userinfo', 'https://evil.example@app.example/cb'],
    ['a percent-encoded character', 'https://app.example/%63b'],
    ['dot segments', 'https://app.example/x/../cb'],
    ['the default port spelled out', 'https://app.example:443/cb'],
    ['another port', 'https://app.example:8443/cb'],
    ['http instead of https', 'http://app.example/cb'],
    ['a longer host', 'https://app.example.evil.example/cb'],
    ['a trailing dot on the host', 'https://app.example./cb'],
    ['surrounding whitespace', ' https://app.example/cb'],
  ];

  for (const [what, uri] of NEAR_MISSES) {
    test(`authorization endpoint: ${what} → mismatch page`, async () => {
      assertMismatch(await authorizeWith(WEB.id, uri), 'redirect_uri');
    });

    test(`token endpoint: ${what} → invalid_grant, and the code is not spent`, async () => {
      const code = await codeVia(WEB.id, WEB.redirect);
      await assertRedeemsOnlyWith(WEB, code, uri, WEB.redirect);
    });
  }

  test('the registered URI itself is accepted and the code goes exactly there', async () => {
    const location = await authorize(
      t,
      jar,
      { client_id: WEB.id, redirect_uri: WEB.redirect, response_type: 'code' },
      bob,
    );
    assert.equal(`${location.origin}${location.pathname}`, WEB.redirect);
    codeOf(location);
  });

  // RFC 8252 §7.3: a native app listens on an ephemeral port of a loopback IP.
  const LOOPBACK_PORTS: readonly (readonly [string, string])[] = [
    ['an ephemeral port on 127.0.0.1', 'http://127.0.0.1:53211/callback'],
    ['the lowest port', 'http://127.0.0.1:1/callback'],
    ['the highest port', 'http://127.0.0.1:65535/callback'],
    ['no port on 127.0.0.1', 'http://127.0.0.1/callback'],
    ['an ephemeral port on [::1]', 'http://[::1]:49152/callback'],
    ['another port than the registered one, query kept', 'http://127.0.0.1:9000/cb?app=1'],
    ['no port instead of the registered one', 'http://127.0.0.1/cb?app=1'],
  ];

  for (const [what, uri] of LOOPBACK_PORTS) {
    test(`loopback IP, ${what}: the code goes to that port and redeems with that URI`, async () => {
      const location = await authorize(
        t,
        jar,
        { client_id: NATIVE.id, redirect_uri: uri, response_type: 'code' },
        bob,
      );
      assert.ok(location.href.startsWith(`${uri}${uri.includes('?') ? '&' : '?'}`), location.href);
      const res = await redeem(NATIVE, codeOf(location), uri);
      assert.equal(res.statusCode, 200, res.body);
    });
  }

  // Only the port may differ: not scheme, host (spelling included), path or query.
  const LOOPBACK_MISSES: readonly (readonly [string, string])[] = [
    ['localhost is no loopback IP: no port relaxation', 'http://localhost:53211/callback'],
    ['another path', 'http://127.0.0.1:53211/other'],
    ['a trailing slash', 'http://127.0.0.1:53211/callback/'],
    ['an added path segment', 'http://127.0.0.1:53211/callback/evil'],
    ['an added query', 'http://127.0.0.1:53211/callback?x=1'],
    ['a dropped query', 'http://127.0.0.1:9000/cb'],
    ['https', 'https://127.0.0.1:53211/callback'],
    ['another loopback address', 'http://127.0.0.2:53211/callback'],
    ['a short form of 127.0.0.1', 'http://127.1:53211/callback'],
    ['a long form of ::1', 'http://[0:0:0:0:0:0:0:1]:53211/callback'],
    ['[::1] where only 127.0.0.1 is registered', 'http://[::1]:8000/cb?app=1'],
    ['a port on a registration spelled 127.0.0.1.', 'http://127.0.0.1:5./dotted'],
    ['a port on a registration spelled 127.0.0.1., without the dot', 'http://127.0.0.1:5/dotted'],
    ['a port followed by userinfo', 'http://127.0.0.1:53211@evil.example/callback'],
    ['a host that starts with 127.0.0.1', 'http://127.0.0.1.evil.example:53211/callback'],
    ['port 0', 'http://127.0.0.1:0/callback'],
    ['a port over 65535', 'http://127.0.0.1:65536/callback'],
    ['an empty port', 'http://127.0.0.1:/callback'],
    ['a port with a leading zero', 'http://127.0.0.1:080/callback'],
    ['a fragment', 'http://127.0.0.1:53211/callback#x'],
  ];

  for (const [what, uri] of LOOPBACK_MISSES) {
    test(`loopback IP, ${what} → mismatch page`, async () => {
      assertMismatch(await authorizeWith(NATIVE.id, uri), 'redirect_uri');
    });
  }

  test('localhost keeps its exact match: the registered URI itself works', async () => {
    const res = await redeem(NATIVE, await codeVia(NATIVE.id, NATIVE.named), NATIVE.named);
    assert.equal(res.statusCode, 200, res.body);
  });

  test('token endpoint: a loopback code redeems only with the port it was issued for', async () => {
    const issued = 'http://127.0.0.1:53211/callback';
    for (const wrong of [NATIVE.v4, 'http://127.0.0.1:53212/callback']) {
      await assertRedeemsOnlyWith(NATIVE, await codeVia(NATIVE.id, issued), wrong, issued);
    }
  });

  // RFC 6749 §4.1.3: redirect_uri is required at the token endpoint iff it was sent here.
  test('no redirect_uri at authorization: the code redeems without one', async () => {
    const location = await authorize(t, jar, { client_id: WEB.id, response_type: 'code' }, bob);
    assert.equal(`${location.origin}${location.pathname}`, WEB.redirect);
    const code = codeOf(location);
    const [row] = await t.rows<{ redirect_uri: string; redirect_uri_sent: unknown }>(
      'select redirect_uri, redirect_uri_sent from authorization_codes where code_hash = ?',
      t.deps.crypto.hashSecret(code),
    );
    assert.equal(row?.redirect_uri, WEB.redirect);
    assert.equal(Number(row?.redirect_uri_sent), 0);
    const res = await redeem(WEB, code);
    assert.equal(res.statusCode, 200, res.body);
  });

  test('no redirect_uri at authorization, but one at the token endpoint: it must still be the bound one', async () => {
    await assertRedeemsOnlyWith(
      WEB,
      await codeVia(WEB.id, undefined),
      `${WEB.redirect}/`,
      WEB.redirect,
    );
  });

  test('redirect_uri at authorization: the token request without it → invalid_request, code not spent', async () => {
    const code = await codeVia(WEB.id, WEB.redirect);
    assertOAuthError(await redeem(WEB, code), 400, 'invalid_request');
    assertOAuthError(await redeem(WEB, code, ''), 400, 'invalid_request');
    const res = await redeem(WEB, code, WEB.redirect);
    assert.equal(res.statusCode, 200, res.body);
  });

  test('a login form sealed by a node from before redirect_uri_sent keeps redirect_uri required', async () => {
    const fresh = new CookieJar();
    const page = await browserGet(
      t,
      fresh,
      authorizeUrl({ client_id: WEB.id, response_type: 'code' }),
    );
    assert.ok(isLoginPage(page), page.body);
    const { txn, csrf } = formState(page.body);
    const { redirectUriSent, ...older } = openTransaction(t.deps, txn) as AuthorizationRequest;
    assert.equal(redirectUriSent, false);
    const sealedByOlderNode = sealTransaction(t.deps, older as AuthorizationRequest);
    const code = codeOf(
      redirectOf(
        await browserPost(t, fresh, '/oauth/authorize', {
          txn: sealedByOlderNode,
          csrf,
          email: bob.email,
          password: bob.password,
        }),
      ),
    );
    assertOAuthError(await redeem(WEB, code), 400, 'invalid_request');
    const res = await redeem(WEB, code, WEB.redirect);
    assert.equal(res.statusCode, 200, res.body);
  });

  test('no redirect_uri at authorization for a client with two registered → mismatch page', async () => {
    assertMismatch(await authorizeWith(NATIVE.id, undefined), 'redirect_uri');
  });
});
