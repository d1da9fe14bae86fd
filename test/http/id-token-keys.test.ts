/**
 * The keys that sign ID Tokens (DESIGN §6 "Signing"): an RS256 key is kept beside whatever
 * signs access tokens; a client's `id_token_alg` without a key gets an `id-token` key that
 * never signs access tokens; a rotation retires it like any key, and it is replaced once it
 * would leave the JWKS before an ID Token it signs expires.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listKeys, rotateKey } from '../../src/admin/keys.js';
import { idTokenSigner } from '../../src/tokens/keystore.js';
import type { SigningKey } from '../../src/store/store.js';
import { createTestApp } from '../helpers/app.js';
import { fetchJwks } from './helpers.js';

const key = (
  kid: string,
  alg: string,
  activatesAt: number,
  publishUntil: number | null,
  purpose: SigningKey['purpose'] = 'access',
): SigningKey => ({
  kid,
  alg,
  publicJwk: '{}',
  privateKey: '',
  createdAt: 0,
  activatesAt,
  publishUntil,
  purpose,
});

describe('idTokenSigner', () => {
  test('the newest activated key of the algorithm, whatever its purpose', () => {
    const rows = [
      key('rs-old', 'RS256', 0, 9000),
      key('es', 'ES256', 50, null),
      key('rs-id', 'RS256', 100, null, 'id-token'),
      key('rs-next', 'RS256', 500, null),
    ];
    assert.equal(idTokenSigner(rows, 'RS256', 200, 3600)?.kid, 'rs-id');
    assert.equal(idTokenSigner(rows, 'RS256', 600, 3600)?.kid, 'rs-next');
    assert.equal(idTokenSigner(rows, 'ES256', 200, 3600)?.kid, 'es');
    assert.equal(idTokenSigner(rows, 'EdDSA', 200, 3600), undefined);
  });

  test('never a key that leaves the JWKS before an ID Token it signs expires', () => {
    const rows = [key('leaving', 'RS256', 0, 4000)];
    assert.equal(idTokenSigner(rows, 'RS256', 400, 3600)?.kid, 'leaving');
    assert.equal(idTokenSigner(rows, 'RS256', 401, 3600), undefined);
  });
});

describe('ID Token keys in a running server', () => {
  test('signingAlg ES256: an RS256 id-token key beside it, made once', async () => {
    const t = await createTestApp({ flags: { signingAlg: 'ES256' } });
    try {
      // Both made in the same second: listed in kid order, so compared by algorithm.
      const byAlg = (a: { alg: string }, b: { alg: string }) => a.alg.localeCompare(b.alg);
      const rows = (await t.deps.store.listSigningKeys()).sort(byAlg);
      assert.deepEqual(
        rows.map((r) => [r.alg, r.purpose]),
        [
          ['ES256', 'access'],
          ['RS256', 'id-token'],
        ],
      );
      assert.equal((await t.deps.keystore.signingKey()).alg, 'ES256');
      assert.equal((await t.deps.keystore.idTokenKey('RS256', 3600)).kid, rows[1]?.kid);
      // A second start (another node) finds it and makes no other.
      await t.deps.keystore.ensureKey('ES256');
      assert.equal((await t.deps.store.listSigningKeys()).length, 2);
      assert.deepEqual((await fetchJwks(t)).keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
      assert.deepEqual(
        (await listKeys(t.deps)).sort(byAlg).map((k) => [k.alg, k.status, k.purpose]),
        [
          ['ES256', 'active', 'access'],
          ['RS256', 'active', 'id-token'],
        ],
      );
    } finally {
      await t.close();
    }
  });

  test('an algorithm without a key gets one that signs ID Tokens only, until it is leaving', async () => {
    const t = await createTestApp();
    try {
      const access = await t.deps.keystore.signingKey();
      assert.equal(access.alg, 'RS256');
      const ed = await t.deps.keystore.idTokenKey('EdDSA', 3600);
      assert.equal(ed.alg, 'EdDSA');
      assert.equal((await t.deps.keystore.idTokenKey('EdDSA', 3600)).kid, ed.kid, 'made once');
      assert.equal(
        (await t.deps.keystore.signingKey()).kid,
        access.kid,
        'access tokens: as before',
      );
      assert.ok(
        (await fetchJwks(t)).keys.some((k) => k.kid === ed.kid),
        'published at once',
      );

      // A rotation retires it like any key: published for the longest token lifetime more.
      await rotateKey(t.deps, { alg: 'RS256', now: true });
      // The longest token lifetime is the cisco-spaces dialect's 24 h, plus 60 s of skew.
      const retainFor = 86400 + 60;
      const retired = (await t.deps.store.listSigningKeys()).find((k) => k.kid === ed.kid);
      assert.equal(retired?.publishUntil, t.clock.now + retainFor);
      assert.equal((await listKeys(t.deps)).find((k) => k.kid === ed.kid)?.status, 'retired');
      // Still long enough for one ID Token; then a fresh key takes over.
      assert.equal((await t.deps.keystore.idTokenKey('EdDSA', 3600)).kid, ed.kid);
      t.clock.advance(retainFor - 3600 + 1);
      const successor = await t.deps.keystore.idTokenKey('EdDSA', 3600);
      assert.notEqual(successor.kid, ed.kid);
      assert.equal(successor.alg, 'EdDSA');
      assert.notEqual((await t.deps.keystore.signingKey()).alg, 'EdDSA');
    } finally {
      await t.close();
    }
  });
});
