/**
 * The storage engines every contract test runs against. Each test gets a fresh database:
 * SQLite in a real temporary file (WAL, as in production), PostgreSQL as a new database
 * `t_<random>` on the server in TESSERA_TEST_PG_URL (started by test/run.ts).
 *
 * Without TESSERA_TEST_PG_URL the PostgreSQL suite is skipped, or fails when CI=true.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, beforeEach, describe } from 'node:test';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../../src/store/sql/db.js';
import type { Database } from '../../src/store/sql/schema.js';
import { type SqlStore, createSqlStore } from '../../src/store/sql/sql-store.js';

export type EngineName = 'sqlite' | 'postgres';

/** A fresh store plus a second, independent connection for inspecting the tables directly. */
export interface TestDatabase {
  readonly engine: EngineName;
  readonly url: string;
  readonly store: SqlStore;
  /** Raw access to the same database, for asserting rows the store API does not expose. */
  readonly db: Kysely<Database>;
  /** Closes both connections and removes the database. Idempotent. */
  close(): Promise<void>;
}

export interface CreateOptions {
  /** Run the migrations before returning (default true). */
  readonly migrate?: boolean;
  /** PostgreSQL pool size of the store (default: the store's own default, 10). */
  readonly poolSize?: number;
}

export interface Engine {
  readonly name: EngineName;
  readonly available: boolean;
  /** Why the engine is unavailable (when it is). */
  readonly reason?: string;
  create(options?: CreateOptions): Promise<TestDatabase>;
}

const pgUrl = process.env.TESSERA_TEST_PG_URL;
const inCi = process.env.CI === 'true';

function randomName(): string {
  return `t_${randomBytes(8).toString('hex')}`;
}

async function adminQuery(sqlText: string): Promise<void> {
  if (!pgUrl) throw new Error('TESSERA_TEST_PG_URL is not set');
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

async function finish(store: SqlStore, options: CreateOptions): Promise<void> {
  if (options.migrate ?? true) await store.migrate();
}

const sqlite: Engine = {
  name: 'sqlite',
  available: true,
  async create(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
    const url = `sqlite:${join(dir, 'store.db')}`;
    const store = createSqlStore(url);
    const { db } = openDatabase(url);
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    try {
      await finish(store, options);
    } catch (err) {
      await close();
      throw err;
    }
    return { engine: 'sqlite', url, store, db, close };
  },
};

const postgres: Engine = {
  name: 'postgres',
  available: pgUrl !== undefined && pgUrl.length > 0,
  ...(pgUrl
    ? {}
    : {
        reason:
          'TESSERA_TEST_PG_URL is not set (run the tests through test/run.ts with PostgreSQL installed)',
      }),
  async create(options = {}) {
    if (!pgUrl) throw new Error('TESSERA_TEST_PG_URL is not set');
    const name = randomName();
    await adminQuery(`CREATE DATABASE ${name}`);
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    const store = createSqlStore(
      url.toString(),
      options.poolSize === undefined ? {} : { poolSize: options.poolSize },
    );
    const { db } = openDatabase(url.toString(), { poolSize: 2 });
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
        await store.close();
      } finally {
        await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    };
    try {
      await finish(store, options);
    } catch (err) {
      await close();
      throw err;
    }
    return { engine: 'postgres', url: url.toString(), store, db, close };
  },
};

export const ENGINES: readonly Engine[] = [sqlite, postgres];

/**
 * Declares one `describe` per engine around `body`. Inside, `current()` is the fresh database
 * of the running test (created before each test, closed after it). An unavailable engine's
 * suite is skipped with its reason — or, when CI=true, fails.
 */
export function forEachEngine(
  title: string,
  body: (current: () => TestDatabase, engine: Engine) => void,
  options: CreateOptions = {},
): void {
  for (const engine of ENGINES) {
    const mustFail = !engine.available && inCi;
    const skip = !engine.available && !inCi ? (engine.reason ?? true) : false;
    describe(`${title} [${engine.name}]`, { skip }, () => {
      let db: TestDatabase | undefined;
      if (mustFail) {
        before(() => {
          throw new Error(
            `${engine.name} is required when CI=true: ${engine.reason ?? 'unavailable'}`,
          );
        });
      } else {
        beforeEach(async () => {
          db = await engine.create(options);
        });
        afterEach(async () => {
          const open = db;
          db = undefined;
          await open?.close();
        });
      }
      body(() => {
        if (!db)
          throw new Error(`no ${engine.name} database: the test is running outside its hooks`);
        return db;
      }, engine);
    });
  }
}
