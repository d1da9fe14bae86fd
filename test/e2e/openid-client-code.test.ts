/**
 * The authorization-code flow with openid-client against a listening Tessera: discovery
 * from RFC 8414 metadata, the authorization URL with PKCE (S256) and state, the login done
 * with plain `fetch` (login page, CSRF cookie and hidden fields, the 303 not followed),
 * then `authorizationCodeGrant` — which checks the RFC 9207 `iss` of the authorization
 * response — and `refreshTokenGrant` with rotation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { cookieHeader, formState } from '../helpers/html.js';
import { startListeningApp } from '../helpers/spaces.js';

const REDIRECT = 'https://rp.example/callback';
const RP = { id: 'rp', secret: 'rp-secret-0123456789abcdefgh' };
const user = { email: 'erin@acme.example', password: 'erin-password-12' };

describe('openid-client: authorization code + PKCE + refresh', () => {
  let t: TestApp & { url: string };
  let config: client.Configuration;
  let userId: string;

  before(async () => {
    // The real clock: openid-client checks iat/exp against it.
    t = await startListeningApp({ clock: new TestClock(Math.floor(Date.now() / 1000)) });
    await t.tenant('acme');
    userId = (await createUser(t.deps, { ...user, tenants: ['acme'] })).id;
    await t.client({
      clientId: RP.id,
      secret: RP.secret,
      name: 'Relying party',
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
      requirePkce: true,
    });
    config = await client.discovery(new URL(t.url), RP.id, RP.secret, undefined, {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
  });
  after(() => t.close());

  /** The browser's part, with fetch: the login page, the form post, the 303 not followed. */
  async function login(authorizationUrl: URL): Promise<string> {
    const page = await fetch(authorizationUrl, { redirect: 'manual' });
    assert.equal(page.status, 200);
    const html = await page.text();
    const cookies = cookieHeader(page);
    assert.match(cookies, /tessera_csrf=/);
    const posted = await fetch(new URL('/oauth/authorize', t.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies },
      body: new URLSearchParams({ ...formState(html), ...user }).toString(),
    });
    assert.equal(posted.status, 303, await posted.text());
    const location = posted.headers.get('location');
    assert.ok(location);
    return location;
  }

  async function authorization() {
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const expectedState = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: expectedState,
    });
    return { url, pkceCodeVerifier, expectedState };
  }

  test('discovery reads the RFC 8414 metadata of this issuer', () => {
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, t.url);
    assert.equal(meta.authorization_endpoint, `${t.url}/oauth/authorize`);
    assert.equal(meta.token_endpoint, `${t.url}/oauth/token`);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  });

  test('code grant with PKCE, then a rotating refresh', async () => {
    const { url, pkceCodeVerifier, expectedState } = await authorization();
    assert.equal(url.origin + url.pathname, `${t.url}/oauth/authorize`);
    const location = await login(url);
    const callback = new URL(location);
    assert.equal(callback.origin + callback.pathname, REDIRECT);
    assert.equal(callback.searchParams.get('iss'), t.url);
    assert.equal(callback.searchParams.get('state'), expectedState);

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier,
      expectedState,
    });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(typeof tokens.expires_in, 'number');
    assert.equal(typeof tokens.refresh_token, 'string');
    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', t.url));
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: t.url,
      audience: t.url,
      typ: 'at+jwt',
    });
    assert.equal(payload.sub, userId);
    assert.equal(payload['email'], user.email);
    assert.equal(payload['tenant_id'], 'acme');
    assert.equal(payload['client_id'], RP.id);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    assert.equal(typeof refreshed.access_token, 'string');
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.equal(typeof refreshed.refresh_token, 'string');
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
    const again = await jwtVerify(refreshed.access_token, jwks, { issuer: t.url, audience: t.url });
    assert.equal(again.payload.sub, userId);

    // The rotated-out token is refused (and its reuse revokes the family).
    await assert.rejects(
      client.refreshTokenGrant(config, tokens.refresh_token as string),
      (err: unknown) => (err as { error?: string }).error === 'invalid_grant',
    );
  });

  test('openid-client refuses a response whose iss is not the issuer (RFC 9207)', async () => {
    const { url, pkceCodeVerifier, expectedState } = await authorization();
    const callback = new URL(await login(url));
    callback.searchParams.set('iss', 'https://evil.example');
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState }),
    );
    // The genuine response still redeems: the code was never sent.
    callback.searchParams.set('iss', t.url);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier,
      expectedState,
    });
    assert.equal(typeof tokens.access_token, 'string');
  });

  test('a wrong PKCE verifier is refused by the server with invalid_grant', async () => {
    const { url, expectedState } = await authorization();
    const callback = new URL(await login(url));
    await assert.rejects(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState,
      }),
      (err: unknown) => (err as { error?: string }).error === 'invalid_grant',
    );
  });
});
