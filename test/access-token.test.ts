import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { jwtVerify } from 'jose';
import { signAccessToken } from '../src/tokens/access-token.js';
import type { ActiveKey, SigningAlg } from '../src/tokens/keystore.js';

function activeKey(alg: SigningAlg): ActiveKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: `k-${alg}`, alg, ...pair };
}

const claims = {
  iss: 'https://issuer.example',
  sub: 'c1',
  aud: 'https://issuer.example',
  exp: 2_000_000_000,
  iat: 1_900_000_000,
  client_id: 'c1',
};

describe('signAccessToken', () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
    // Made at once, in the request that asks for it: not queued for a later turn of the event
    // loop, so what is returned is the token itself, not a promise of it.
    test(`${alg}: the token is signed at once and verifies`, async () => {
      const key = activeKey(alg);
      const { token, jti } = signAccessToken(key, claims);
      assert.equal(typeof token, 'string');
      const { payload, protectedHeader } = await jwtVerify(token, key.publicKey, {
        typ: 'at+jwt',
        currentDate: new Date(1_900_000_000 * 1000),
      });
      assert.deepEqual(protectedHeader, { alg, typ: 'at+jwt', kid: key.kid });
      assert.deepEqual(payload, { ...claims, jti });
    });
  }
});
