/**
 * Cisco Spaces launch tokens for an app that is not Tessera: the server's own verifier
 * (src/tokens/launch-token.ts) with library defaults — Cisco's base URLs, one shared key
 * cache, the system clock.
 */
import { optionSchemas } from '../config/options.js';
import {
  type LaunchKeySource,
  LaunchRefused,
  type SpacesLaunchClaims,
  createLaunchKeySource,
  normaliseBaseUrl,
  verifySpacesLaunchToken as verifyLaunchToken,
} from '../tokens/launch-token.js';

export { type LaunchKeySource, LaunchRefused, type SpacesLaunchClaims, createLaunchKeySource };

/** The Cisco Spaces base URLs Tessera accepts by default (its `spacesLaunchAllowedBaseUrls`). */
export const CISCO_SPACES_BASE_URLS: readonly string[] = Object.freeze([
  ...optionSchemas.spacesLaunchAllowedBaseUrls.default,
]);

export interface SpacesLaunchOptions {
  /** The `version` Cisco posts with the token: picks the key of that version. */
  readonly version?: string | undefined;
  /**
   * `baseUrl`s a token may name; keys are fetched only from these. Default
   * `CISCO_SPACES_BASE_URLS`. `http://` is honoured only for loopback hosts (tests).
   */
  readonly allowedBaseUrls?: readonly string[];
  /** Where keys come from; default one source shared by every call (keys cached per version). */
  readonly keys?: LaunchKeySource;
  /** Seconds since the epoch; default now. */
  readonly now?: number;
  /** Allowed clock skew on `exp`, seconds (default 60). */
  readonly skewSeconds?: number;
}

let sharedKeys: LaunchKeySource | undefined;

/**
 * Verifies a Cisco Spaces launch token (RS256 with Cisco's key, `exp`, a `partnerTenantId`)
 * and resolves with its claims; rejects with `LaunchRefused`. It does not refuse a replay:
 * remember each accepted token until its `exp` (Tessera keeps a hash in its store).
 */
export function verifySpacesLaunchToken(
  token: string,
  options: SpacesLaunchOptions = {},
): Promise<SpacesLaunchClaims> {
  const allowed = (options.allowedBaseUrls ?? CISCO_SPACES_BASE_URLS).map(
    (u) => normaliseBaseUrl(u) ?? u,
  );
  return verifyLaunchToken(token, options.version, {
    allowedBaseUrls: allowed,
    keys: options.keys ?? (sharedKeys ??= createLaunchKeySource()),
    now: options.now ?? Date.now() / 1000,
    ...(options.skewSeconds !== undefined && { skew: options.skewSeconds }),
  });
}
