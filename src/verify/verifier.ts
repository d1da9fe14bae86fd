/**
 * `createBearerVerifier`: what a partner's resource server uses to accept Tessera's access
 * tokens (RFC 9068 JWTs) without calling Tessera per request. Keys come from Tessera's
 * published JWK Set, cached with a bound (see jwks.ts and docs/verify.md).
 */
import { errors, jwtVerify } from 'jose';
import { isHttpsOrLoopback } from '../config/load.js';
import type { AccessTokenPayload } from '../tokens/access-token.js';
import { isCanonicalCompact } from '../tokens/base64url.js';
import { SIGNING_ALGS, type SigningAlg } from '../tokens/keystore.js';
import {
  type Credentials,
  type RequestLike,
  parseAuthorization,
  requestCredentials,
} from './credentials.js';
import { BearerError, type BearerErrorCode, scopeList } from './errors.js';
import { remoteKeySet } from './jwks.js';

/** The claims of a verified Tessera access token (RFC 9068 §2.2 plus Tessera's own). */
export type TesseraAccessTokenClaims = AccessTokenPayload;

export type { SigningAlg };

export interface BearerVerifierOptions {
  /** Tessera's issuer URL, exactly as in its metadata (`iss` must equal it). */
  readonly issuer: string;
  /**
   * The audience(s) this resource server accepts; the token's `aud` must be one of them.
   * Tessera's default audience is its issuer; a client may be given another (`--audience`).
   */
  readonly audience: string | readonly string[];
  /** Scopes every token must hold (all of them); routes may require more. */
  readonly requiredScopes?: readonly string[];
  /** Default `<issuer>/.well-known/jwks.json`, where Tessera always publishes its keys. */
  readonly jwksUri?: string;
  /** Accepted `alg` values; default all four Tessera signs with. Symmetric ones are refused. */
  readonly algorithms?: readonly SigningAlg[];
  /** Allowed clock skew on `exp`/`nbf`, seconds: default 30, at most 300. */
  readonly clockToleranceSeconds?: number;
  /** Timeout of one JWK Set fetch, seconds: default 5, at most 60. */
  readonly jwksTimeoutSeconds?: number;
  /**
   * Longest time a fetched JWK Set is used before it is fetched again, seconds: default 300,
   * at most 86400. This bounds how long a key removed from the set is still accepted.
   */
  readonly jwksCacheMaxAgeSeconds?: number;
  /**
   * Least time between two fetches caused by an unknown `kid`, and the pause after a failed
   * fetch, seconds: default 5, at most 3600.
   */
  readonly jwksCooldownSeconds?: number;
  /** The `realm` of `WWW-Authenticate` challenges; default the (first) audience. */
  readonly realm?: string;
  /** Seconds since the epoch, for `exp`/`nbf` checks; default the system clock. */
  readonly clock?: () => number;
}

export interface VerifyCallOptions {
  /** Scopes this call needs in addition to the verifier's `requiredScopes`. */
  readonly scopes?: readonly string[] | undefined;
}

export interface BearerVerifier {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly jwksUri: string;
  readonly realm: string;
  readonly requiredScopes: readonly string[];
  /**
   * Verifies an `Authorization` header value, or a bare token: a value containing a space, or
   * no `.` at all (no JWT lacks one), is read as a header. `undefined` means no header.
   * Resolves with the claims or rejects with a `BearerError` (or a `KeySetUnavailableError`
   * when the issuer's keys cannot be fetched).
   */
  verify(
    authorizationOrToken: string | undefined,
    options?: VerifyCallOptions,
  ): Promise<TesseraAccessTokenClaims>;
  /**
   * Like `verify`, for a `node:http` request (Express, Connect, `request.raw` in Fastify):
   * also refuses a repeated `Authorization` header and tokens in the query or a parsed body.
   */
  verifyRequest(
    request: RequestLike,
    options?: VerifyCallOptions,
  ): Promise<TesseraAccessTokenClaims>;
  /** Fetches the JWK Set now (e.g. right after a key was withdrawn), ignoring the cache. */
  refreshKeys(): Promise<void>;
  /** The bare challenge (`Bearer realm="…"`), for answers of your own. */
  readonly challenge: string;
}

/** Tokens are under 2 KiB; anything much larger is refused before it is parsed. */
const MAX_TOKEN_LENGTH = 8192;

const REQUIRED_CLAIMS = ['exp', 'iat', 'jti', 'sub', 'client_id'];

function boundedSeconds(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new RangeError(`${name} must be a number of seconds from ${min} to ${max}`);
  return value;
}

function httpsUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} is not a URL: ${value}`);
  }
  // Keys decide which tokens are trusted: plain http only on the same machine.
  if (!isHttpsOrLoopback(url))
    throw new TypeError(`${name} must be https (http only for loopback hosts): ${value}`);
  return url;
}

/** A fixed description for each way jose refuses a token; nothing from the token is echoed. */
function describe(err: Error): string | undefined {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return 'the token is not valid yet';
      case 'iss':
        return 'the token was not issued by the expected issuer';
      case 'aud':
        return 'the token is not meant for this audience';
      case 'typ':
        return 'the token is not an access token (typ must be at+jwt)';
      default:
        return err.reason === 'missing' && REQUIRED_CLAIMS.includes(err.claim)
          ? `the token has no ${err.claim} claim`
          : 'the token claims are invalid';
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return 'the token signing algorithm is not accepted';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return 'the token signing key is not published by the issuer';
  if (err instanceof errors.JOSEError) return 'the token is malformed';
  return undefined;
}

export function createBearerVerifier(options: BearerVerifierOptions): BearerVerifier {
  if (typeof options.issuer !== 'string' || options.issuer.length === 0)
    throw new TypeError('issuer is required');
  httpsUrl('issuer', options.issuer);
  const audience =
    typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a.length === 0))
    throw new TypeError('audience is required (one or more non-empty strings)');
  const algorithms = [...(options.algorithms ?? SIGNING_ALGS)];
  if (algorithms.length === 0 || algorithms.some((a) => !SIGNING_ALGS.includes(a)))
    throw new TypeError(`algorithms must be among ${SIGNING_ALGS.join(', ')}`);
  const requiredScopes = scopeList('requiredScopes', options.requiredScopes);
  const tolerance = boundedSeconds(
    'clockToleranceSeconds',
    options.clockToleranceSeconds,
    30,
    0,
    300,
  );
  const cacheMaxAge = boundedSeconds(
    'jwksCacheMaxAgeSeconds',
    options.jwksCacheMaxAgeSeconds,
    300,
    0.001,
    86_400,
  );
  const jwksUri = options.jwksUri ?? `${options.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
  const keys = remoteKeySet({
    url: httpsUrl('jwksUri', jwksUri),
    timeoutSeconds: boundedSeconds('jwksTimeoutSeconds', options.jwksTimeoutSeconds, 5, 0.001, 60),
    cacheMaxAgeSeconds: cacheMaxAge,
    cooldownSeconds: boundedSeconds('jwksCooldownSeconds', options.jwksCooldownSeconds, 5, 0, 3600),
  });
  const realm = options.realm ?? (audience[0] as string);
  const clock = options.clock;

  const fail = (code: BearerErrorCode, description: string, scope?: readonly string[]) =>
    new BearerError(code, description, { realm, ...(scope && { scope }) });

  async function verifyToken(token: string): Promise<TesseraAccessTokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw fail('invalid_token', 'the token is too large');
    // jose decodes laxly: other spellings of a token would verify as the token.
    if (!isCanonicalCompact(token)) throw fail('invalid_token', 'the token is malformed');
    try {
      const { payload } = await jwtVerify(token, keys.getKey, {
        algorithms,
        typ: 'at+jwt',
        issuer: options.issuer,
        audience,
        clockTolerance: tolerance,
        requiredClaims: REQUIRED_CLAIMS,
        ...(clock && { currentDate: new Date(clock() * 1000) }),
      });
      if (
        !['sub', 'jti', 'client_id'].every((c) => typeof payload[c] === 'string') ||
        (payload['scope'] !== undefined && typeof payload['scope'] !== 'string')
      )
        throw fail('invalid_token', 'the token claims are invalid');
      return payload as TesseraAccessTokenClaims;
    } catch (err) {
      const description = err instanceof Error ? describe(err) : undefined;
      if (description === undefined) throw err;
      throw fail('invalid_token', description);
    }
  }

  async function check(
    credentials: Credentials,
    call: VerifyCallOptions | undefined,
  ): Promise<TesseraAccessTokenClaims> {
    if (credentials.kind === 'missing') {
      throw new BearerError('invalid_token', 'a bearer token is required', {
        realm,
        credentialsMissing: true,
      });
    }
    if (credentials.kind === 'malformed') throw fail('invalid_request', credentials.description);
    const claims = await verifyToken(credentials.token);
    const needed = [...new Set([...requiredScopes, ...scopeList('scopes', call?.scopes)])];
    const held = new Set((claims.scope ?? '').split(' '));
    const lacking = needed.filter((s) => !held.has(s));
    if (lacking.length > 0) {
      throw fail('insufficient_scope', `the token lacks scope ${lacking.join(' ')}`, needed);
    }
    return claims;
  }

  return {
    issuer: options.issuer,
    audience,
    jwksUri,
    realm,
    requiredScopes,
    challenge: new BearerError('invalid_token', '', { realm, credentialsMissing: true })
      .wwwAuthenticate,
    verify(input, call) {
      const header = input === undefined || /\s/.test(input) || !input.includes('.');
      return check(header ? parseAuthorization(input) : { kind: 'token', token: input }, call);
    },
    verifyRequest: (request, call) => check(requestCredentials(request), call),
    refreshKeys: () => keys.reload(),
  };
}
