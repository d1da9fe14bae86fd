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
import { setTimeout as sleep } from 'node:timers/promises';
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

export interface SuiteOptions extends CreateOptions {
  /** Run the suite only for these engines (default: all). */
  readonly only?: readonly EngineName[];
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

function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
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

function databaseUrl(name: string): string {
  if (!pgUrl) throw new Error('TESSERA_TEST_PG_URL is not set');
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** PostgreSQL 15+ copies a small database much faster with FILE_COPY; older servers lack it. */
let fileCopy = true;

/**
 * CREATE DATABASE, optionally from a template. A template still held by a connection that is
 * closing (pg's pool.end() resolves before its sockets are closed) is retried briefly.
 */
async function createDatabase(name: string, template?: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const from = template === undefined ? '' : ` TEMPLATE ${template}`;
    const strategy = fileCopy ? ' STRATEGY = FILE_COPY' : '';
    try {
      await adminQuery(`CREATE DATABASE ${name}${from}${strategy}`);
      return;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (fileCopy && (code === '42601' || code === '42704')) {
        fileCopy = false; // syntax error / unknown option: a server without STRATEGY
      } else if (code === '55006' && attempt < 100) {
        await sleep(20); // "source database is being accessed by other users"
      } else {
        throw err;
      }
    }
  }
}

/** One migrated template database per test process; each test's database is a copy of it. */
let template: Promise<string> | undefined;

function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = randomName('tmpl');
    await createDatabase(name);
    process.on('beforeExit', () => {
      const drop = template;
      template = undefined;
      if (drop) void adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    });
    const store = createSqlStore(databaseUrl(name), { poolSize: 1 });
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    return name;
  })();
  return template;
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
      if (options.migrate ?? true) await store.migrate();
    } catch (err) {
      await close();
      throw err;
    }
    return { engine: 'sqlite', url, store, db, close };
  },
};

/** A fresh PostgreSQL database on the server in TESSERA_TEST_PG_URL. */
export interface FreshPostgresDatabase {
  readonly name: string;
  /** `postgres://…/<name>` */
  readonly url: string;
  /** DROP DATABASE … WITH (FORCE): also ends connections still open. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database `t_<random>` on the test server: a copy of one migrated template
 * per test process (or, with `migrate: false`, an empty one). Throws when
 * TESSERA_TEST_PG_URL is not set.
 */
export async function createPostgresDatabase(
  options: { readonly migrate?: boolean } = {},
): Promise<FreshPostgresDatabase> {
  const name = randomName('t');
  // A copy of the migrated template is migrated already; the bare one comes from template1.
  await createDatabase(name, (options.migrate ?? true) ? await migratedTemplate() : undefined);
  return {
    name,
    url: databaseUrl(name),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

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
    const { url, drop } = await createPostgresDatabase(options);
    const store = createSqlStore(
      url,
      options.poolSize === undefined ? {} : { poolSize: options.poolSize },
    );
    const { db } = openDatabase(url, { poolSize: 2 });
    let closed = false;
    const close = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
        await store.close();
      } finally {
        await drop();
      }
    };
    return { engine: 'postgres', url, store, db, close };
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
  options: SuiteOptions = {},
): void {
  const { only, ...createOptions } = options;
  for (const engine of ENGINES) {
    if (only && !only.includes(engine.name)) continue;
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
          db = await engine.create(createOptions);
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
