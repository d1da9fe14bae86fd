import type { FastifyRequest } from 'fastify';
import { InsufficientScope, InvalidRequest, InvalidToken } from '../errors.js';
import {
  type AccessTokenPayload,
  AccessTokenInvalid,
  verifyAccessToken,
} from '../tokens/access-token.js';
import type { OAuthDeps } from './context.js';

export const REALM = 'tessera';

function challenge(error?: { code: string; description: string }, scope?: string): string {
  const parts = [`realm="${REALM}"`];
  if (error) {
    parts.push(
      `error="${error.code}"`,
      `error_description="${error.description.replace(/["\\]/g, '')}"`,
    );
  }
  if (scope) parts.push(`scope="${scope}"`);
  return `Bearer ${parts.join(', ')}`;
}

/** Adds the RFC 6750 challenge to a bearer error. */
export function bearerError<E extends InvalidToken | InsufficientScope | InvalidRequest>(
  err: E,
  scope?: string,
): E {
  err.headers['www-authenticate'] = challenge(err, scope);
  return err;
}

/** The token from `Authorization: Bearer …` (RFC 6750 §2.1); query-string tokens are not accepted. */
function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined) {
    // RFC 6750 §3.1: no error code when the request carries no credentials at all.
    const err = new InvalidToken('a bearer token is required');
    err.headers['www-authenticate'] = challenge();
    throw err;
  }
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match?.[1])
    throw bearerError(new InvalidRequest('malformed Authorization header (expected Bearer)'));
  return match[1];
}

export interface BearerRequirements {
  /** A scope the token must hold; 403 `insufficient_scope` otherwise. */
  readonly scope?: string | undefined;
}

/**
 * RFC 6750 protection for a resource of Tessera's own: a valid, unrevoked access token
 * addressed to this server (its issuer or configured audience).
 */
export async function requireBearer(
  request: FastifyRequest,
  deps: OAuthDeps,
  req: BearerRequirements = {},
): Promise<AccessTokenPayload> {
  const token = bearerToken(request);
  let payload: AccessTokenPayload;
  try {
    payload = await verifyAccessToken(deps.keystore, token, {
      issuer: deps.config.issuer,
      audience: [deps.config.issuer, deps.config.audience],
      clock: deps.clock,
    });
  } catch (err) {
    if (err instanceof AccessTokenInvalid) throw bearerError(new InvalidToken(err.message));
    throw err;
  }
  if (await deps.store.isAccessTokenRevoked(payload.jti, payload.grant_id)) {
    throw bearerError(new InvalidToken('token revoked'));
  }
  requireScope(payload, req.scope);
  return payload;
}

export function tokenScopes(payload: AccessTokenPayload): string[] {
  return (payload.scope ?? '').split(' ').filter((s) => s.length > 0);
}

/** 403 `insufficient_scope` unless the token holds `scope`. */
export function requireScope(payload: AccessTokenPayload, scope: string | undefined): void {
  if (scope && !tokenScopes(payload).includes(scope)) {
    throw bearerError(new InsufficientScope(`the token lacks scope ${scope}`), scope);
  }
}
