/**
 * The errors a resource server answers with (RFC 6750 §3) and the `WWW-Authenticate`
 * challenge that goes with them. Header values are built only from characters RFC 6750
 * allows, so nothing a caller sends can break out of a quoted attribute.
 */

/** The RFC 6750 §3.1 error codes. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

const STATUS = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 } as const;

/** The JSON body of an error answer (the same shape as RFC 6749 §5.2). */
export interface BearerErrorBody {
  readonly error: string;
  readonly error_description: string;
}

/**
 * RFC 6750 §3: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E (printable
 * ASCII without `"` and `\`); anything else is dropped rather than escaped, since a
 * recipient is not required to understand quoted-pairs in these attributes.
 */
function attributeText(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');
}

/** RFC 9110 §11.4 `quoted-string` for `realm`: `"` and `\` escaped, controls and non-ASCII dropped. */
function quotedString(value: string): string {
  return `"${value.replace(/[^\x20-\x7E]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

/** RFC 6749 §3.3 `scope-token`: %x21 / %x23-5B / %x5D-7E, at least one. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Required scopes, checked when they are configured (verifier, middleware, route) rather
 * than on a request: they go into the challenge header, which only scope-tokens can.
 */
export function scopeList(name: string, scopes: readonly string[] | undefined): string[] {
  for (const s of scopes ?? []) {
    if (typeof s !== 'string' || !SCOPE_TOKEN.test(s))
      throw new TypeError(`${name}: "${String(s)}" is not a valid scope name`);
  }
  return [...new Set(scopes ?? [])];
}

export interface ChallengeParts {
  readonly realm: string;
  readonly error?: BearerErrorCode | undefined;
  readonly description?: string | undefined;
  /** Scopes needed for the resource (RFC 6750 §3, sent with `insufficient_scope`). */
  readonly scope?: readonly string[] | undefined;
}

/** A `WWW-Authenticate: Bearer …` value. Without `error` it is the bare RFC 6750 §3.1 challenge. */
export function bearerChallenge(parts: ChallengeParts): string {
  const params = [`realm=${quotedString(parts.realm)}`];
  if (parts.error !== undefined) {
    params.push(`error="${parts.error}"`);
    if (parts.description !== undefined)
      params.push(`error_description="${attributeText(parts.description)}"`);
  }
  const scope = (parts.scope ?? []).filter((s) => SCOPE_TOKEN.test(s));
  if (scope.length > 0) params.push(`scope="${scope.join(' ')}"`);
  return `Bearer ${params.join(', ')}`;
}

/**
 * A refused request, ready to answer: `status`, the JSON `body` and the `wwwAuthenticate`
 * header value. `credentialsMissing` marks a request with no credentials at all: its
 * challenge carries no error attribute (RFC 6750 §3.1), though the body still names
 * `invalid_token`, as Tessera's own endpoints do.
 */
export class BearerError extends Error {
  override name = 'BearerError';
  readonly status: 400 | 401 | 403;
  readonly wwwAuthenticate: string;
  /** Scopes the resource needs (set for `insufficient_scope`). */
  readonly scope: readonly string[];
  readonly credentialsMissing: boolean;

  constructor(
    readonly code: BearerErrorCode,
    readonly description: string,
    options: { realm: string; scope?: readonly string[]; credentialsMissing?: boolean },
  ) {
    super(description);
    this.status = STATUS[code];
    this.scope = options.scope ?? [];
    this.credentialsMissing = options.credentialsMissing ?? false;
    this.wwwAuthenticate = bearerChallenge(
      this.credentialsMissing
        ? { realm: options.realm }
        : { realm: options.realm, error: code, description, scope: this.scope },
    );
  }

  get body(): BearerErrorBody {
    return { error: this.code, error_description: attributeText(this.description) };
  }
}

/**
 * The issuer's key set cannot be fetched (network error, timeout, non-200, not a JWK Set) and
 * no fresh copy is cached. Not the token's fault, so not a 401: the middlewares answer 503
 * `temporarily_unavailable`, and the client should retry rather than fetch a new token.
 */
export class KeySetUnavailableError extends Error {
  override name = 'KeySetUnavailableError';
  readonly status = 503;
  readonly body: BearerErrorBody = {
    error: 'temporarily_unavailable',
    error_description: 'the token issuer keys cannot be fetched right now',
  };
  /** Whole seconds until the next fetch will be tried (for `Retry-After`). */
  readonly retryAfter: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds: number }) {
    super(message, { cause: options.cause });
    this.retryAfter = Math.max(1, Math.ceil(options.retryAfterSeconds));
  }
}
