import type { OAuthDeps } from './context.js';
import type { RefreshToken } from '../store/store.js';
import {
  type AccessTokenPayload,
  AccessTokenInvalid,
  verifyAccessToken,
} from '../tokens/access-token.js';

export type FoundToken =
  | { readonly kind: 'access_token'; readonly payload: AccessTokenPayload }
  | { readonly kind: 'refresh_token'; readonly row: RefreshToken };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Finds one of our tokens by its shape (a JWT is an access token, anything else a refresh
 * token), for revocation and introspection. Signature, issuer and `typ` are checked; the
 * audience is not (both endpoints speak about any token we issued). An expired JWT is
 * reported as not found: there is nothing left to revoke or report.
 */
export async function findToken(deps: OAuthDeps, token: string): Promise<FoundToken | undefined> {
  if (JWT_SHAPE.test(token)) {
    try {
      const payload = await verifyAccessToken(deps.keystore, token, {
        issuer: deps.config.issuer,
        clock: deps.clock,
      });
      return { kind: 'access_token', payload };
    } catch (err) {
      if (err instanceof AccessTokenInvalid) return undefined;
      throw err;
    }
  }
  const row = await deps.store.findRefreshToken(deps.crypto.hashSecret(token));
  return row && { kind: 'refresh_token', row };
}
