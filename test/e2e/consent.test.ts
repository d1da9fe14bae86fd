/**
 * Consent for `--consent` clients (DESIGN §6) against a listening Tessera, over real HTTP:
 * the consent page's form driven as a browser posts it (hostile posts first), remembered
 * grants, subset and superset, `prompt=consent`, `prompt=none` → `consent_required`,
 * `offline_access` only through consent, and a full openid-client flow through the page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { createUser, listConsents, revokeConsent } from '../../src/admin/users.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { type Answer, Browser, logInAt, redirected } from '../helpers/browser.js';
import { formState, inputs } from '../helpers/html.js';
import { startListeningApp } from '../helpers/spaces.js';

const REDIRECT = 'https://rp.example/callback';
const THIRD = { id: 'third', secret: 'third-secret-0123456789abcdef', name: 'Third Party App' };
const FIRST = { id: 'first', secret: 'first-secret-0123456789abcdef' };
const erin = { email: 'erin@acme.example', password: 'erin-password-12' };
const finn = { email: 'finn@acme.example', password: 'finn-password-12' };

/** The consent page's listed scope descriptions, or undefined when the answer is not one. */
function consentList(a: Answer): string[] | undefined {
  if (a.status !== 200 || !a.body.includes('name="consent"')) return undefined;
  const list = /<ul class="scopes">([\s\S]*?)<\/ul>/.exec(a.body)?.[1] ?? '';
  return [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => (m[1] as string).trim());
}

const OPENID = 'Know who you are when you sign in';
const EMAIL = 'See your email address';
const OFFLINE = 'Keep access while you are not signed in';
const READ = 'Use the “calendar.read” permission';
const WRITE = 'Use the “calendar.write” permission';

describe('consent (--consent clients)', () => {
  let t: TestApp & { url: string };
  let erinId: string;
  let finnId: string;

  before(async () => {
    t = await startListeningApp({ clock: new TestClock(Math.floor(Date.now() / 1000)) });
    await t.tenant('acme');
    erinId = (await createUser(t.deps, { ...erin, tenants: ['acme'] })).id;
    finnId = (await createUser(t.deps, { ...finn, tenants: ['acme'] })).id;
    const web = { grants: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT] };
    await t.client({
      clientId: THIRD.id,
      secret: THIRD.secret,
      name: THIRD.name,
      scopes: ['calendar.read', 'calendar.write'],
      consent: true,
      ...web,
    });
    await t.client({ clientId: FIRST.id, secret: FIRST.secret, name: 'First', ...web });
  });
  after(() => t.close());

  function authorizeUrl(extra: Record<string, string> = {}, clientId = THIRD.id): URL {
    const url = new URL('/oauth/authorize', t.url);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope: 'openid email calendar.read',
      state: 'st-1',
      ...extra,
    }).toString();
    return url;
  }

  async function redeem(code: string, who: { id: string; secret: string } = THIRD) {
    const res = await fetch(new URL('/oauth/token', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        client_id: who.id,
        client_secret: who.secret,
      }).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  function assertRedirect(location: URL, expected: Record<string, string>): void {
    assert.equal(location.origin + location.pathname, REDIRECT);
    for (const [k, v] of Object.entries(expected)) assert.equal(location.searchParams.get(k), v);
    assert.equal(location.searchParams.get('iss'), t.url);
  }

  const remembered = async (userId: string) =>
    (await t.deps.store.listConsents(userId)).map((c) => [c.clientId, c.scopes.join(' ')]);

  async function withdraw(userId: string) {
    await t.deps.store.deleteConsent(userId, THIRD.id);
  }

  describe('hostile posts of the consent form: an expired page, nothing remembered', () => {
    let browser: Browser;
    let page: Answer;
    before(async () => {
      browser = new Browser(t.url);
      page = await logInAt(browser, authorizeUrl(), erin);
    });
    after(() => withdraw(erinId));

    test('the page lists the scopes, worded, with Allow and Deny in one form', () => {
      assert.deepEqual(consentList(page), [OPENID, EMAIL, READ]);
      assert.match(page.body, /<strong>Third Party App<\/strong> would like to:/);
      assert.match(page.body, /You are signed in as erin@acme\.example\./);
      assert.match(page.body, /name="consent" value="allow"/);
      assert.match(page.body, /name="consent" value="deny"/);
    });

    const cases: [string, (f: { txn: string; csrf: string }) => Record<string, string>][] = [
      ['no CSRF field', (f) => ({ txn: f.txn, consent: 'allow' })],
      [
        'a forged CSRF field',
        (f) => ({ txn: f.txn, csrf: `${f.csrf.slice(0, -2)}xx`, consent: 'allow' }),
      ],
      [
        'a tampered transaction',
        (f) => ({ ...f, txn: `${f.txn.slice(0, -4)}AAAA`, consent: 'allow' }),
      ],
      ['an answer neither allow nor deny', (f) => ({ ...f, consent: 'yes' })],
      ['an oversized answer', (f) => ({ ...f, consent: 'a'.repeat(10_000) })],
      ['an oversized transaction', (f) => ({ ...f, txn: 'A'.repeat(10_000), consent: 'allow' })],
    ];
    for (const [what, form] of cases) {
      test(what, async () => {
        const answer = await browser.post(form(formState(page.body)));
        assert.equal(answer.status, 400, answer.body.slice(0, 200));
        assert.match(answer.body, /This sign-in page has expired/);
        assert.deepEqual(await remembered(erinId), []);
      });
    }

    test("the login page's transaction answered as consent", async () => {
      const login = await new Browser(t.url).get(authorizeUrl().toString());
      // Same browser, so the CSRF cookie matches; the transaction is the login page's.
      const other = await browser.get(authorizeUrl().toString());
      assert.deepEqual(consentList(other), [OPENID, EMAIL, READ]);
      const answer = await browser.post({
        txn: formState(login.body).txn,
        csrf: formState(other.body).csrf,
        consent: 'allow',
      });
      assert.equal(answer.status, 400);
      assert.deepEqual(await remembered(erinId), []);
    });

    test("another user's consent page, posted from their own session", async () => {
      const finnBrowser = new Browser(t.url);
      const finnPage = await logInAt(finnBrowser, authorizeUrl(), finn);
      assert.ok(consentList(finnPage));
      const answer = await finnBrowser.post({
        txn: formState(page.body).txn,
        csrf: formState(finnPage.body).csrf,
        consent: 'allow',
      });
      assert.equal(answer.status, 400);
      assert.deepEqual(await remembered(erinId), []);
      assert.deepEqual(await remembered(finnId), []);
    });

    test('Deny → access_denied with state and iss, nothing remembered, audited', async () => {
      const answer = await browser.post({ ...formState(page.body), consent: 'deny' });
      assertRedirect(redirected(answer), { error: 'access_denied', state: 'st-1' });
      assert.equal(redirected(answer).searchParams.get('code'), null);
      assert.deepEqual(await remembered(erinId), []);
      const events = await t.deps.store.listAuditEvents({ type: 'consent.denied', limit: 100 });
      assert.ok(events.some((e) => e.userId === erinId && e.clientId === THIRD.id));
    });
  });

  describe('remembered grants', () => {
    const browser = () => new Browser(t.url);
    let erinBrowser: Browser;
    before(() => {
      erinBrowser = browser();
    });
    after(() => withdraw(erinId));

    test('Allow → a code for the scopes; the grant is remembered', async () => {
      const page = await logInAt(erinBrowser, authorizeUrl(), erin);
      const location = redirected(
        await erinBrowser.post({ ...formState(page.body), consent: 'allow' }),
      );
      assertRedirect(location, { state: 'st-1' });
      const tokens = await redeem(location.searchParams.get('code') as string);
      assert.equal(tokens.status, 200);
      assert.equal(tokens.body['scope'], 'openid email calendar.read');
      // openid without offline_access: no refresh token.
      assert.equal(tokens.body['refresh_token'], undefined);
      assert.deepEqual(await remembered(erinId), [[THIRD.id, 'openid email calendar.read']]);
    });

    test('the second sign-in shows no page; nor does a subset', async () => {
      assertRedirect(redirected(await erinBrowser.get(authorizeUrl().toString())), {
        state: 'st-1',
      });
      const subset = redirected(
        await erinBrowser.get(authorizeUrl({ scope: 'openid calendar.read' }).toString()),
      );
      assert.ok(subset.searchParams.get('code'));
    });

    test('a superset asks again, for all of it, and remembers the union', async () => {
      const page = await erinBrowser.get(
        authorizeUrl({ scope: 'openid calendar.read calendar.write' }).toString(),
      );
      assert.deepEqual(consentList(page), [OPENID, READ, WRITE]);
      redirected(await erinBrowser.post({ ...formState(page.body), consent: 'allow' }));
      assert.deepEqual(await remembered(erinId), [
        [THIRD.id, 'openid email calendar.read calendar.write'],
      ]);
    });

    test('prompt=consent asks again although remembered', async () => {
      const page = await erinBrowser.get(authorizeUrl({ prompt: 'consent' }).toString());
      assert.deepEqual(consentList(page), [OPENID, EMAIL, READ]);
      const location = redirected(
        await erinBrowser.post({ ...formState(page.body), consent: 'allow' }),
      );
      assert.ok(location.searchParams.get('code'));
    });

    test('prompt=none: a code when remembered, consent_required with state and iss when not', async () => {
      const ok = redirected(await erinBrowser.get(authorizeUrl({ prompt: 'none' }).toString()));
      assert.ok(ok.searchParams.get('code'));
      const finnBrowser = browser();
      // Finn signs in to the first-party client: a session, but no consent for THIRD.
      assert.ok(
        redirected(
          await logInAt(finnBrowser, authorizeUrl({ scope: 'openid' }, FIRST.id), finn),
        ).searchParams.get('code'),
      );
      const refused = redirected(
        await finnBrowser.get(authorizeUrl({ prompt: 'none', state: 'st-none' }).toString()),
      );
      assertRedirect(refused, { error: 'consent_required', state: 'st-none' });
      assert.deepEqual(await remembered(finnId), []);
    });
  });

  describe('offline_access', () => {
    after(() => withdraw(erinId));

    test('a --consent client gets it only through consent, listed on the page', async () => {
      const browser = new Browser(t.url);
      const first = redirected(
        await logInAt(browser, authorizeUrl({ scope: 'openid' }), erin).then((p) =>
          browser.post({ ...formState(p.body), consent: 'allow' }),
        ),
      );
      assert.equal(
        (await redeem(first.searchParams.get('code') as string)).body['refresh_token'],
        undefined,
      );
      // Remembered `openid` does not cover offline_access: the page asks for it.
      const page = await browser.get(authorizeUrl({ scope: 'openid offline_access' }).toString());
      assert.deepEqual(consentList(page), [OPENID, OFFLINE]);
      const location = redirected(
        await browser.post({ ...formState(page.body), consent: 'allow' }),
      );
      const tokens = await redeem(location.searchParams.get('code') as string);
      assert.equal(typeof tokens.body['refresh_token'], 'string');
    });

    test('a first-party client gets it without a prompt, and never a consent page', async () => {
      const browser = new Browser(t.url);
      const answer = await logInAt(
        browser,
        authorizeUrl({ scope: 'openid offline_access', prompt: 'consent' }, FIRST.id),
        erin,
      );
      const tokens = await redeem(redirected(answer).searchParams.get('code') as string, FIRST);
      assert.equal(typeof tokens.body['refresh_token'], 'string');
      assert.deepEqual(
        (await remembered(erinId)).filter(([c]) => c === FIRST.id),
        [],
      );
    });
  });

  test('openid-client: discovery, code + PKCE + nonce through the consent page', async () => {
    const config = await client.discovery(new URL(t.url), THIRD.id, THIRD.secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const browser = new Browser(t.url);
    const page = await logInAt(browser, url, erin);
    assert.deepEqual(consentList(page), [OPENID, EMAIL, OFFLINE]);
    const callback = redirected(await browser.post({ ...formState(page.body), consent: 'allow' }));
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    assert.equal(tokens.claims()?.sub, erinId);
    assert.equal(tokens.claims()?.['email'], erin.email);
    assert.ok(tokens.refresh_token);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    await withdraw(erinId);
  });

  test('revoke-consent withdraws the grant and its refresh token: the refresh is invalid_grant', async () => {
    const browser = new Browser(t.url);
    const page = await logInAt(browser, authorizeUrl({ scope: 'openid offline_access' }), erin);
    const location = redirected(await browser.post({ ...formState(page.body), consent: 'allow' }));
    const tokens = await redeem(location.searchParams.get('code') as string);
    const refreshToken = tokens.body['refresh_token'] as string;
    assert.deepEqual(
      (await listConsents(t.deps, erin.email)).map((c) => [c.client_id, c.scopes]),
      [[THIRD.id, ['openid', 'offline_access']]],
    );
    // Finn's grant of the same client is not Erin's to lose.
    const finnBrowser = new Browser(t.url);
    const finnPage = await logInAt(
      finnBrowser,
      authorizeUrl({ scope: 'openid offline_access' }),
      finn,
    );
    const finnCode = redirected(
      await finnBrowser.post({ ...formState(finnPage.body), consent: 'allow' }),
    );
    const finnRefresh = (await redeem(finnCode.searchParams.get('code') as string)).body[
      'refresh_token'
    ] as string;

    // Every one of Erin's families of this client, those of the earlier tests too.
    const live = await t.deps.store.listUserRefreshFamilies(erinId, THIRD.id);
    assert.ok(live.length >= 1);
    assert.deepEqual(await revokeConsent(t.deps, erin.email, THIRD.id), {
      client_id: THIRD.id,
      revoked: true,
      refresh_families_revoked: live.length,
    });
    assert.deepEqual(await t.deps.store.listUserRefreshFamilies(erinId, THIRD.id), []);
    assert.deepEqual(await listConsents(t.deps, erin.email), []);
    const refresh = async (token: string) => {
      const res = await fetch(new URL('/oauth/token', t.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: token,
          client_id: THIRD.id,
          client_secret: THIRD.secret,
        }).toString(),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const refused = await refresh(refreshToken);
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_grant');
    assert.equal((await refresh(finnRefresh)).status, 200);
    const events = await t.deps.store.listAuditEvents({ type: 'consent.revoked', limit: 10 });
    assert.ok(events.some((e) => e.userId === erinId && e.clientId === THIRD.id));
    // The next sign-in asks again.
    assert.ok(consentList(await browser.get(authorizeUrl({ scope: 'openid' }).toString())));
    await withdraw(finnId);
  });

  test('the consent form has no other inputs than the sealed state', async () => {
    const browser = new Browser(t.url);
    const page = await logInAt(browser, authorizeUrl(), erin);
    assert.deepEqual(
      inputs(page.body).map((i) => i['name']),
      ['txn', 'csrf'],
    );
  });
});
