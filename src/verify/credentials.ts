/**
 * Where the access token is in a request (RFC 6750 §2): only `Authorization: Bearer`. The
 * form-body and query methods (§2.2, §2.3) are not accepted, and a request that uses more
 * than one method, or repeats the header, is an `invalid_request` (§3.1).
 */

/** What a request carries: a token, nothing at all, or something malformed (with the reason). */
export type Credentials =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'malformed'; readonly description: string };

/** The parts of a `node:http` `IncomingMessage` (so Express, Connect and Fastify's `raw`) read. */
export interface RequestLike {
  readonly headers: { readonly authorization?: string | undefined };
  /** Header names and values as received; repeated `Authorization` headers show only here. */
  readonly rawHeaders?: readonly string[];
  readonly url?: string | undefined;
  /** A parsed body, when a body parser ran first (Express). */
  readonly body?: unknown;
}

/** RFC 6750 §2.1: `"Bearer" 1*SP b64token`; the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function parseAuthorization(value: string | undefined): Credentials {
  if (value === undefined) return { kind: 'missing' };
  const token = BEARER.exec(value)?.[1];
  return token === undefined
    ? { kind: 'malformed', description: 'malformed Authorization header (expected Bearer <token>)' }
    : { kind: 'token', token };
}

function authorizationHeaderCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]?.toLowerCase() === 'authorization') count++;
  return count;
}

function hasBodyToken(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Object.hasOwn(body, 'access_token');
}

function hasQueryToken(url: string | undefined): boolean {
  if (url === undefined || !url.includes('?')) return false;
  // Only the query matters; the base just makes a relative request target parseable.
  return new URL(url, 'http://request.invalid').searchParams.has('access_token');
}

export function requestCredentials(req: RequestLike): Credentials {
  // Node keeps only the first of repeated Authorization headers in `headers`, so a second one
  // (a second credential, possibly of another scheme) would otherwise go unnoticed.
  if (req.rawHeaders && authorizationHeaderCount(req.rawHeaders) > 1)
    return { kind: 'malformed', description: 'more than one Authorization header' };
  if (hasQueryToken(req.url) || hasBodyToken(req.body)) {
    return {
      kind: 'malformed',
      description:
        req.headers.authorization === undefined
          ? 'the access token is accepted only in the Authorization header'
          : 'the access token was sent by more than one method',
    };
  }
  return parseAuthorization(req.headers.authorization);
}
