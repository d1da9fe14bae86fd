import type { Config } from '../config/options.js';
import type { OAuthConfig, OAuthDeps, OAuthStore } from '../oauth/context.js';
import type { Store } from '../store/store.js';
import type { LaunchKeySource } from '../tokens/launch-token.js';

/** The OAuth context plus what the Cisco Spaces endpoints read; src/server assembles it. */
export interface SpacesDeps extends OAuthDeps {
  readonly config: OAuthConfig & Pick<Config, 'spacesLaunchAllowedBaseUrls'>;
  readonly store: OAuthStore & Pick<Store, 'recordLaunchToken' | 'listTelemetry'>;
  /** Cisco Spaces launch-token keys, fetched from allow-listed base URLs and cached. */
  readonly launchKeys: LaunchKeySource;
}
