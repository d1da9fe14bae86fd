import { createHash } from 'node:crypto';
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { isCanonicalCompact } from './base64url.js';
import { signBytes } from './jws.js';
import { type ActiveKey, type Keystore, SIGNING_ALGS, type SigningAlg } from './keystore.js';

/** OpenID Connect Core §2 claims, with Tessera's `tenant_id` and the identity scopes' claims. */
export interface IdTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly exp: number;
  readonly iat: number;
  readonly auth_time?: number;
  readonly nonce?: string;
  readonly sid?: string;
  readonly tenant_id?: string;
  readonly name?: string;
  readonly updated_at?: number;
  readonly email?: string;
  readonly email_verified?: boolean;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Core §3.1.3.6 `at_hash`: the left half of the hash of the access token's ASCII, the hash
 * being the one of the ID Token's `alg` (SHA-512 for EdDSA over Ed25519, as OpenID
 * Connect's errata and every library using Ed25519 read it).
 */
export function accessTokenHash(alg: SigningAlg, accessToken: string): string {
  const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256')
    .update(accessToken, 'ascii')
    .digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Signs an ID Token (`typ: JWT`, `kid`) for the access token it accompanies. */
export function signIdToken(key: ActiveKey, claims: IdTokenClaims, accessToken: string): string {
  const input = `${b64({ alg: key.alg, typ: 'JWT', kid: key.kid })}.${b64({
    ...claims,
    at_hash: accessTokenHash(key.alg, accessToken),
  })}`;
  return `${input}.${signBytes(key, Buffer.from(input)).toString('base64url')}`;
}

export class IdTokenHintInvalid extends Error {
  override name = 'IdTokenHintInvalid';
}

/**
 * An `id_token_hint` (Core §3.1.2.1): an ID Token this issuer signed for `clientId` (in its
 * `aud`; any audience when `clientId` is undefined, as at end-session without `client_id`,
 * where the hint names the client). Its expiry is not checked: a hint names who the relying party believes is signed
 * in, and RPs send the last ID Token they hold, often long expired (node-oidc-provider and
 * Keycloak accept those too). The algorithm is pinned to the key's, as for access tokens.
 */
export async function verifyIdTokenHint(
  keystore: Keystore,
  token: string,
  opts: { issuer: string; clientId: string | undefined; clock: () => number },
): Promise<JWTPayload & { sub: string }> {
  if (token.length > 8192 || !isCanonicalCompact(token))
    throw new IdTokenHintInvalid('id_token_hint is malformed');
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? await keystore.verificationKey(header.kid) : undefined;
        if (!key || key.alg !== header.alg)
          throw new IdTokenHintInvalid('id_token_hint: unknown key or algorithm');
        return key.publicKey;
      },
      {
        algorithms: [...SIGNING_ALGS],
        typ: 'JWT',
        issuer: opts.issuer,
        ...(opts.clientId !== undefined && { audience: opts.clientId }),
        // Only the expiry is waived: a hint from the future is still refused.
        currentDate: new Date(opts.clock() * 1000),
        clockTolerance: Number.MAX_SAFE_INTEGER,
        requiredClaims: ['sub', 'iat'],
      },
    );
    if (typeof payload.iat === 'number' && payload.iat > opts.clock() + 30)
      throw new IdTokenHintInvalid('id_token_hint was issued in the future');
    return payload as JWTPayload & { sub: string };
  } catch (err) {
    if (err instanceof IdTokenHintInvalid) throw err;
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError)
      throw new IdTokenHintInvalid('id_token_hint is not an ID Token this server issued');
    throw err;
  }
}
