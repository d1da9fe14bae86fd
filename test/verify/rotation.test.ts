/**
 * Key rotation and withdrawal seen from a running resource server: one verifier, never
 * recreated, while Tessera rotates its signing key (admin API, as `tessera key rotate`) and
 * later stops publishing the old one. The cache bounds are made small so that real time can
 * pass them: `jwksCacheMaxAgeSeconds` bounds how long a withdrawn key is still trusted,
 * `jwksCooldownSeconds` how soon an unknown `kid` causes a refetch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { rotateKey } from '../../src/admin/keys.js';
import { createBearerVerifier } from '../../src/verify/index.js';
import { claims } from '../http/helpers.js';
import { type Issuer, refused, sleep, startIssuer } from './helpers.js';

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe('signing-key rotation while the resource server runs', () => {
  let issuer: Issuer;
  before(async () => {
    issuer = await startIssuer();
  });
  after(() => issuer.close());

  test('staged rotation: the new key is fetched once the cache is older than jwksCacheMaxAgeSeconds', async () => {
    const v = createBearerVerifier({
      issuer: issuer.url,
      audience: issuer.url,
      clock: issuer.t.clock.read,
      jwksCacheMaxAgeSeconds: 0.5,
    });
    const old = await issuer.token();
    await v.verify(old);
    const next = await rotateKey(issuer.t.deps, { now: false });
    // Tessera publishes the key keyPublishAhead (1 h) before it signs; a cache younger than
    // that has it by then. Here the cache age stands in for the publish-ahead delay.
    await sleep(600);
    issuer.t.clock.advance(issuer.t.deps.config.keyPublishAhead);
    const fresh = await issuer.token();
    assert.equal(kidOf(fresh), next.kid);
    assert.equal((await v.verify(fresh)).jti, claims(fresh).jti);
    assert.equal((await v.verify(old)).jti, claims(old).jti);
  });

  test('immediate rotation (--now): an unknown kid refetches the set, at most once per cooldown', async () => {
    const v = createBearerVerifier({
      issuer: issuer.url,
      audience: issuer.url,
      clock: issuer.t.clock.read,
      jwksCooldownSeconds: 1,
    });
    const old = await issuer.token();
    await v.verify(old);
    // ES256: generating the key is quick, so all of this happens well within the cooldown.
    const next = await rotateKey(issuer.t.deps, { now: true, alg: 'ES256' });
    const fresh = await issuer.token();
    assert.equal(kidOf(fresh), next.kid);
    assert.equal(decodeProtectedHeader(fresh).alg, 'ES256');
    await refused(v.verify(fresh), 'invalid_token', {
      description: 'the token signing key is not published by the issuer',
    });
    await sleep(1100);
    assert.equal((await v.verify(fresh)).jti, claims(fresh).jti);
    assert.equal((await v.verify(old)).jti, claims(old).jti);
  });
});

describe('a withdrawn (revoked) key', () => {
  let issuer: Issuer;
  before(async () => {
    issuer = await startIssuer();
  });
  after(() => issuer.close());

  test('its tokens are refused once the cache is jwksCacheMaxAgeSeconds old, without a restart', async () => {
    const old = await issuer.token();
    const iat = claims(old).iat as number;
    const v = createBearerVerifier({
      issuer: issuer.url,
      audience: issuer.url,
      // The resource server's clock stays where the token is valid: only the key changes.
      clock: () => iat,
      jwksCacheMaxAgeSeconds: 1,
    });
    await v.verify(old);

    const next = await rotateKey(issuer.t.deps, { now: true, alg: 'ES256' });
    const oldRow = (await issuer.t.deps.store.listSigningKeys()).find((k) => k.kid === kidOf(old));
    assert.ok(oldRow?.publishUntil);
    issuer.t.clock.now = oldRow.publishUntil;
    const jwks = await fetch(`${issuer.url}/.well-known/jwks.json`).then(
      (r) => r.json() as Promise<{ keys: { kid: string }[] }>,
    );
    assert.deepEqual(
      jwks.keys.map((k) => k.kid),
      [next.kid],
    );

    // Within the bound the cached key still verifies (this is the documented window)…
    assert.equal((await v.verify(old)).jti, claims(old).jti);
    await sleep(1100);
    // …after it, the set is refetched and the withdrawn key is gone.
    await refused(v.verify(old), 'invalid_token', {
      description: 'the token signing key is not published by the issuer',
    });
    // Refused for good, not just once.
    await refused(v.verify(old), 'invalid_token');
  });

  test('refreshKeys() drops a withdrawn key at once', async () => {
    const old = await issuer.token();
    const iat = claims(old).iat as number;
    const v = createBearerVerifier({
      issuer: issuer.url,
      audience: issuer.url,
      clock: () => iat,
    });
    await v.verify(old);
    await rotateKey(issuer.t.deps, { now: true, alg: 'ES256' });
    const oldRow = (await issuer.t.deps.store.listSigningKeys()).find((k) => k.kid === kidOf(old));
    assert.ok(oldRow?.publishUntil);
    issuer.t.clock.now = oldRow.publishUntil;
    assert.equal((await v.verify(old)).jti, claims(old).jti);
    await v.refreshKeys();
    await refused(v.verify(old), 'invalid_token', {
      description: 'the token signing key is not published by the issuer',
    });
  });
});
