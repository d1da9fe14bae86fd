import { randomUUID } from 'node:crypto';
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { isCanonicalCompact } from './base64url.js';
import { signBytes } from './jws.js';
import type { ActiveKey, Keystore, SigningAlg } from './keystore.js';

/** RFC 9068 §2.2 claims, plus Tessera's `tenant_id`, `email` and `grant_id`. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  /** The audience; with the `openid` scope also the issuer (so UserInfo accepts it). */
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly jti: string;
  readonly client_id: string;
  readonly scope?: string;
  readonly tenant_id?: string;
  readonly email?: string;
  /** The refresh-token family or code this token came from; revoking it revokes the token. */
  readonly grant_id?: string;
}

export type AccessTokenPayload = AccessTokenClaims & JWTPayload;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The encoded JOSE header of each key, made once: it is the same for every token it signs. */
const encodedHeaders = new WeakMap<ActiveKey, string>();

/**
 * Signs with the cached `KeyObject` directly; jose is used for verification only. The
 * signature is made in the caller's turn of the event loop: gathering a poll turn's
 * signatures to make them back to back saved CPU only where the load generator shared the
 * machine (docs/performance.md).
 */
export function signAccessToken(
  key: ActiveKey,
  claims: Omit<AccessTokenClaims, 'jti'>,
): { token: string; jti: string } {
  const jti = randomUUID();
  let header = encodedHeaders.get(key);
  if (header === undefined) {
    header = b64({ alg: key.alg, typ: 'at+jwt', kid: key.kid });
    encodedHeaders.set(key, header);
  }
  const input = `${header}.${b64({ ...claims, jti })}`;
  const signature = signBytes(key, Buffer.from(input)).toString('base64url');
  return { token: `${input}.${signature}`, jti };
}

export class AccessTokenInvalid extends Error {
  override name = 'AccessTokenInvalid';
}

export interface VerifyOptions {
  readonly issuer: string;
  /** Accepted audiences; omitted: any (introspection reports on any token of ours). */
  readonly audience?: readonly string[];
  readonly clock: () => number;
  /** Allowed clock skew, seconds. */
  readonly skew?: number;
}

const ALGS: SigningAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/**
 * Verifies one of our access tokens: `alg` pinned to the algorithm of the key named by
 * `kid` (so a PS256 token cannot pass as RS256 and `none`/HS256 never reach a key), `typ`
 * `at+jwt`, `iss`, `aud`, `exp`/`nbf` with bounded skew.
 */
export async function verifyAccessToken(
  keystore: Keystore,
  token: string,
  opts: VerifyOptions,
): Promise<AccessTokenPayload> {
  // jose decodes laxly: other spellings of a token would verify as the token.
  if (!isCanonicalCompact(token)) throw new AccessTokenInvalid('token invalid');
  try {
    const { payload } = await jwtVerify<AccessTokenClaims>(
      token,
      async (header) => {
        const key = header.kid ? await keystore.verificationKey(header.kid) : undefined;
        if (!key || key.alg !== header.alg)
          throw new AccessTokenInvalid('unknown key or algorithm');
        return key.publicKey;
      },
      {
        algorithms: ALGS,
        typ: 'at+jwt',
        issuer: opts.issuer,
        ...(opts.audience && { audience: [...opts.audience] }),
        clockTolerance: opts.skew ?? 30,
        currentDate: new Date(opts.clock() * 1000),
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
      },
    );
    return payload as AccessTokenPayload;
  } catch (err) {
    if (err instanceof AccessTokenInvalid) throw err;
    if (err instanceof joseErrors.JOSEError || err instanceof TypeError) {
      throw new AccessTokenInvalid(
        err instanceof joseErrors.JWTExpired ? 'token expired' : 'token invalid',
      );
    }
    throw err;
  }
}
