/**
 * OpenID Connect against a listening Tessera, over real HTTP: the relying parties are
 * openid-client 6 (discovery, code + PKCE + nonce, ID Token validation, UserInfo, refresh)
 * and oauth4webapi in OIDC mode; the browser is `fetch` with a cookie jar (login page, CSRF
 * cookie and hidden fields, redirects not followed). The authorization request's OpenID
 * parameters (prompt, max_age, login_hint, id_token_hint, request, request_uri) and their
 * error redirects are checked with exact `error`, `state` and `iss`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { signIdToken } from '../../src/tokens/id-token.js';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { formState, inputs } from '../helpers/html.js';
import { type Answer, Browser, isLoginPage, redirected } from '../helpers/browser.js';
import { startListeningApp } from '../helpers/spaces.js';

const REDIRECT = 'https://rp.example/callback';
const RP = { id: 'rp', secret: 'rp-secret-0123456789abcdefgh' };
const ED = { id: 'rp-eddsa', secret: 'rp-eddsa-secret-0123456789ab' };
const API = {
  id: 'rp-api',
  secret: 'rp-api-secret-0123456789abcd',
  audience: 'https://api.example',
};
const SPACES = { id: 'spaces-app', secret: 'spaces-secret-0123456789abcd' };
const erin = { email: 'erin@acme.example', password: 'erin-password-12', name: 'Erin Example' };
const finn = { email: 'finn@acme.example', password: 'finn-password-12' };
const gail = { email: 'gail@acme.example', password: 'gail-password-12' };

const pickerTenants = (a: Answer) =>
  inputs(a.body)
    .filter((i) => i['name'] === 'tenant')
    .map((i) => i['value']);

/** The authorization page, the login form posted when one is shown, the final redirect. */
async function signIn(
  browser: Browser,
  url: URL | string,
  who: { email: string; password: string } = erin,
): Promise<URL> {
  const page = await browser.get(url.toString());
  if (!isLoginPage(page)) return redirected(page);
  return redirected(
    await browser.post({ ...formState(page.body), email: who.email, password: who.password }),
  );
}

const leftHalf = (alg: 'sha256' | 'sha512', token: string) => {
  const digest = createHash(alg).update(token).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
};

describe('OpenID Connect', () => {
  let t: TestApp & { url: string };
  let erinId: string;
  let erinCreatedAt: number;
  let finnId: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  before(async () => {
    // The real clock: the relying parties check iat/exp against it.
    t = await startListeningApp({ clock: new TestClock(Math.floor(Date.now() / 1000)) });
    await t.tenant('acme');
    await t.tenant('beta');
    erinId = (await createUser(t.deps, { ...erin, tenants: ['acme'] })).id;
    erinCreatedAt = t.clock.now;
    finnId = (await createUser(t.deps, { ...finn, tenants: ['acme'] })).id;
    await createUser(t.deps, { ...gail, tenants: ['acme', 'beta'] });
    const web = {
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
      requirePkce: true,
    };
    await t.client({ clientId: RP.id, secret: RP.secret, name: 'Relying party', ...web });
    await t.client({
      clientId: ED.id,
      secret: ED.secret,
      name: 'EdDSA RP',
      idTokenAlg: 'EdDSA',
      ...web,
    });
    await t.client({
      clientId: API.id,
      secret: API.secret,
      name: 'API RP',
      audience: API.audience,
      ...web,
    });
    await t.client({
      clientId: SPACES.id,
      secret: SPACES.secret,
      name: 'Spaces app',
      dialect: 'cisco-spaces',
      redirectUris: [REDIRECT],
    });
    jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', t.url));
  });
  after(() => t.close());

  /** An authorization URL for `clientId` with PKCE, state and nonce, and what the RP keeps. */
  async function request(
    extra: Record<string, string> = {},
    clientId = RP.id,
  ): Promise<{ url: URL; verifier: string; state: string; nonce: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = new URL('/oauth/authorize', t.url);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope: 'openid',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...extra,
    }).toString();
    return { url, verifier, state, nonce };
  }

  /** The token endpoint, as a confidential client posting its secret. */
  async function redeem(code: string, verifier: string, who = RP) {
    const res = await fetch(new URL('/oauth/token', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: who.id,
        client_secret: who.secret,
      }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Asserts an error redirect to the RP: exactly `error`, `error_description`, `state`, `iss`. */
  function assertErrorRedirect(location: URL, error: string, state: string): void {
    assert.equal(location.origin + location.pathname, REDIRECT);
    assert.deepEqual([...location.searchParams.keys()].sort(), [
      'error',
      'error_description',
      'iss',
      'state',
    ]);
    assert.equal(location.searchParams.get('error'), error);
    assert.equal(location.searchParams.get('state'), state);
    assert.equal(location.searchParams.get('iss'), t.url);
  }

  describe('hostile and malformed authorization requests', () => {
    const refusals: [string, Record<string, string>, string][] = [
      ['a request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
      ['a request_uri', { request_uri: 'https://rp.example/req.jwt' }, 'request_uri_not_supported'],
      ['prompt=none with login', { prompt: 'none login' }, 'invalid_request'],
      ['an unknown prompt value', { prompt: 'bogus' }, 'invalid_request'],
      ['max_age that is not whole seconds', { max_age: '1e3' }, 'invalid_request'],
      ['a negative max_age', { max_age: '-1' }, 'invalid_request'],
      ['a nonce over 512 characters', { nonce: 'n'.repeat(513) }, 'invalid_request'],
      ['an id_token_hint that is not a JWT', { id_token_hint: 'not-a-jwt' }, 'invalid_request'],
      [
        'an unsigned id_token_hint (alg none)',
        {
          id_token_hint: `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`,
        },
        'invalid_request',
      ],
      [
        'an id_token_hint over 8 KiB',
        { id_token_hint: `a.${'b'.repeat(9000)}.c` },
        'invalid_request',
      ],
      ['a scope the client lacks', { scope: 'openid admin' }, 'invalid_scope'],
      ['prompt=none without a session', { prompt: 'none' }, 'login_required'],
    ];
    for (const [what, extra, error] of refusals) {
      test(`${what} → ${error}, by redirect with state and iss`, async () => {
        const { url, state } = await request(extra);
        assertErrorRedirect(redirected(await new Browser(t.url).get(url.toString())), error, state);
      });
    }

    test('a repeated nonce → invalid_request, by redirect', async () => {
      const { url, state } = await request();
      url.search += '&nonce=again';
      assertErrorRedirect(
        redirected(await new Browser(t.url).get(url.toString())),
        'invalid_request',
        state,
      );
    });

    test('an id_token_hint signed by someone else → invalid_request', async () => {
      const { url: first, verifier } = await request();
      const browser = new Browser(t.url);
      const code = (await signIn(browser, first)).searchParams.get('code') as string;
      const idToken = (await redeem(code, verifier)).body['id_token'] as string;
      const [header, payload] = idToken.split('.');
      // Same header and claims, another signature: not one of our keys' tokens.
      const forged = `${header}.${payload}.${Buffer.alloc(256, 1).toString('base64url')}`;
      const { url, state } = await request({ prompt: 'none', id_token_hint: forged });
      assertErrorRedirect(redirected(await browser.get(url.toString())), 'invalid_request', state);
    });

    test('a hint Tessera signed with an iat in the future → invalid_request', async () => {
      // Signed with the real key, so only the iat check refuses it (expiry is waived for hints).
      const now = t.clock.now;
      const key = await t.deps.keystore.idTokenKey('RS256', 3600);
      const hint = signIdToken(
        key,
        { iss: t.url, sub: erinId, aud: RP.id, iat: now + 3600, exp: now + 7200 },
        'unused-access-token',
      );
      const { url, state } = await request({ prompt: 'none', id_token_hint: hint });
      assertErrorRedirect(
        redirected(await new Browser(t.url).get(url.toString())),
        'invalid_request',
        state,
      );
    });

    test('an ID Token issued to another client is no hint for this one → invalid_request', async () => {
      const edRequest = await request({}, ED.id);
      const browser = new Browser(t.url);
      const code = (await signIn(browser, edRequest.url)).searchParams.get('code') as string;
      const edToken = (await redeem(code, edRequest.verifier, ED)).body['id_token'] as string;
      const { url, state } = await request({ prompt: 'none', id_token_hint: edToken });
      assertErrorRedirect(redirected(await browser.get(url.toString())), 'invalid_request', state);
    });

    test('an access token is no hint, even one whose aud names the client → invalid_request', async () => {
      // Same keys, issuer and audience: only the header's typ (at+jwt) tells it from an ID Token.
      const self = { id: 'self-audience-rp', secret: 'self-audience-secret-0123' };
      await t.client({
        clientId: self.id,
        secret: self.secret,
        audience: self.id,
        grants: ['authorization_code'],
        redirectUris: [REDIRECT],
        requirePkce: true,
      });
      const first = await request({}, self.id);
      const browser = new Browser(t.url);
      const code = (await signIn(browser, first.url)).searchParams.get('code') as string;
      const accessToken = (await redeem(code, first.verifier, self)).body['access_token'] as string;
      assert.deepEqual(decodeJwt(accessToken).aud, [self.id, t.url]);
      const { url, state } = await request({ prompt: 'none', id_token_hint: accessToken }, self.id);
      assertErrorRedirect(redirected(await browser.get(url.toString())), 'invalid_request', state);
    });
  });

  describe('prompt, max_age, login_hint, id_token_hint', () => {
    let browser: Browser;
    let erinIdToken: string;

    before(async () => {
      browser = new Browser(t.url);
      const { url, verifier } = await request();
      const code = (await signIn(browser, url)).searchParams.get('code') as string;
      erinIdToken = (await redeem(code, verifier)).body['id_token'] as string;
    });

    test('prompt=none with a session: a code at once, no page', async () => {
      const { url, state } = await request({ prompt: 'none' });
      const location = redirected(await browser.get(url.toString()));
      assert.equal(location.searchParams.get('state'), state);
      assert.equal(location.searchParams.get('iss'), t.url);
      assert.equal(typeof location.searchParams.get('code'), 'string');
    });

    test('prompt=none with an id_token_hint for the signed-in subject: a code', async () => {
      const { url } = await request({ prompt: 'none', id_token_hint: erinIdToken });
      assert.equal(
        typeof redirected(await browser.get(url.toString())).searchParams.get('code'),
        'string',
      );
    });

    test('prompt=none with an id_token_hint for another subject → login_required', async () => {
      const other = new Browser(t.url);
      const first = await request();
      const code = (await signIn(other, first.url, finn)).searchParams.get('code') as string;
      const finnToken = (await redeem(code, first.verifier)).body['id_token'] as string;
      assert.equal(decodeJwt(finnToken).sub, finnId);
      // Erin's browser, Finn's hint.
      const { url, state } = await request({ prompt: 'none', id_token_hint: finnToken });
      assertErrorRedirect(redirected(await browser.get(url.toString())), 'login_required', state);
    });

    test('a hint for someone else, then a login as a third user: the picker leads to a code', async () => {
      const { url, state } = await request({ id_token_hint: erinIdToken });
      const fresh = new Browser(t.url);
      const page = await fresh.get(url.toString());
      assert.ok(isLoginPage(page));
      const picker = await fresh.post({
        ...formState(page.body),
        email: gail.email,
        password: gail.password,
      });
      assert.deepEqual(pickerTenants(picker), ['acme', 'beta']);
      const location = redirected(await fresh.post({ ...formState(picker.body), tenant: 'beta' }));
      assert.equal(location.searchParams.get('state'), state);
      assert.equal(typeof location.searchParams.get('code'), 'string');
    });

    test('an expired id_token_hint still names its subject', async () => {
      t.clock.advance(3700);
      try {
        const { url } = await request({ prompt: 'none', id_token_hint: erinIdToken });
        const location = redirected(await browser.get(url.toString()));
        assert.equal(typeof location.searchParams.get('code'), 'string');
      } finally {
        t.clock.advance(-3700);
      }
    });

    test('prompt=login asks for the password despite the session, then issues a code', async () => {
      const { url, state } = await request({ prompt: 'login' });
      const page = await browser.get(url.toString());
      assert.ok(isLoginPage(page));
      const location = redirected(
        await browser.post({ ...formState(page.body), email: erin.email, password: erin.password }),
      );
      assert.equal(location.searchParams.get('state'), state);
      assert.equal(typeof location.searchParams.get('code'), 'string');
    });

    test('the tenant-picker post cannot stand in for the login prompt=login asks for', async () => {
      // A second later than the session's login (the clock is frozen otherwise).
      t.clock.advance(1);
      const { url } = await request({ prompt: 'login' });
      const page = await browser.get(url.toString());
      assert.ok(isLoginPage(page));
      // The session is older than the request: choosing a tenant does not skip the password.
      const answer = await browser.post({ ...formState(page.body), tenant: 'acme' });
      assert.ok(isLoginPage(answer));
    });

    test('max_age=0 acts as prompt=login', async () => {
      const { url } = await request({ max_age: '0' });
      assert.ok(isLoginPage(await browser.get(url.toString())));
    });

    test('max_age older than the login asks again; within it, the session answers', async () => {
      t.clock.advance(120);
      try {
        const stale = await request({ max_age: '60' });
        assert.ok(isLoginPage(await browser.get(stale.url.toString())));
        const staleNone = await request({ max_age: '60', prompt: 'none' });
        assertErrorRedirect(
          redirected(await browser.get(staleNone.url.toString())),
          'login_required',
          staleNone.state,
        );
        const fresh = await request({ max_age: '3600' });
        const location = redirected(await browser.get(fresh.url.toString()));
        assert.equal(typeof location.searchParams.get('code'), 'string');
      } finally {
        t.clock.advance(-120);
      }
    });

    test('login_hint pre-fills the email field', async () => {
      const { url } = await request({ login_hint: 'someone@acme.example' });
      const page = await new Browser(t.url).get(url.toString());
      assert.ok(isLoginPage(page));
      const email = inputs(page.body).find((i) => i['name'] === 'email');
      assert.equal(email?.['value'], 'someone@acme.example');
    });

    test('prompt=select_account shows the tenant picker even for one tenant', async () => {
      const { url, state } = await request({ prompt: 'select_account' });
      const page = await browser.get(url.toString());
      assert.equal(page.status, 200);
      assert.deepEqual(pickerTenants(page), ['acme']);
      const location = redirected(await browser.post({ ...formState(page.body), tenant: 'acme' }));
      assert.equal(location.searchParams.get('state'), state);
      assert.equal(typeof location.searchParams.get('code'), 'string');
    });

    test('prompt=none where the picker would be needed → account_selection_required', async () => {
      const several = new Browser(t.url);
      const first = await request();
      const page = await several.get(first.url.toString());
      const picker = await several.post({
        ...formState(page.body),
        email: gail.email,
        password: gail.password,
      });
      assert.deepEqual(pickerTenants(picker), ['acme', 'beta']);
      const { url, state } = await request({ prompt: 'none' });
      assertErrorRedirect(
        redirected(await several.get(url.toString())),
        'account_selection_required',
        state,
      );
    });

    test('signing in as someone else ends the previous session', async () => {
      const shared = new Browser(t.url);
      await signIn(shared, (await request()).url, erin);
      const erinSession = shared.jar.get('tessera_session');
      const { url } = await request({ prompt: 'login' });
      await signIn(shared, url, finn);
      const rows = await t.rows<{ user_id: string; revoked_at: number | null }>(
        'SELECT user_id, revoked_at FROM sessions WHERE id_hash = ?',
        t.deps.crypto.hashSecret(erinSession as string),
      );
      assert.deepEqual(rows, [{ user_id: erinId, revoked_at: t.clock.now }]);
    });
  });

  describe('openid-client 6', () => {
    let config: client.Configuration;

    before(async () => {
      config = await client.discovery(new URL(t.url), RP.id, RP.secret, undefined, {
        execute: [client.allowInsecureRequests],
      });
    });

    test('discovery reads /.well-known/openid-configuration of this issuer', () => {
      const meta = config.serverMetadata();
      assert.equal(meta.issuer, t.url);
      assert.equal(meta.userinfo_endpoint, `${t.url}/oauth/userinfo`);
      assert.deepEqual(meta.id_token_signing_alg_values_supported, [
        'RS256',
        'PS256',
        'ES256',
        'EdDSA',
      ]);
    });

    test('code + PKCE + nonce: a validated ID Token, UserInfo, and a refresh with a new ID Token', async () => {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid profile email offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const browser = new Browser(t.url);
      const callback = await signIn(browser, url);
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      assert.equal(tokens.scope, 'openid profile email offline_access');
      assert.equal(typeof tokens.refresh_token, 'string');
      const claims = tokens.claims();
      assert.ok(claims);
      const now = t.clock.now;
      const { payload, protectedHeader } = await jwtVerify(tokens.id_token as string, jwks, {
        issuer: t.url,
        audience: RP.id,
      });
      assert.equal(protectedHeader.typ, 'JWT');
      assert.equal(protectedHeader.alg, 'RS256');
      assert.equal(typeof protectedHeader.kid, 'string');
      assert.equal(typeof payload['sid'], 'string');
      assert.notEqual(payload['sid'], browser.jar.get('tessera_session'));
      assert.deepEqual(payload, {
        iss: t.url,
        sub: erinId,
        aud: RP.id,
        exp: now + 3600,
        iat: now,
        auth_time: now,
        nonce,
        sid: payload['sid'],
        tenant_id: 'acme',
        name: erin.name,
        updated_at: erinCreatedAt,
        email: erin.email,
        email_verified: false,
        at_hash: leftHalf('sha256', tokens.access_token),
      });
      // The access token: the same subject, and the issuer in its audience.
      const access = decodeJwt(tokens.access_token);
      assert.equal(access.sub, erinId);
      assert.equal(access.aud, t.url);

      const userinfo = await client.fetchUserInfo(config, tokens.access_token, erinId);
      assert.deepEqual(userinfo, {
        sub: erinId,
        name: erin.name,
        updated_at: erinCreatedAt,
        email: erin.email,
        email_verified: false,
        tenant_id: 'acme',
      });

      t.clock.advance(5);
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
      const again = decodeJwt(refreshed.id_token as string);
      // Core §12.2: the original auth_time and sid, no nonce, a fresh iat and at_hash.
      const expected: Record<string, unknown> = {
        ...payload,
        exp: now + 5 + 3600,
        iat: now + 5,
        at_hash: leftHalf('sha256', refreshed.access_token),
      };
      delete expected['nonce'];
      assert.deepEqual(again, expected);
    });

    test('a wrong expected nonce is refused by the relying party', async () => {
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        nonce: 'the-nonce-sent',
      });
      const callback = await signIn(new Browser(t.url), url);
      await assert.rejects(
        client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: verifier,
          expectedNonce: 'another-nonce',
        }),
        // openid-client wraps oauth4webapi's check; the cause names the claim.
        (err: unknown) => /ID Token "nonce" claim/.test(String((err as Error).cause)),
      );
    });

    test('openid without offline_access: no refresh token', async () => {
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid email',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const tokens = await client.authorizationCodeGrant(
        config,
        await signIn(new Browser(t.url), url),
        { pkceCodeVerifier: verifier, idTokenExpected: true },
      );
      assert.equal(tokens.refresh_token, undefined);
      assert.deepEqual(Object.keys(tokens).sort(), [
        'access_token',
        'expires_in',
        'id_token',
        'scope',
        'token_type',
      ]);
      const claims = tokens.claims();
      assert.equal(claims?.['email'], erin.email);
      assert.equal(claims?.['name'], undefined, 'no profile scope, no profile claims');
      assert.equal(claims?.['nonce'], undefined, 'no nonce sent, none returned');
    });
  });

  describe('oauth4webapi (OIDC mode)', () => {
    let as: oauth.AuthorizationServer;
    const ed: oauth.Client = { client_id: ED.id, id_token_signed_response_alg: 'EdDSA' };
    const options = { [oauth.allowInsecureRequests]: true };

    before(async () => {
      const issuer = new URL(t.url);
      as = await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...options }),
      );
    });

    test('EdDSA ID Token with the nonce checked; at_hash is the left half of SHA-512', async () => {
      const { url, verifier, state, nonce } = await request({ scope: 'openid profile' }, ED.id);
      const callback = await signIn(new Browser(t.url), url);
      const params = oauth.validateAuthResponse(as, ed, callback, state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        ed,
        oauth.ClientSecretPost(ED.secret),
        params,
        REDIRECT,
        verifier,
        options,
      );
      const result = await oauth.processAuthorizationCodeResponse(as, ed, response, {
        expectedNonce: nonce,
        requireIdToken: true,
      });
      const claims = oauth.getValidatedIdTokenClaims(result);
      assert.ok(claims);
      assert.equal(claims.sub, erinId);
      assert.equal(claims.nonce, nonce);
      assert.equal(claims['name'], erin.name);
      assert.equal(decodeProtectedHeader(result.id_token as string).alg, 'EdDSA');
      assert.equal(claims['at_hash'], leftHalf('sha512', result.access_token));
      // Signed by a key in the JWKS (oauth4webapi leaves the signature to TLS here).
      await jwtVerify(result.id_token as string, jwks, { issuer: t.url, audience: ED.id });
      // The access token stays RS256: the EdDSA key signs ID Tokens only.
      assert.equal(decodeProtectedHeader(result.access_token).alg, 'RS256');
      // openid without offline_access: no refresh token, though the client has the grant.
      assert.equal(result.refresh_token, undefined);
    });

    test('a wrong expectedNonce is refused', async () => {
      const { url, verifier, state } = await request({}, ED.id);
      const params = oauth.validateAuthResponse(
        as,
        ed,
        await signIn(new Browser(t.url), url),
        state,
      );
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        ed,
        oauth.ClientSecretPost(ED.secret),
        params,
        REDIRECT,
        verifier,
        options,
      );
      await assert.rejects(
        oauth.processAuthorizationCodeResponse(as, ed, response, { expectedNonce: 'not-it' }),
        (err: unknown) => err instanceof oauth.OperationProcessingError,
      );
    });

    test('UserInfo (GET and POST) accepts the openid token of a client with its own audience', async () => {
      const api: oauth.Client = { client_id: API.id };
      const { url, verifier, state, nonce } = await request({ scope: 'openid email' }, API.id);
      const callback = await signIn(new Browser(t.url), url);
      const result = await oauth.processAuthorizationCodeResponse(
        as,
        api,
        await oauth.authorizationCodeGrantRequest(
          as,
          api,
          oauth.ClientSecretBasic(API.secret),
          oauth.validateAuthResponse(as, api, callback, state),
          REDIRECT,
          verifier,
          options,
        ),
        { expectedNonce: nonce, requireIdToken: true },
      );
      assert.deepEqual(decodeJwt(result.access_token).aud, [API.audience, t.url]);
      const expected = { sub: erinId, email: erin.email, email_verified: false, tenant_id: 'acme' };
      const viaGet = await oauth.processUserInfoResponse(
        as,
        api,
        erinId,
        await oauth.userInfoRequest(as, api, result.access_token, options),
      );
      assert.deepEqual(viaGet, expected);
      const viaPost = await fetch(new URL('/oauth/userinfo', t.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${result.access_token}` },
      });
      assert.equal(viaPost.status, 200);
      assert.deepEqual(await viaPost.json(), expected);
    });
  });

  describe('token endpoint', () => {
    test('a replayed code → invalid_grant, and the first ID Token’s grant is revoked', async () => {
      const { url, verifier } = await request({ scope: 'openid offline_access' });
      const code = (await signIn(new Browser(t.url), url)).searchParams.get('code') as string;
      const first = await redeem(code, verifier);
      assert.equal(first.status, 200);
      assert.equal(typeof first.body['id_token'], 'string');
      const replay = await redeem(code, verifier);
      assert.equal(replay.status, 400);
      assert.equal(replay.body['error'], 'invalid_grant');
      const userinfo = await fetch(new URL('/oauth/userinfo', t.url), {
        headers: { authorization: `Bearer ${first.body['access_token'] as string}` },
      });
      assert.equal(userinfo.status, 401);
    });

    test('without openid: no ID Token, a refresh token, and UserInfo answers as before', async () => {
      const { url, verifier } = await request({ scope: '', nonce: 'ignored' });
      const code = (await signIn(new Browser(t.url), url)).searchParams.get('code') as string;
      const { status, body } = await redeem(code, verifier);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'refresh_token',
        'token_type',
      ]);
      const res = await fetch(new URL('/oauth/userinfo', t.url), {
        headers: { authorization: `Bearer ${body['access_token'] as string}` },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), decodeJwt(body['access_token'] as string));
    });

    test('a non-openid token of a client with its own audience is not for UserInfo', async () => {
      const { url, verifier } = await request({ scope: '' }, API.id);
      const code = (await signIn(new Browser(t.url), url)).searchParams.get('code') as string;
      const { body } = await redeem(code, verifier, API);
      assert.equal(decodeJwt(body['access_token'] as string).aud, API.audience);
      const res = await fetch(new URL('/oauth/userinfo', t.url), {
        headers: { authorization: `Bearer ${body['access_token'] as string}` },
      });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });

    test('the cisco-spaces dialect gets no ID Token (standard dialect only)', async () => {
      const { url, verifier } = await request({ scope: 'openid' }, SPACES.id);
      const code = (await signIn(new Browser(t.url), url)).searchParams.get('code') as string;
      const { status, body } = await redeem(code, verifier, SPACES);
      assert.equal(status, 200);
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'scope', 'token_type']);
      assert.equal(body['scope'], 'acme');
    });
  });

  test('ending the session revokes its refresh tokens, except those with offline_access', async () => {
    const browser = new Browser(t.url);
    const offline = await request({ scope: 'openid offline_access' });
    const offlineCode = (await signIn(browser, offline.url)).searchParams.get('code') as string;
    const kept = (await redeem(offlineCode, offline.verifier)).body;
    const online = await request({ scope: '' });
    const onlineCode = (await signIn(browser, online.url)).searchParams.get('code') as string;
    const ended = (await redeem(onlineCode, online.verifier)).body;
    assert.equal(typeof kept['refresh_token'], 'string');
    assert.equal(typeof ended['refresh_token'], 'string');

    // Any of our pages hands out the CSRF token the logout form posts.
    const page = await browser.get((await request({ prompt: 'login' })).url.toString());
    assert.equal(
      (await browser.post({ csrf: formState(page.body).csrf }, '/oauth/logout')).status,
      200,
    );

    const refresh = async (token: unknown) => {
      const res = await fetch(new URL('/oauth/token', t.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: token as string,
          client_id: RP.id,
          client_secret: RP.secret,
        }).toString(),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const dead = await refresh(ended['refresh_token']);
    assert.equal(dead.status, 400);
    assert.equal(dead.body['error'], 'invalid_grant');
    const userinfo = await fetch(new URL('/oauth/userinfo', t.url), {
      headers: { authorization: `Bearer ${ended['access_token'] as string}` },
    });
    assert.equal(userinfo.status, 401, 'its access token goes with it');
    const alive = await refresh(kept['refresh_token']);
    assert.equal(alive.status, 200);
    assert.equal(typeof alive.body['id_token'], 'string');
  });

  test('the discovery document: the RFC 8414 one plus the OpenID Provider fields', async () => {
    const rfc = await (
      await fetch(new URL('/.well-known/oauth-authorization-server', t.url))
    ).json();
    const res = await fetch(new URL('/.well-known/openid-configuration', t.url));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    assert.deepEqual(await res.json(), {
      ...(rfc as object),
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'nonce',
        'sid',
        'at_hash',
        'tenant_id',
        'name',
        'updated_at',
        'email',
        'email_verified',
      ],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
      end_session_endpoint: `${t.url}/oauth/end-session`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      claims_parameter_supported: false,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
    });
  });
});
