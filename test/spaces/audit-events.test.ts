/**
 * Every audit event type is recorded by the act it names, with the fields an operator needs;
 * the login and throttling metrics count what happened; an unreachable store is a fast 503
 * `temporarily_unavailable`, counted, never `invalid_client`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { listAudit } from '../../src/admin/audit.js';
import { rotateSecret, updateClient, deleteClient } from '../../src/admin/clients.js';
import { rotateKey } from '../../src/admin/keys.js';
import { setTelemetry, updateTenant } from '../../src/admin/tenants.js';
import {
  createUser,
  disableUser,
  inviteUser,
  resetPasswordLink,
  revokeConsent,
  setPassword,
} from '../../src/admin/users.js';
import { AUDIT_EVENT_TYPES } from '../../src/observability/audit.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { formState } from '../helpers/html.js';
import {
  CookieJar,
  type FakeKeyServer,
  authorize,
  authorizeUrl,
  browserGet,
  browserPost,
  codeOf,
  isLoginPage,
  jsonTokenRequest,
  launchClaims,
  mintLaunchToken,
  rsaKey,
  startFakeKeyServer,
  submitLogin,
} from '../helpers/spaces.js';

const REDIRECT = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const SECRET = '31e08c21136c9102cdee';
const USER = { email: 'ann@acme.example', password: 'ann password 1' };

/**
 * Types whose act needs a live receiver and the worker's retries (a real HTTP endpoint, an hour
 * of backoff): the named test file records and asserts each. A new type must have its act
 * here or be asserted there.
 */
const RECORDED_ELSEWHERE: Record<string, readonly string[]> = {
  'test/e2e/backchannel-logout.test.ts': [
    'backchannel.delivered',
    'backchannel.failed',
    'backchannel.given_up',
  ],
  // Account mail needs an SMTP server and the mail worker; the pages' events go with them.
  'test/e2e/accounts.test.ts': [
    'mail.sent',
    'mail.dropped',
    'mail.given_up',
    'password.reset_requested',
    'password.set',
    'password.link_refused',
  ],
};

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('audit event types, login metrics and store outages', () => {
  let t: TestApp;
  let keys: FakeKeyServer;
  const key = rsaKey(1024);

  before(async () => {
    keys = await startFakeKeyServer([{ version: 1, key }]);
    t = await createTestApp({
      flags: { spacesLaunchAllowedBaseUrls: [keys.url], loginFailureLimit: 2 },
    });
    await t.tenant('acme');
    await updateTenant(t.deps, 'acme', { appUrl: 'https://app.example.com/' });
    await createUser(t.deps, { email: USER.email, tenants: ['acme'], password: USER.password });
    await t.client({
      clientId: 'dnaspaces',
      secret: SECRET,
      dialect: 'cisco-spaces',
      redirectUris: [REDIRECT],
    });
    await t.client({
      clientId: 'svc',
      secret: 'svc-secret-0123456789',
      scopes: ['read'],
      grants: ['client_credentials'],
    });
  });
  after(async () => {
    await t.close();
    await keys.close();
  });

  test('every type in the catalogue is recorded by its act', async () => {
    const q = {
      client_id: 'dnaspaces',
      redirect_uri: REDIRECT,
      response_type: 'code',
      state: 'abc',
    };
    // login.failed ×2 → login.locked (limit 2) for a made-up account; login.succeeded for Ann.
    await authorize(t, new CookieJar(), q, { email: 'ghost@acme.example', password: 'x' }).catch(
      () => undefined,
    );
    await authorize(t, new CookieJar(), q, { email: 'ghost@acme.example', password: 'y' }).catch(
      () => undefined,
    );
    const code = codeOf(await authorize(t, new CookieJar(), q, USER));
    const mismatch = { method: 'GET', url: '/oauth/authorize?client_id=nope' } as const;
    assert.equal((await t.app.inject(mismatch)).statusCode, 400); // authorize.mismatch
    const redeem = {
      code,
      grant_type: 'authorization_code',
      client_id: 'dnaspaces',
      client_secret: SECRET,
      redirect_uri: '',
    };
    const first = await jsonTokenRequest(t, redeem); // token.issued
    assert.equal(first.statusCode, 200);
    assert.equal((await jsonTokenRequest(t, redeem)).statusCode, 400); // code.replayed, token.refused
    // client.throttled needs clientAuthFailureLimit (10) failures from one address.
    for (let i = 0; i < 10; i++) {
      await jsonTokenRequest(t, {
        grant_type: 'client_credentials',
        client_id: 'svc',
        client_secret: `wrong-${i}-0123456789`,
      });
    }
    // refresh.reused and token.revoked, with a client that gets refresh tokens.
    await t.client({ clientId: 'setu1', secret: 'setu-secret-0123456789', dialect: 'setu' });
    const setu = { client_id: 'setu1', client_secret: 'setu-secret-0123456789' };
    const issued = (
      await jsonTokenRequest(t, { ...setu, grant_type: 'client_credentials' })
    ).json();
    await jsonTokenRequest(t, {
      ...setu,
      grant_type: 'refresh_token',
      refresh_token: issued.refreshToken,
    });
    await jsonTokenRequest(t, {
      ...setu,
      grant_type: 'refresh_token',
      refresh_token: issued.refreshToken,
    });
    const revoke = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { ...setu, token: issued.accessToken },
    });
    assert.equal(revoke.statusCode, 200);
    // revocation.refused: another client presents setu1's token.
    const foreign = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { client_id: 'dnaspaces', client_secret: SECRET, token: issued.accessToken },
    });
    assert.equal(foreign.statusCode, 400);
    // launch.accepted, then launch.refused (replay).
    const token = mintLaunchToken(key.privateKey, launchClaims('acme', keys.url, t.clock.now));
    const launch = () =>
      t.app.inject({ method: 'POST', url: '/spaces/launch', payload: { token, version: '1' } });
    assert.equal((await launch()).statusCode, 303);
    assert.equal((await launch()).statusCode, 401);
    // Management changes.
    await updateClient(t.deps, 'svc', { accessTokenTtl: 600 });
    await rotateSecret(t.deps, 'svc', { graceSeconds: 0 });
    await deleteClient(t.deps, 'setu1');
    await rotateKey(t.deps, { now: false });
    await setTelemetry(t.deps, 'acme', {
      name: 'devices',
      value: '1',
      units: 'count',
      type: 'metric',
    });
    // logout.refused: an end-session request whose hint is no ID Token.
    const endSession = { method: 'GET', url: '/oauth/end-session?id_token_hint=nope' } as const;
    assert.equal((await t.app.inject(endSession)).statusCode, 400);
    // consent.denied, consent.granted, then consent.revoked, with a client that asks.
    const thirdRedirect = 'https://third.example/cb';
    await t.client({
      clientId: 'third',
      secret: 'third-secret-0123456789',
      grants: ['authorization_code'],
      redirectUris: [thirdRedirect],
      consent: true,
    });
    const consentQuery = {
      client_id: 'third',
      redirect_uri: thirdRedirect,
      response_type: 'code',
      scope: 'openid',
      state: 'c',
    };
    for (const [answer, result] of [
      ['deny', 'error'],
      ['allow', 'code'],
    ] as const) {
      const jar = new CookieJar();
      let page = await browserGet(t, jar, authorizeUrl(consentQuery));
      if (isLoginPage(page)) page = await submitLogin(t, jar, page, USER.email, USER.password);
      assert.match(page.body, /name="consent" value="allow"/);
      const done = await browserPost(t, jar, '/oauth/authorize', {
        ...formState(page.body),
        consent: answer,
      });
      assert.equal(done.statusCode, 303);
      assert.ok(new URL(done.headers.location as string).searchParams.has(result));
    }
    await revokeConsent(t.deps, USER.email, 'third');
    await inviteUser(t.deps, { email: 'ivy@acme.example', tenants: ['acme'], printLink: true });
    await resetPasswordLink(t.deps, USER.email, true);
    await setPassword(t.deps, USER.email, 'ann password 2');
    await disableUser(t.deps, USER.email);

    await t.deps.audit.flush();
    const events = await listAudit(t.deps, { limit: 10_000 });
    const seen = new Set(events.map((e) => e.type));
    const elsewhere = new Set<string>();
    for (const [file, types] of Object.entries(RECORDED_ELSEWHERE)) {
      const source = readFileSync(file, 'utf8');
      for (const type of types) {
        assert.ok(source.includes(`'${type}'`), `${file} asserts ${type}`);
        elsewhere.add(type);
      }
    }
    assert.deepEqual(
      Object.keys(AUDIT_EVENT_TYPES).filter((type) => !seen.has(type) && !elsewhere.has(type)),
      [],
      'every audit type was recorded',
    );

    const replay = events.find((e) => e.type === 'code.replayed');
    assert.equal(replay?.client_id, 'dnaspaces');
    assert.equal(replay?.tenant_id, 'acme');
    const refusedLaunch = events.find((e) => e.type === 'launch.refused');
    assert.equal(refusedLaunch?.reason, 'token already used (replay)');
    const accepted = events.find((e) => e.type === 'launch.accepted');
    assert.equal(accepted?.tenant_id, 'acme');
    // No credential ever reaches the trail.
    const text = JSON.stringify(events);
    for (const secret of [
      SECRET,
      USER.password,
      code,
      token,
      issued.refreshToken,
      issued.accessToken,
    ]) {
      assert.ok(!text.includes(secret));
    }
  });

  test('login and throttling metrics count the outcomes above', async () => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'tessera_logins_total{outcome="failed"}'), 1);
    assert.equal(sample(text, 'tessera_logins_total{outcome="locked"}'), 1);
    // Ann's sign-in for the Spaces client, and her two for the consent client.
    assert.equal(sample(text, 'tessera_logins_total{outcome="succeeded"}'), 3);
    assert.equal(sample(text, 'tessera_throttled_total{kind="login"}'), 1);
    assert.equal(sample(text, 'tessera_throttled_total{kind="client_auth"}'), 1);
  });

  test('an unreachable store is a fast 503 temporarily_unavailable with Retry-After, and counted', async () => {
    const store = t.deps.store as { getClient: typeof t.deps.store.getClient };
    const real = store.getClient;
    store.getClient = () =>
      Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      );
    try {
      // From an address the earlier failures did not throttle.
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: '198.51.100.9',
        payload: {
          grant_type: 'client_credentials',
          client_id: 'svc',
          client_secret: 'anything-0123456789',
        },
      });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), {
        error: 'temporarily_unavailable',
        error_description: 'the service is temporarily unavailable; retry shortly',
      });
      assert.equal(res.headers['retry-after'], '1');
      assert.equal(res.headers['cache-control'], 'no-store');
    } finally {
      store.getClient = real;
    }
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'tessera_store_unavailable_total'), 1);
  });
});
