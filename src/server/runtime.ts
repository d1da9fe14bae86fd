import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import { Throttle } from '../oauth/throttle.js';
import { ClientCache } from '../oauth/client-cache.js';
import { AuditTrail } from '../observability/audit.js';
import { Metrics } from '../observability/metrics.js';
import { createDialectRegistry } from '../oauth/dialects/index.js';
import { createLaunchKeySource } from '../tokens/launch-token.js';
import { createSqlStore } from '../store/sql/sql-store.js';
import { Keystore, currentSigner } from '../tokens/keystore.js';
import { createCrypto, resolveMasterKey } from '../tokens/master-key.js';
import type { Deps } from './deps.js';

export interface RuntimeOptions {
  readonly logger: Logger;
  /** Apply pending migrations first (default true). */
  readonly migrate?: boolean;
  readonly clock?: () => number;
}

export const systemClock = (): number => Math.floor(Date.now() / 1000);

/**
 * Opens the store, applies migrations, resolves the master key and makes sure a signing key
 * exists: everything `serve` and the management commands share. `close()` releases the store.
 */
export async function openRuntime(
  config: Config,
  opts: RuntimeOptions,
): Promise<Deps & { close(): Promise<void> }> {
  const dialects = createDialectRegistry(config);
  const store = createSqlStore(config.database, { poolSize: config.poolSize });
  try {
    if (opts.migrate ?? true) {
      const applied = await store.migrate();
      if (applied.length > 0) opts.logger.info({ migrations: applied }, 'database migrated');
    }
    const master = resolveMasterKey(config.masterKey, store.file);
    if (master.generatedAt) {
      opts.logger.warn(
        { path: master.generatedAt },
        'generated a master key next to the database; back it up, or set TESSERA_MASTER_KEY',
      );
    }
    const crypto = createCrypto(master.key);
    const clock = opts.clock ?? systemClock;
    // Audit times are milliseconds; a test clock (seconds) is scaled so events follow it.
    const audit = new AuditTrail(store, opts.logger, {
      now: opts.clock ? () => clock() * 1000 : Date.now,
    });
    const keystore = new Keystore({
      store,
      crypto,
      clock,
      cacheTtl: config.keyCacheTtl,
      staleIfError: config.staleIfError,
    });
    await keystore.ensureKey(config.signingAlg);
    return {
      config,
      store,
      crypto,
      keystore,
      clients: new ClientCache(store, config.clientCacheTtl, clock, config.staleIfError),
      dialects,
      launchKeys: createLaunchKeySource({ clock }),
      throttle: new Throttle(store, clock, config.throttleWindow),
      audit,
      metrics: new Metrics({
        poolStats: () => store.poolStats(),
        signingKeyAge: async () => {
          const key = currentSigner(await store.listSigningKeys(), clock());
          return key && clock() - key.activatesAt;
        },
      }),
      clock,
      logger: opts.logger,
      close: async () => {
        await audit.flush();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
