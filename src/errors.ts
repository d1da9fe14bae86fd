/**
 * One class per OAuth error code (RFC 6749 §5.2, RFC 6750 §3.1,
 * RFC 8707 §2, OpenID Connect Core §3.1.2.6) that Tessera sends. Each carries its HTTP status and wire code; `src/http/errors.ts` is the one
 * place that turns any error into a response. docs/errors.md lists them (a test keeps the two
 * in step).
 */
export abstract class OAuthError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  headers: Record<string, string> = {};

  constructor(readonly description: string) {
    super(description);
  }
}

export class InvalidRequest extends OAuthError {
  override name = 'InvalidRequest';
  readonly status = 400;
  readonly code = 'invalid_request';
}

export class InvalidClient extends OAuthError {
  override name = 'InvalidClient';
  readonly status = 401;
  readonly code = 'invalid_client';
}

export class InvalidGrant extends OAuthError {
  override name = 'InvalidGrant';
  readonly status = 400;
  readonly code = 'invalid_grant';
}

export class UnauthorizedClient extends OAuthError {
  override name = 'UnauthorizedClient';
  readonly status = 400;
  readonly code = 'unauthorized_client';
}

export class UnsupportedGrantType extends OAuthError {
  override name = 'UnsupportedGrantType';
  readonly status = 400;
  readonly code = 'unsupported_grant_type';
}

export class InvalidScope extends OAuthError {
  override name = 'InvalidScope';
  readonly status = 400;
  readonly code = 'invalid_scope';
}

export class InvalidTarget extends OAuthError {
  override name = 'InvalidTarget';
  readonly status = 400;
  readonly code = 'invalid_target';
}

/** RFC 6749 §4.1.2.1, sent to the redirect URI only. */
export class UnsupportedResponseType extends OAuthError {
  override name = 'UnsupportedResponseType';
  readonly status = 400;
  readonly code = 'unsupported_response_type';
}

/** RFC 6749 §4.1.2.1, sent to the redirect URI only: the user cannot grant this client access. */
export class AccessDenied extends OAuthError {
  override name = 'AccessDenied';
  readonly status = 403;
  readonly code = 'access_denied';
}

/** OpenID Connect Core §3.1.2.6, by redirect only: `prompt=none` and no usable login session. */
export class LoginRequired extends OAuthError {
  override name = 'LoginRequired';
  readonly status = 400;
  readonly code = 'login_required';
}

/** Core §3.1.2.6, by redirect only: `prompt=none` where the tenant picker would be shown. */
export class AccountSelectionRequired extends OAuthError {
  override name = 'AccountSelectionRequired';
  readonly status = 400;
  readonly code = 'account_selection_required';
}

/** Core §3.1.2.6, by redirect only: `prompt=none` where the consent page would be shown. */
export class ConsentRequired extends OAuthError {
  override name = 'ConsentRequired';
  readonly status = 400;
  readonly code = 'consent_required';
}

/** Core §3.1.2.6, by redirect only: a `request` object (Core §6.1) was sent. */
export class RequestNotSupported extends OAuthError {
  override name = 'RequestNotSupported';
  readonly status = 400;
  readonly code = 'request_not_supported';
}

/** Core §3.1.2.6, by redirect only: a `request_uri` (Core §6.2) was sent. */
export class RequestUriNotSupported extends OAuthError {
  override name = 'RequestUriNotSupported';
  readonly status = 400;
  readonly code = 'request_uri_not_supported';
}

/** RFC 6750 §3.1: the bearer token is missing, expired, revoked or malformed. */
export class InvalidToken extends OAuthError {
  override name = 'InvalidToken';
  readonly status = 401;
  readonly code = 'invalid_token';
}

/** RFC 6750 §3.1: the token lacks the scope (or tenant) the resource needs. */
export class InsufficientScope extends OAuthError {
  override name = 'InsufficientScope';
  readonly status = 403;
  readonly code = 'insufficient_scope';
}

export class TemporarilyUnavailable extends OAuthError {
  override name = 'TemporarilyUnavailable';
  readonly status = 503;
  readonly code = 'temporarily_unavailable';
}

/** Never built with a description of the cause: the serializer hides internals behind it. */
export class ServerError extends OAuthError {
  override name = 'ServerError';
  readonly status = 500;
  readonly code = 'server_error';
}

/** Every concrete error class, for the catalogue test and docs. */
export const ERROR_CLASSES = [
  InvalidRequest,
  InvalidClient,
  InvalidGrant,
  UnauthorizedClient,
  UnsupportedGrantType,
  InvalidScope,
  InvalidTarget,
  UnsupportedResponseType,
  AccessDenied,
  LoginRequired,
  AccountSelectionRequired,
  RequestNotSupported,
  RequestUriNotSupported,
  InvalidToken,
  InsufficientScope,
  TemporarilyUnavailable,
  ServerError,
] as const;
