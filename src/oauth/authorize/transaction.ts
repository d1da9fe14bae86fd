import type { OAuthDeps } from '../context.js';
import type { AuthorizationRequest } from './request.js';

/** How long a user may take on the login page before the request must start again. */
export const TRANSACTION_TTL = 900;
const AAD = 'tessera authorization transaction';

/**
 * The validated authorization request travels in the login form, sealed (AES-256-GCM
 * under the master key), so any node can continue it and nothing is stored per page view.
 */
export function sealTransaction(deps: OAuthDeps, request: AuthorizationRequest): string {
  const payload = JSON.stringify({ ...request, exp: deps.clock() + TRANSACTION_TTL });
  return deps.crypto.encrypt(Buffer.from(payload), AAD);
}

/** The sealed request, or undefined when it was tampered with or has expired. */
export function openTransaction(
  deps: OAuthDeps,
  sealed: string | undefined,
): AuthorizationRequest | undefined {
  if (sealed === undefined || sealed.length > 4096) return undefined;
  try {
    const value = JSON.parse(deps.crypto.decrypt(sealed, AAD).toString('utf8')) as Omit<
      AuthorizationRequest,
      'redirectUriSent'
    > & { exp: number; redirectUriSent?: boolean };
    if (value.exp <= deps.clock()) return undefined;
    // A form sealed by a node from before `redirectUriSent` (a rolling upgrade) keeps that
    // node's rule: the token endpoint then requires `redirect_uri`.
    return { ...value, redirectUriSent: value.redirectUriSent ?? true };
  } catch {
    return undefined;
  }
}
