/**
 * `POST /spaces/launch` (DESIGN §3 "Cisco Spaces launch"): a Cisco-signed RS256 token whose
 * key is fetched only from an allow-listed `baseUrl`, verified with `node:crypto` (1024-bit
 * keys included), refused with a 401 page and no session in every other case.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { listAudit } from '../../src/admin/audit.js';
import { updateTenant } from '../../src/admin/tenants.js';
import {
  type LaunchKeySource,
  LaunchRefused,
  createLaunchKeySource,
  verifySpacesLaunchToken,
} from '../../src/tokens/launch-token.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  type FakeKeyServer,
  PARTNER_KEY_PATH,
  type RsaKey,
  SESSION_COOKIE,
  assertPageHeaders,
  hmacWithPublicKey,
  launchClaims,
  mintLaunchToken,
  respellSignature,
  rsaKey,
  setCookie,
  startFakeKeyServer,
  tamperPayload,
  trailingBitVariants,
  unsignedToken,
} from '../helpers/spaces.js';

const ACME_APP = 'https://app.acme.example/start';
const GLOBEX_APP = 'https://app.globex.example/';

describe('Spaces launch', () => {
  let t: TestApp;
  let cisco: FakeKeyServer;
  let evil: FakeKeyServer;
  /** The key server of the fetch-count tests: its requests are theirs alone. */
  let counted: FakeKeyServer;
  let key1024: RsaKey;
  let key2048: RsaKey;

  before(async () => {
    key1024 = rsaKey(1024);
    key2048 = rsaKey(2048);
    cisco = await startFakeKeyServer([
      { version: 1, key: key1024 },
      { version: 'v2', key: key2048 },
    ]);
    evil = await startFakeKeyServer([{ version: 1, key: rsaKey(1024) }]);
    counted = await startFakeKeyServer([{ version: 1, key: key1024 }]);
    t = await createTestApp({
      flags: {
        // `/down` answers 404: a base URL whose key list cannot be fetched.
        spacesLaunchAllowedBaseUrls: [cisco.url, counted.url, `${counted.url}/down`],
      },
    });
    await t.tenant('acme');
    await updateTenant(t.deps, 'acme', { appUrl: ACME_APP });
    await t.tenant('globex');
    await updateTenant(t.deps, 'globex', { appUrl: GLOBEX_APP });
    await t.tenant('no-app');
  });
  after(async () => {
    await t.close();
    await cisco.close();
    await evil.close();
    await counted.close();
  });

  function launch(
    body: Record<string, string>,
    as: 'form' | 'json' = 'form',
  ): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: 'POST',
      url: '/spaces/launch',
      payload: as === 'json' ? JSON.stringify(body) : new URLSearchParams(body).toString(),
      headers: {
        'content-type': as === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
      },
    });
  }

  async function sessionCount(): Promise<number> {
    return (await t.rows('select * from sessions')).length;
  }

  async function refusalReasons(): Promise<(string | null)[]> {
    await t.deps.audit.flush();
    const events = await listAudit(t.deps, { type: 'launch.refused', limit: 10_000 });
    return events.map((e) => e.reason);
  }

  /**
   * A 401 `launch-refused` page: no redirect, no session cookie, no session row; and one
   * `launch.refused` audit event, with `reason` when given.
   */
  async function assertRefused(
    body: Record<string, string>,
    as: 'form' | 'json' = 'form',
    reason?: string,
  ): Promise<void> {
    const before = await sessionCount();
    const reasonsBefore = await refusalReasons();
    const res = await launch(body, as);
    assert.equal(res.statusCode, 401, res.body);
    assertPageHeaders(res);
    assert.ok(res.body.includes('launch-refused'), res.body);
    assert.equal(res.headers['location'], undefined);
    assert.equal(setCookie(res, SESSION_COOKIE), undefined);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal(await sessionCount(), before);
    const reasons = await refusalReasons();
    assert.equal(reasons.length, reasonsBefore.length + 1, 'one launch.refused event');
    if (reason !== undefined) {
      const count = (list: (string | null)[]) => list.filter((r) => r === reason).length;
      assert.equal(count(reasons), count(reasonsBefore) + 1, `refused because ${reason}`);
    }
  }

  function assertAccepted(res: LightMyRequestResponse, appUrl: string): void {
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers['location'], appUrl);
    const cookie = setCookie(res, SESSION_COOKIE);
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.attributes['httponly'], true);
    assert.equal(cookie.attributes['samesite'], 'Lax');
    assert.equal(cookie.attributes['path'], '/');
  }

  function claims(tenant = 'acme', extra: Record<string, unknown> = {}) {
    return launchClaims(tenant, cisco.url, t.clock.now, extra);
  }

  test('a token signed with the 1024-bit key (form body) is accepted; the key is fetched once', async () => {
    assertAccepted(
      await launch({ token: mintLaunchToken(key1024.privateKey, claims()), version: '1' }),
      ACME_APP,
    );
    assert.deepEqual(cisco.requests, [PARTNER_KEY_PATH]);
    assertAccepted(
      await launch({ token: mintLaunchToken(key1024.privateKey, claims('globex')), version: '1' }),
      GLOBEX_APP,
    );
    assert.deepEqual(cisco.requests, [PARTNER_KEY_PATH], 'cached by (baseUrl, version)');
    const rows = await t.rows<{ subject: string; tenant_id: string; user_id: string | null }>(
      'select subject, tenant_id, user_id from sessions order by subject',
    );
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      [
        { subject: 'spaces:acme', tenant_id: 'acme', user_id: null },
        { subject: 'spaces:globex', tenant_id: 'globex', user_id: null },
      ],
    );
  });

  test('a token signed with the 2048-bit key (JSON body) is accepted', async () => {
    const token = mintLaunchToken(key2048.privateKey, claims());
    assertAccepted(await launch({ token, version: 'v2' }, 'json'), ACME_APP);
  });

  test('a baseUrl outside the allow-list → refused, and its key server gets no request', async () => {
    const seen = cisco.requests.length;
    const evilKey = evil.keys[0]?.key;
    assert.ok(evilKey);
    await assertRefused({
      token: mintLaunchToken(evilKey.privateKey, launchClaims('acme', evil.url, t.clock.now)),
      version: '1',
    });
    assert.equal(evil.requests.length, 0);
    // Another spelling of the allowed server is not the allowed server either.
    const port = new URL(cisco.url).port;
    await assertRefused({
      token: mintLaunchToken(
        key1024.privateKey,
        launchClaims('acme', `http://localhost:${port}`, t.clock.now),
      ),
      version: '1',
    });
    await assertRefused({
      token: mintLaunchToken(
        key1024.privateKey,
        launchClaims('acme', `${cisco.url}/elsewhere`, t.clock.now),
      ),
      version: '1',
    });
    assert.equal(cisco.requests.length, seen);
  });

  test('alg none → refused', async () => {
    await assertRefused({ token: unsignedToken(claims()), version: '1' });
  });

  test('HS256 with the public key bytes as the HMAC secret → refused', async () => {
    for (const token of hmacWithPublicKey(claims(), key1024)) {
      await assertRefused({ token, version: '1' });
    }
  });

  test('an RS256 header with another alg spelling or a PS256 signature → refused', async () => {
    await assertRefused({
      token: mintLaunchToken(key1024.privateKey, claims(), { alg: 'rs256' }),
      version: '1',
    });
    await assertRefused({
      token: mintLaunchToken(key2048.privateKey, claims(), { alg: 'PS256' }),
      version: 'v2',
    });
  });

  test('an expired token → refused', async () => {
    await assertRefused({
      token: mintLaunchToken(key1024.privateKey, claims('acme', { exp: t.clock.now - 600 })),
      version: '1',
    });
  });

  test('a tampered payload → refused', async () => {
    const token = mintLaunchToken(key1024.privateKey, claims());
    await assertRefused({
      token: tamperPayload(token, { partnerTenantId: 'globex' }),
      version: '1',
    });
  });

  test('a signature by the key of another version → refused', async () => {
    await assertRefused({
      token: mintLaunchToken(key2048.privateKey, claims()),
      version: '1',
    });
  });

  test('an unknown version → refused', async () => {
    await assertRefused(
      { token: mintLaunchToken(key1024.privateKey, claims()), version: '99' },
      'form',
      'no partner public key for version 99',
    );
  });

  test('a replay of an accepted token → refused', async () => {
    const token = mintLaunchToken(
      key1024.privateKey,
      claims('acme', { activationRefId: 'replay' }),
    );
    assertAccepted(await launch({ token, version: '1' }), ACME_APP);
    await assertRefused({ token, version: '1' });
    await assertRefused({ token, version: '1' }, 'json');
  });

  test('another spelling of a used signature (its unused trailing bits set) → refused, no second session', async () => {
    const token = mintLaunchToken(key1024.privateKey, claims('acme', { activationRefId: 'bits' }));
    assertAccepted(await launch({ token, version: '1' }), ACME_APP);
    // The replay record is the signature's bytes (keyed), not the text that carried them.
    const signatureBytes = Buffer.from(token.split('.')[2] ?? '', 'base64url');
    const recorded = await t.rows<{ token_hash: string }>(
      'select token_hash from launch_tokens where token_hash = ?',
      t.deps.crypto.hashSecret(signatureBytes.toString('base64url')),
    );
    assert.equal(recorded.length, 1);
    const variants = trailingBitVariants(token.split('.')[2] ?? '');
    // A 1024-bit signature is 128 bytes: 171 characters, the last one with 2 unused bits.
    assert.equal(variants.length, 3);
    for (const signature of variants) {
      await assertRefused(
        { token: respellSignature(token, () => signature), version: '1' },
        'form',
        'malformed token',
      );
    }
    await assertRefused({ token, version: '1' }, 'form', 'token already used (replay)');
  });

  test('a non-canonical spelling of an unused token → refused, and the token itself still works', async () => {
    const token = mintLaunchToken(key2048.privateKey, claims('acme', { activationRefId: 'bits2' }));
    const variants = trailingBitVariants(token.split('.')[2] ?? '');
    // 256 bytes: 342 characters, the last one with 4 unused bits.
    assert.equal(variants.length, 15);
    for (const signature of variants) {
      await assertRefused(
        { token: respellSignature(token, () => signature), version: 'v2' },
        'json',
        'malformed token',
      );
    }
    assertAccepted(await launch({ token, version: 'v2' }, 'json'), ACME_APP);
  });

  test('a padded, standard-alphabet or whitespace-broken signature → refused', async () => {
    // A signature holding `-` or `_`, so that its standard-alphabet spelling differs.
    let token = '';
    for (let i = 0; !/[-_]/.test(token.split('.')[2] ?? ''); i++) {
      token = mintLaunchToken(key1024.privateKey, claims('acme', { activationRefId: `std-${i}` }));
    }
    const spellings: ((s: string) => string)[] = [
      (s) => `${s}=`,
      (s) => Buffer.from(s, 'base64url').toString('base64').replace(/=+$/, ''),
      (s) => `${s.slice(0, 40)} ${s.slice(40)}`,
      (s) => `${s.slice(0, 40)}\n${s.slice(40)}`,
      (s) => `${s}\t`,
    ];
    for (const spell of spellings) {
      await assertRefused(
        { token: respellSignature(token, spell), version: '1' },
        'form',
        'malformed token',
      );
    }
    assertAccepted(await launch({ token, version: '1' }), ACME_APP);
  });

  test('an unknown tenant, or one without an app URL → refused', async () => {
    await assertRefused({
      token: mintLaunchToken(key1024.privateKey, claims('nobody')),
      version: '1',
    });
    await assertRefused({
      token: mintLaunchToken(key1024.privateKey, claims('no-app')),
      version: '1',
    });
  });

  test('no token, or not a JWT → refused', async () => {
    await assertRefused({ version: '1' });
    await assertRefused({ token: 'not-a-jwt', version: '1' });
    await assertRefused({ token: 'a.b.c', version: '1' }, 'json');
  });

  /** A token for acme naming `baseUrl`, signed with `key` (by default not Cisco's). */
  function tokenFor(baseUrl: string, activationRefId: string, key = evil.keys[0]?.key): string {
    assert.ok(key);
    return mintLaunchToken(
      key.privateKey,
      launchClaims('acme', baseUrl, t.clock.now, { activationRefId }),
    );
  }

  test('25 forged tokens, each naming a fresh version, cost one key fetch', async () => {
    for (let i = 0; i < 25; i++) {
      await assertRefused(
        { token: tokenFor(counted.url, `forged-${i}`), version: `fresh-${i}` },
        'form',
        `no partner public key for version fresh-${i}`,
      );
    }
    assert.deepEqual(counted.requests, [PARTNER_KEY_PATH]);
  });

  test('an unknown version fetches the list again only once 60 s have passed', async () => {
    t.clock.advance(59);
    await assertRefused({ token: tokenFor(counted.url, 'early'), version: 'fresh-early' });
    assert.equal(counted.requests.length, 1);
    t.clock.advance(1);
    await assertRefused({ token: tokenFor(counted.url, 'due'), version: 'fresh-due' });
    await assertRefused({ token: tokenFor(counted.url, 'after'), version: 'fresh-after' });
    assert.equal(counted.requests.length, 2);
  });

  test('a version published later is picked up after the cooldown; known ones never wait', async () => {
    counted.keys = [...counted.keys, { version: 'next', key: key2048 }];
    const seen = counted.requests.length;
    await assertRefused(
      { token: tokenFor(counted.url, 'next-0', key2048), version: 'next' },
      'form',
      'no partner public key for version next',
    );
    assertAccepted(
      await launch({ token: tokenFor(counted.url, 'known', key1024), version: '1' }),
      ACME_APP,
    );
    assert.equal(counted.requests.length, seen);
    t.clock.advance(60);
    assertAccepted(
      await launch({ token: tokenFor(counted.url, 'next-1', key2048), version: 'next' }),
      ACME_APP,
    );
    assertAccepted(
      await launch({ token: tokenFor(counted.url, 'next-2', key2048), version: 'next' }),
      ACME_APP,
    );
    assert.equal(counted.requests.length, seen + 1);
  });

  test('20 concurrent launches of a newly published version share one fetch', async () => {
    counted.keys = [...counted.keys, { version: 'burst', key: key1024 }];
    t.clock.advance(60);
    const seen = counted.requests.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        launch({ token: tokenFor(counted.url, `burst-${i}`, key1024), version: 'burst' }),
      ),
    );
    for (const res of results) assertAccepted(res, ACME_APP);
    assert.equal(counted.requests.length, seen + 1);
  });

  test('a key list that cannot be fetched is not asked for again within the cooldown', async () => {
    const down = `${counted.url}/down`;
    const seen = counted.requests.length;
    for (let i = 0; i < 10; i++) {
      await assertRefused(
        { token: tokenFor(down, `down-${i}`), version: `down-${i}` },
        'form',
        `partner public key unavailable from ${down}: HTTP 404`,
      );
    }
    assert.deepEqual(counted.requests.slice(seen), [`/down${PARTNER_KEY_PATH}`]);
  });

  test('a key under 1024 bits is refused even when served for the version', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 512 });
    const spki = weak.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    cisco.keys = [
      ...cisco.keys,
      {
        version: 'weak',
        key: { bits: 1024, privateKey: weak.privateKey, publicKey: weak.publicKey, spki },
      },
    ];
    t.clock.advance(60); // the list was fetched less than a cooldown ago
    await assertRefused(
      { token: mintLaunchToken(weak.privateKey, claims()), version: 'weak' },
      'form',
      'partner public key is not RSA ≥ 1024 bits',
    );
  });
});

describe('launch key source: bounded memory', () => {
  test('at most 32 base URLs are remembered: the oldest is forgotten first', async () => {
    const server = await startFakeKeyServer([]);
    try {
      const keys = createLaunchKeySource({ clock: () => 1_800_000_000 });
      const base = (i: number) => `${server.url}/b${i}`;
      const ask = (i: number) => assert.rejects(keys.key(base(i), 'x'), LaunchRefused);
      for (let i = 0; i <= 32; i++) await ask(i);
      assert.equal(server.requests.length, 33);
      await ask(1); // still remembered: within its cooldown
      assert.equal(server.requests.length, 33);
      await ask(0); // forgotten when the 33rd came
      assert.equal(server.requests.length, 34);
    } finally {
      await server.close();
    }
  });
});

describe('launch-token verifier: where keys may come from', () => {
  const key = rsaKey(1024);
  const now = 1_800_000_000;

  /** A key source that serves `key` and counts the fetches it was asked for. */
  function countingKeys(): LaunchKeySource & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      key(baseUrl) {
        asked.push(baseUrl);
        return Promise.resolve(key.publicKey);
      },
    };
  }

  test('an allow-listed https baseUrl is verified with the key fetched from it', async () => {
    const keys = countingKeys();
    const baseUrl = 'https://partners.dnaspaces.io';
    const token = mintLaunchToken(key.privateKey, launchClaims('acme', `${baseUrl}/`, now));
    const claims = await verifySpacesLaunchToken(token, '1', {
      allowedBaseUrls: [baseUrl],
      keys,
      now,
    });
    assert.equal(claims.partnerTenantId, 'acme');
    assert.deepEqual(keys.asked, [baseUrl]);
  });

  test('a plain-http baseUrl of a non-loopback host is never fetched from, even when listed', async () => {
    const keys = countingKeys();
    const baseUrl = 'http://partners.dnaspaces.io';
    const token = mintLaunchToken(key.privateKey, launchClaims('acme', baseUrl, now));
    await assert.rejects(
      verifySpacesLaunchToken(token, '1', { allowedBaseUrls: [baseUrl], keys, now }),
      LaunchRefused,
    );
    assert.deepEqual(keys.asked, []);
  });

  test('a plain-http loopback baseUrl is accepted when listed explicitly', async () => {
    const keys = countingKeys();
    const baseUrl = 'http://127.0.0.1:9';
    const token = mintLaunchToken(key.privateKey, launchClaims('acme', baseUrl, now));
    await verifySpacesLaunchToken(token, '1', { allowedBaseUrls: [baseUrl], keys, now });
    assert.deepEqual(keys.asked, [baseUrl]);
  });
});
