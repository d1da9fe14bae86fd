import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresDialect,
  SqliteDialect,
} from 'kysely';
import pg from 'pg';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_sessions.js';
import * as m0003 from './migrations/0003_throttle.js';
import * as m0004 from './migrations/0004_audit.js';
import * as m0005 from './migrations/0005_branding.js';
import * as m0006 from './migrations/0006_refresh_grace_seconds.js';
import * as m0007 from './migrations/0007_code_redirect_sent.js';
import * as m0008 from './migrations/0008_openid_connect.js';
import * as m0009 from './migrations/0009_logout.js';
import * as m0010 from './migrations/0010_consent.js';
import * as m0011 from './migrations/0011_backchannel_logout.js';
import * as m0012 from './migrations/0012_accounts.js';
import type { Database } from './schema.js';

/** Migrations are compiled in (no directory scan), so the built package and tsx agree. */
const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_sessions': m0002,
  '0003_throttle': m0003,
  '0004_audit': m0004,
  '0005_branding': m0005,
  '0006_refresh_grace_seconds': m0006,
  '0007_code_redirect_sent': m0007,
  '0008_openid_connect': m0008,
  '0009_logout': m0009,
  '0010_consent': m0010,
  '0011_backchannel_logout': m0011,
  '0012_accounts': m0012,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

export interface OpenedDatabase {
  readonly db: Kysely<Database>;
  readonly engine: 'sqlite' | 'postgres';
  /** For SQLite, the file path (its directory holds the generated master key). */
  readonly file?: string;
  /** For PostgreSQL, the connection pool (its counters feed the metrics). */
  readonly pool?: pg.Pool;
}

export interface OpenOptions {
  /** PostgreSQL pool size. */
  readonly poolSize?: number;
}

/** `sqlite:./data/tessera.db` → absolute path; `sqlite::memory:` stays in memory. */
export function sqlitePath(url: string): string {
  const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  if (path === ':memory:') return path;
  if (path.length === 0)
    throw new Error('sqlite: URL needs a file path, e.g. sqlite:./data/tessera.db');
  return resolve(path);
}

/**
 * better-sqlite3 parses and plans a statement on every `prepare`, and Kysely prepares for every
 * query: a `--cpu-prof` of refresh_token on SQLite showed `prepare` at ~8% of all samples (a
 * third of the time spent in the database layer). Statements are cached by SQL text, bounded.
 * Safe because every query runs to completion synchronously (nothing here uses Kysely's
 * `.stream()`, whose open iterator would keep a shared statement busy).
 */
function cachingStatements(sqlite: SQLite.Database, max = 1000): (sql: string) => SQLite.Statement {
  const cache = new Map<string, SQLite.Statement>();
  return (sql: string) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = sqlite.prepare(sql);
      if (cache.size >= max) cache.clear();
      cache.set(sql, statement);
    }
    return statement;
  };
}

export function openDatabase(url: string, options: OpenOptions = {}): OpenedDatabase {
  if (url.startsWith('sqlite:')) {
    const file = sqlitePath(url);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL lets readers run beside the one writer; FULL syncs every commit, so a refresh token
    // a client has received survives a power loss, not only a process crash.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const prepare = cachingStatements(sqlite);
    return {
      db: new Kysely<Database>({
        dialect: new SqliteDialect({ database: { close: () => sqlite.close(), prepare } }),
      }),
      engine: 'sqlite',
      file,
    };
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    types: {
      // BIGINT (oid 20) comes back as a number, as SQLite's INTEGER does; our values are
      // epoch seconds and counters, far below 2^53.
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // The server may close an idle pooled connection (restart, failover, idle timeout,
  // pg_terminate_backend). pg then drops it from the pool and emits 'error' on the pool; with
  // no listener that is an uncaught exception that kills the process. The next query opens a
  // new connection, so there is nothing else to do.
  pool.on('error', () => undefined);
  return {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    engine: 'postgres',
    pool,
  };
}

export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Migrations this build has that the database has not applied (`tessera doctor`). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const all = await new Migrator({ db, provider }).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
