import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { CompiledQuery } from 'kysely';
import { type ClientInput, createClient } from '../../src/admin/clients.js';
import { createTenant } from '../../src/admin/tenants.js';
import { loadConfig } from '../../src/config/load.js';
import type { OptionName } from '../../src/config/options.js';
import { createLogger } from '../../src/observability/logger.js';
import { createApp } from '../../src/server/app.js';
import type { Deps } from '../../src/server/deps.js';
import { openRuntime } from '../../src/server/runtime.js';
import { type OpenedDatabase, openDatabase } from '../../src/store/sql/db.js';
import { type FreshPostgresDatabase, createPostgresDatabase } from './engines.js';

/** A clock tests can move: seconds since the epoch. */
export class TestClock {
  constructor(public now = 1_800_000_000) {}
  readonly read = (): number => this.now;
  advance(seconds: number): void {
    this.now += seconds;
  }
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  readonly clock: TestClock;
  readonly dir: string;
  /** Registers a client; returns its id and (for confidential clients) secret. */
  client(input: ClientInput & { clientId?: string; secret?: string; public?: boolean }): Promise<{
    client_id: string;
    client_secret: string;
  }>;
  tenant(id: string, domain?: string): Promise<void>;
  /**
   * Rows of an SQL query against this app's database, on either engine: `?` placeholders
   * (turned into `$1…` on PostgreSQL, so no `?` inside literals), BIGINT read as numbers.
   */
  rows<T = Record<string, unknown>>(query: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * The engine createTestApp uses: `postgres` when TESSERA_TEST_ENGINE=postgres (test/run.ts
 * sets it for its second pass), else `sqlite`.
 */
export function testEngine(): 'sqlite' | 'postgres' {
  const engine = process.env.TESSERA_TEST_ENGINE ?? 'sqlite';
  if (engine !== 'sqlite' && engine !== 'postgres')
    throw new Error(`TESSERA_TEST_ENGINE must be sqlite or postgres, not "${engine}"`);
  return engine;
}

/**
 * An in-process Tessera on a fresh database, with a clock the test controls and caches off,
 * so every store change is seen at once. The database is `database` when given, else a fresh
 * SQLite file in `dir` or, with TESSERA_TEST_ENGINE=postgres, a fresh (migrated) database on
 * the server in TESSERA_TEST_PG_URL, dropped by `close()`.
 */
export async function createTestApp(
  options: {
    flags?: Partial<Record<OptionName, unknown>>;
    database?: string;
    clock?: TestClock;
    /** Adds routes of the test's own before the app is made ready. */
    routes?: (app: FastifyInstance) => void;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  let pg: FreshPostgresDatabase | undefined;
  const release = async (): Promise<void> => {
    try {
      await pg?.drop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  let deps: Awaited<ReturnType<typeof openRuntime>>;
  let clock: TestClock;
  try {
    if (options.database === undefined && testEngine() === 'postgres') {
      if (!process.env.TESSERA_TEST_PG_URL)
        throw new Error('TESSERA_TEST_ENGINE=postgres needs TESSERA_TEST_PG_URL (see test/run.ts)');
      pg = await createPostgresDatabase();
    }
    const config = loadConfig({
      env: {},
      file: false,
      flags: {
        database: options.database ?? pg?.url ?? `sqlite:${join(dir, 'tessera.db')}`,
        issuer: 'http://127.0.0.1:8080',
        masterKey: TEST_MASTER_KEY,
        clientCacheTtl: 0,
        keyCacheTtl: 0,
        logLevel: 'silent',
        ...options.flags,
      },
    });
    clock = options.clock ?? new TestClock();
    deps = await openRuntime(config, {
      logger: createLogger(config.logLevel),
      clock: clock.read,
    });
  } catch (err) {
    await release();
    throw err;
  }
  const app = createApp(deps);
  try {
    options.routes?.(app);
    await app.ready();
  } catch (err) {
    await deps.close().finally(release);
    throw err;
  }
  let raw: OpenedDatabase | undefined;
  return {
    app,
    deps,
    clock,
    dir,
    async client(input) {
      const view = await createClient(deps, { name: 'test client', ...input });
      // An imported secret is not echoed (DESIGN §3): the caller's own is the one to use.
      return {
        client_id: view.client_id,
        client_secret: view.client_secret ?? input.secret ?? '',
      };
    },
    async tenant(id, domain) {
      await createTenant(deps, id, { name: `Tenant ${id}`, domain });
    },
    async rows<T>(query: string, ...params: unknown[]): Promise<T[]> {
      raw ??= openDatabase(deps.config.database, { poolSize: 1 });
      let n = 0;
      const text = raw.engine === 'postgres' ? query.replace(/\?/g, () => `$${++n}`) : query;
      return (await raw.db.executeQuery<T>(CompiledQuery.raw(text, params))).rows as T[];
    },
    async close() {
      try {
        await raw?.db.destroy();
        await app.close();
        await deps.close();
      } finally {
        await release();
      }
    },
  };
}
