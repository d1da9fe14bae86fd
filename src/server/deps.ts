import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { ClientCache } from '../oauth/client-cache.js';
import type { DialectRegistry } from '../oauth/dialects/index.js';
import type { LaunchKeySource } from '../tokens/launch-token.js';
import type { Throttle } from '../oauth/throttle.js';
import type { AuditTrail } from '../observability/audit.js';
import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { Keystore } from '../tokens/keystore.js';
import type { Crypto } from '../tokens/master-key.js';

/**
 * Every service of the process, built once by `openRuntime` and passed to `createApp`; no
 * singletons. It satisfies each layer's own declaration of what it needs (`OAuthDeps`,
 * `SpacesDeps`, `AdminContext`), so handlers see only that.
 */
export interface Deps {
  readonly config: Config;
  readonly store: Store;
  readonly crypto: Crypto;
  readonly keystore: Keystore;
  readonly clients: ClientCache;
  readonly dialects: DialectRegistry;
  /** Cisco Spaces launch-token keys, fetched from allow-listed base URLs and cached. */
  readonly launchKeys: LaunchKeySource;
  readonly audit: AuditTrail;
  readonly metrics: Metrics;
  /** Failed client authentication and login throttling. */
  readonly throttle: Throttle;
  /** Seconds since the epoch. */
  readonly clock: () => number;
  readonly logger: Logger;
}
