import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { AuditTrail } from '../observability/audit.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { Keystore } from '../tokens/keystore.js';
import type { Crypto } from '../tokens/master-key.js';
import type { ClientCache } from './client-cache.js';
import type { DialectRegistry } from './dialects/index.js';
import type { Throttle } from './throttle.js';

/** The settings the protocol reads; the rest of `Config` is the server's business. */
export type OAuthConfig = Pick<
  Config,
  | 'issuer'
  | 'audience'
  | 'accessTokenTtl'
  | 'refreshTokenTtl'
  | 'refreshTokenIdleTtl'
  | 'codeTtl'
  | 'idTokenTtl'
  | 'sessionTtl'
  | 'userinfoScope'
  | 'clientAuthFailureLimit'
  | 'clientAuthIpFailureLimit'
  | 'loginFailureLimit'
  | 'loginAccountFailureLimit'
  | 'loginIpFailureLimit'
  | 'loginMaxWait'
  | 'smtpUrl'
  | 'inviteTtl'
  | 'passwordResetTtl'
  | 'forgotPasswordLimit'
  | 'forgotPasswordIpLimit'
>;

/** The store operations the protocol performs, and no others. */
export type OAuthStore = Pick<
  Store,
  | 'getBranding'
  | 'getTenant'
  | 'getUser'
  | 'getUserByEmail'
  | 'getConsent'
  | 'putConsent'
  | 'createSession'
  | 'findSession'
  | 'endSession'
  | 'insertAuthorizationCode'
  | 'findAuthorizationCode'
  | 'consumeAuthorizationCode'
  | 'recordIdTokenRecipient'
  | 'insertRefreshToken'
  | 'findRefreshToken'
  | 'redeemRefreshToken'
  | 'listSessionRefreshFamilies'
  | 'revokeRefreshFamily'
  | 'revokeAccessToken'
  | 'isAccessTokenRevoked'
  | 'queueMail'
  | 'findAccountLink'
  | 'redeemAccountLink'
>;

/**
 * What the OAuth protocol layer (src/oauth, and the layers built on it) needs from the
 * process, declared here so that the layer depends on nothing above it: src/server/runtime.ts
 * assembles it once per process; tests build it through the same function.
 */
export interface OAuthDeps {
  readonly config: OAuthConfig;
  readonly store: OAuthStore;
  readonly crypto: Pick<Crypto, 'hashSecret' | 'verifySecret' | 'encrypt' | 'decrypt'>;
  /** Signs access tokens and finds the keys that verify them. */
  readonly keystore: Keystore;
  readonly clients: Pick<ClientCache, 'get'>;
  readonly dialects: Pick<DialectRegistry, 'get'>;
  readonly audit: Pick<AuditTrail, 'record' | 'enqueue'>;
  readonly metrics: Pick<Metrics, 'tokenRequests' | 'throttled' | 'logins'>;
  readonly throttle: Throttle;
  /** Seconds since the epoch. */
  readonly clock: () => number;
  readonly logger: Logger;
}
