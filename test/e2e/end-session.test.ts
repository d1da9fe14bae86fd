/**
 * RP-Initiated Logout 1.0 against a listening Tessera over real HTTP: openid-client 6 signs
 * in (code + PKCE), builds the end-session URL with `buildEndSessionUrl`, and the browser
 * (fetch with a cookie jar, redirects not followed) opens it. Hostile requests first: each
 * gets its error page, never a redirect, never a 500, and the session stays.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { formState, inputs } from '../helpers/html.js';
import { type Answer, Browser } from '../helpers/browser.js';
import { CookieJar, startListeningApp } from '../helpers/spaces.js';

const REDIRECT = 'https://rp.example/callback';
const BYE = 'https://rp.example/signed-out';
/** Registered for OTHER only: a hint of RP's must not reach it. */
const OTHER_BYE = 'https://other.example/signed-out';
const RP = { id: 'rp', secret: 'rp-secret-0123456789abcdefgh' };
const OTHER = { id: 'other-rp', secret: 'other-secret-0123456789abcdef' };
const erin = { email: 'erin@acme.example', password: 'erin-password-12' };
const finn = { email: 'finn@acme.example', password: 'finn-password-12' };

/** The stable code an error page shows. */
const pageCode = (a: Answer) => /<code>([a-z-]+)<\/code>/.exec(a.body)?.[1];

describe('RP-Initiated Logout (end_session_endpoint)', () => {
  let t: TestApp & { url: string };
  let config: client.Configuration;

  before(async () => {
    t = await startListeningApp({ clock: new TestClock(Math.floor(Date.now() / 1000)) });
    await t.tenant('acme');
    await createUser(t.deps, { ...erin, tenants: ['acme'] });
    await createUser(t.deps, { ...finn, tenants: ['acme'] });
    for (const rp of [RP, OTHER]) {
      await t.client({
        clientId: rp.id,
        secret: rp.secret,
        name: rp === RP ? 'Relying party' : 'Other party',
        grants: ['authorization_code', 'refresh_token'],
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: rp === RP ? [BYE] : [BYE, OTHER_BYE],
      });
    }
    config = await client.discovery(new URL(t.url), RP.id, RP.secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
  });
  after(() => t.close());

  let browser: Browser;
  beforeEach(() => {
    browser = new Browser(t.url);
  });

  /** Signs `who` in with openid-client; the ID Token and its refresh token. */
  async function signIn(who = erin, rp = RP) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const rpConfig =
      rp === RP
        ? config
        : await client.discovery(new URL(t.url), rp.id, rp.secret, undefined, {
            execute: [client.allowInsecureRequests],
          });
    const url = client.buildAuthorizationUrl(rpConfig, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    let page = await browser.get(url.href);
    if (page.status === 200 && inputs(page.body).some((i) => i['name'] === 'password'))
      page = await browser.post({ ...formState(page.body), ...who }, '/oauth/authorize');
    assert.equal(page.status, 303, page.body.slice(0, 300));
    const tokens = await client.authorizationCodeGrant(rpConfig, page.location as URL, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    return { idToken: tokens.id_token as string };
  }

  /** Whether the browser's session still signs the RP in without a password. */
  async function stillSignedIn(): Promise<boolean> {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const answer = await browser.get(url.href);
    return (answer.location as URL).searchParams.has('code');
  }

  describe('hostile and malformed requests: an error page, no redirect, the session stays', () => {
    const cases: [string, (hint: string) => Record<string, string>, number, string][] = [
      [
        'an unregistered post_logout_redirect_uri',
        (hint) => ({ id_token_hint: hint, post_logout_redirect_uri: 'https://evil.example/' }),
        400,
        'logout-unregistered-redirect',
      ],
      [
        'a registered URI of another form (trailing slash)',
        (hint) => ({ id_token_hint: hint, post_logout_redirect_uri: `${BYE}/` }),
        400,
        'logout-unregistered-redirect',
      ],
      [
        'a URI registered for another client only',
        (hint) => ({ id_token_hint: hint, post_logout_redirect_uri: OTHER_BYE }),
        400,
        'logout-unregistered-redirect',
      ],
      [
        'a post_logout_redirect_uri without a client',
        () => ({ post_logout_redirect_uri: BYE }),
        400,
        'logout-unregistered-redirect',
      ],
      [
        'a client_id not in the hint’s aud',
        (hint) => ({ id_token_hint: hint, client_id: OTHER.id, post_logout_redirect_uri: BYE }),
        400,
        'logout-invalid-request',
      ],
      [
        'an unknown client_id',
        () => ({ client_id: 'ghost', post_logout_redirect_uri: BYE }),
        400,
        'logout-invalid-request',
      ],
      [
        'a tampered hint',
        (hint) => ({ id_token_hint: `${hint.slice(0, -4)}AAAA`, post_logout_redirect_uri: BYE }),
        400,
        'logout-invalid-request',
      ],
      [
        'a hint that is not a JWT',
        () => ({ id_token_hint: 'nope' }),
        400,
        'logout-invalid-request',
      ],
      [
        'an oversized hint',
        () => ({ id_token_hint: `a.${'b'.repeat(9000)}.c` }),
        400,
        'logout-invalid-request',
      ],
      [
        'an oversized state',
        (hint) => ({ id_token_hint: hint, post_logout_redirect_uri: BYE, state: 's'.repeat(2049) }),
        400,
        'logout-invalid-request',
      ],
      [
        'an oversized post_logout_redirect_uri',
        (hint) => ({ id_token_hint: hint, post_logout_redirect_uri: `${BYE}?${'x'.repeat(2100)}` }),
        400,
        'logout-invalid-request',
      ],
    ];
    for (const [what, params, status, code] of cases) {
      test(what, async () => {
        const { idToken } = await signIn();
        for (const method of ['GET', 'POST'] as const) {
          const query = new URLSearchParams(params(idToken)).toString();
          const answer =
            method === 'GET'
              ? await browser.get(`/oauth/end-session?${query}`)
              : await browser.post(params(idToken), '/oauth/end-session');
          assert.equal(answer.status, status, `${method}: ${answer.body.slice(0, 300)}`);
          assert.equal(answer.location?.href, undefined);
          assert.equal(pageCode(answer), code);
        }
        assert.equal(await stillSignedIn(), true);
      });
    }

    test('a hint signed by someone else (same claims, a key of its own)', async () => {
      const { idToken } = await signIn();
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT(decodeJwt(idToken))
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'forged' })
        .sign(privateKey);
      const answer = await browser.get(
        `/oauth/end-session?${new URLSearchParams({ id_token_hint: forged, post_logout_redirect_uri: BYE })}`,
      );
      assert.equal(answer.status, 400);
      assert.equal(pageCode(answer), 'logout-invalid-request');
      assert.equal(await stillSignedIn(), true);
    });

    test('a repeated parameter', async () => {
      await signIn();
      const answer = await browser.get(`/oauth/end-session?state=a&state=b`);
      assert.equal(answer.status, 400);
      assert.equal(pageCode(answer), 'logout-invalid-request');
      assert.equal(await stillSignedIn(), true);
    });

    test('the confirmation form with a forged or absent CSRF token: 403, the session stays', async () => {
      await signIn();
      const page = await browser.get('/oauth/end-session');
      const csrf = inputs(page.body).find((i) => i['name'] === 'csrf')?.['value'] as string;
      for (const bad of [undefined, `${csrf.slice(0, -2)}xx`, 'A'.repeat(32)]) {
        const answer = await browser.post(
          {
            confirm: 'yes',
            ...(bad !== undefined && { csrf: bad }),
          },
          '/oauth/end-session',
        );
        assert.equal(answer.status, 403);
        assert.equal(pageCode(answer), 'logout-refused');
      }
      assert.equal(await stillSignedIn(), true);
    });
  });

  test('openid-client’s buildEndSessionUrl with the hint of this session: 303 with state, session over', async () => {
    const { idToken } = await signIn();
    assert.equal(config.serverMetadata().end_session_endpoint, `${t.url}/oauth/end-session`);
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: BYE,
      state: 'bye-1',
    });
    const answer = await browser.get(url.href);
    assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.equal(answer.location?.href, `${BYE}?state=bye-1`);
    assert.equal(await stillSignedIn(), false);
  });

  test('an expired hint Tessera signed is still accepted', async () => {
    const { idToken } = await signIn();
    t.clock.advance(2 * 3600);
    try {
      const answer = await browser.post(
        {
          id_token_hint: idToken,
          client_id: RP.id,
          post_logout_redirect_uri: BYE,
        },
        '/oauth/end-session',
      );
      assert.equal(answer.status, 303, answer.body.slice(0, 300));
      assert.equal(answer.location?.href, BYE);
    } finally {
      t.clock.advance(-2 * 3600);
    }
  });

  test('no session at all: answered at once (the redirect, or the signed-out page)', async () => {
    const { idToken } = await signIn();
    browser.jar = new CookieJar();
    const redirect = await browser.get(
      client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: BYE })
        .href,
    );
    assert.equal(redirect.status, 303);
    assert.equal(redirect.location?.href, BYE);
    const page = await browser.get('/oauth/end-session');
    assert.equal(page.status, 200);
    assert.equal(pageCode(page), 'signed-out');
  });

  test('a session without a hint for it asks first; the confirmed form signs out and redirects', async () => {
    const { idToken: erinHint } = await signIn();
    browser.jar = new CookieJar();
    await signIn(finn);
    // Erin's hint in Finn's browser: not this session's, so Finn is asked.
    const page = await browser.get(
      client.buildEndSessionUrl(config, {
        id_token_hint: erinHint,
        post_logout_redirect_uri: BYE,
        state: 's2',
      }).href,
    );
    assert.equal(page.status, 200);
    assert.match(page.body, /Relying party/);
    assert.equal(await stillSignedIn(), true);
    const fields = Object.fromEntries(
      inputs(page.body)
        .filter((i) => i['type'] === 'hidden')
        .map((i) => [i['name'] as string, i['value'] as string]),
    );
    // openid-client sends client_id beside the hint.
    assert.deepEqual(Object.keys(fields).sort(), [
      'client_id',
      'csrf',
      'id_token_hint',
      'post_logout_redirect_uri',
      'state',
    ]);
    const done = await browser.post({ ...fields, confirm: 'yes' }, '/oauth/end-session');
    assert.equal(done.status, 303, done.body.slice(0, 300));
    assert.equal(done.location?.href, `${BYE}?state=s2`);
    assert.equal(await stillSignedIn(), false);
  });
});
