import type { Config } from '../../config/options.js';
import type { AccountLinkPurpose, Store } from '../../store/store.js';
import type { Crypto } from '../../tokens/master-key.js';
import { opaqueToken } from '../../tokens/opaque.js';

/** The account pages (DESIGN §7); a link opens the page named by its purpose. */
export const ACCOUNT_PATHS = {
  forgot: '/account/forgot',
  setup: '/account/setup',
  reset: '/account/reset',
} as const;

export interface LinkDeps {
  readonly config: Pick<Config, 'issuer' | 'inviteTtl' | 'passwordResetTtl'>;
  readonly store: Pick<Store, 'createAccountLink'>;
  readonly crypto: Pick<Crypto, 'hashSecret'>;
  /** Seconds since the epoch. */
  readonly clock: () => number;
}

/** Seconds a link of this purpose works: `inviteTtl` or `passwordResetTtl`. */
export function linkTtl(
  config: Pick<Config, 'inviteTtl' | 'passwordResetTtl'>,
  purpose: AccountLinkPurpose,
): number {
  return purpose === 'setup' ? config.inviteTtl : config.passwordResetTtl;
}

/**
 * The stored form of a link's token: its keyed hash, tagged so that it never equals the hash
 * of a session id, code or secret made from the same bytes.
 */
export function linkHash(crypto: Pick<Crypto, 'hashSecret'>, token: string): string {
  return crypto.hashSecret(`account link ${token}`);
}

/**
 * Makes a single-use link for the user: a 256-bit token of which only the keyed hash is
 * stored (voiding the user's older links), returned inside the URL of the purpose's page.
 * Called when the link is sent or printed, never earlier: no raw link is ever stored.
 */
export async function issueAccountLink(
  deps: LinkDeps,
  userId: string,
  purpose: AccountLinkPurpose,
): Promise<string> {
  const token = opaqueToken();
  const now = deps.clock();
  await deps.store.createAccountLink({
    tokenHash: linkHash(deps.crypto, token),
    userId,
    purpose,
    createdAt: now,
    expiresAt: now + linkTtl(deps.config, purpose),
  });
  // Beside the other endpoints, which follow the issuer with its path (DESIGN §3); base64url
  // needs no escaping.
  return `${deps.config.issuer}${ACCOUNT_PATHS[purpose]}?token=${token}`;
}
