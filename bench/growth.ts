/**
 * Growth rows (issues 4 and 5): does a request stay as fast as its table grows?
 *
 * - refresh_token (ES256) on SQLite and on PostgreSQL, with 0, 10,000 and 1,000,000 other
 *   refresh-token rows in the table;
 * - client_credentials (ES256) on SQLite with 10 and with 100,000 registered clients.
 *
 * Each size gets its own fresh database, filled (test/helpers/bulk.ts, the same rows the
 * EXPLAIN test plans against) after the CLI has migrated it and before the server starts,
 * then measured as every other row of the benchmark (warm-up, RUNS runs at CONNECTIONS
 * connections, the median run): req/s, p50/p99 latency and server CPU per request, each
 * compared with the smallest table of the same scenario.
 *
 * Latency here is measured at saturation. A one-request-at-a-time probe was tried first: on
 * this virtual machine its p50 swung between 0.4x and 1.5x of itself from run to run, as
 * idle vCPUs wake (a client_credentials request took 0.9 to 3 ms with ~0.4 ms of server CPU),
 * so it said more about the host than about the table.
 */
import { sql } from 'kysely';
import { openDatabase } from '../src/store/sql/db.js';
import { type BulkEngine, fillClients, fillRefreshTokens } from '../test/helpers/bulk.js';
import {
  FORM,
  type Measured,
  type Options,
  type TesseraClient,
  form,
  fmt,
  log,
  markdownTable,
  measure,
  prepareTessera,
  refreshLoad,
  serveTessera,
} from './harness.js';

const REFRESH_SIZES = [0, 10_000, 1_000_000] as const;
const CLIENT_SIZES = [10, 100_000] as const;
/** Filled tokens expire well after the run, so the server's sweeper leaves them alone. */
const FILL_EXPIRY_AHEAD = 30 * 86_400;

export interface GrowthRow {
  readonly scenario: string;
  readonly engine: 'SQLite' | 'PostgreSQL';
  /** What the table holds, and how many rows of it, when the server starts. */
  readonly table: 'refresh_tokens' | 'clients';
  readonly tableRows: number;
  readonly measured?: Measured;
  readonly skipped?: string;
}

const growth: GrowthRow[] = [];

const credentials = (client: TesseraClient) => ({
  client_id: client.client_id,
  client_secret: client.client_secret,
});

/** A new empty database on `pg` (a server URL), for one size. */
async function freshPostgresDatabase(pg: string, name: string): Promise<string> {
  const admin = openDatabase(pg, { poolSize: 1 });
  try {
    await sql`DROP DATABASE IF EXISTS ${sql.id(name)}`.execute(admin.db);
    await sql`CREATE DATABASE ${sql.id(name)}`.execute(admin.db);
  } finally {
    await admin.db.destroy();
  }
  const url = new URL(pg);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Prepares a database (fresh SQLite file, or a fresh database on `postgresServer`), lets
 * `fill` add rows through its own connection, serves it, and records one row from `run`.
 */
async function atSize(
  row: Omit<GrowthRow, 'measured'>,
  postgresServer: string | undefined,
  fill: (db: ReturnType<typeof openDatabase>) => Promise<number>,
  run: (base: string, client: TesseraClient, pid: number) => Promise<Measured>,
): Promise<void> {
  log(`growth: ${row.scenario} on ${row.engine}, ${row.tableRows} ${row.table} rows`);
  const database =
    postgresServer === undefined
      ? undefined
      : await freshPostgresDatabase(postgresServer, `bench_${row.table}_${row.tableRows}`);
  const prepared = prepareTessera('ES256', {
    withRefresh: row.table === 'refresh_tokens',
    ...(database !== undefined && { database }),
  });
  try {
    const opened = openDatabase(prepared.database, { poolSize: 1 });
    let counted: number;
    try {
      counted = await fill(opened);
    } finally {
      await opened.db.destroy();
    }
    if (counted !== row.tableRows)
      throw new Error(`${row.table} holds ${counted} rows, expected ${row.tableRows}`);
    const server = await serveTessera('ES256', prepared);
    try {
      growth.push({ ...row, measured: await run(server.url, prepared.client, server.pid) });
    } finally {
      await server.stop();
    }
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'failed';
    log(`growth FAILED: ${why}`);
    growth.push({ ...row, skipped: `failed: ${why.slice(0, 120)}` });
  } finally {
    prepared.remove();
  }
}

async function refreshGrowth(
  engine: GrowthRow['engine'],
  postgresServer: string | undefined,
): Promise<void> {
  const bulk: BulkEngine = postgresServer === undefined ? 'sqlite' : 'postgres';
  for (const size of REFRESH_SIZES) {
    await atSize(
      {
        scenario: 'refresh_token ES256 (form)',
        engine,
        table: 'refresh_tokens',
        tableRows: size,
      },
      postgresServer,
      (opened) =>
        size === 0
          ? Promise.resolve(0)
          : fillRefreshTokens(
              opened.db,
              bulk,
              size,
              Math.floor(Date.now() / 1000) + FILL_EXPIRY_AHEAD,
            ),
      async (base, client, pid) => (await measure(pid, refreshLoad(base, client))).measured,
    );
  }
}

async function clientGrowth(): Promise<void> {
  for (const size of CLIENT_SIZES) {
    await atSize(
      {
        scenario: 'client_credentials ES256 (form)',
        engine: 'SQLite',
        table: 'clients',
        tableRows: size,
      },
      undefined,
      // The bench client is one of them.
      (opened) => fillClients(opened.db, 'sqlite', size - 1, Math.floor(Date.now() / 1000)),
      async (base, client, pid) => {
        const body = form({
          grant_type: 'client_credentials',
          scope: 'read',
          ...credentials(client),
        });
        const load = async (): Promise<Options> => ({
          url: `${base}/oauth/token`,
          method: 'POST',
          headers: FORM,
          body,
        });
        return (await measure(pid, load)).measured;
      },
    );
  }
}

/** Runs every growth row; `postgresServer` is a server URL, or undefined to leave PostgreSQL out. */
export async function growthScenarios(postgresServer: string | undefined): Promise<GrowthRow[]> {
  await refreshGrowth('SQLite', undefined);
  if (postgresServer !== undefined) await refreshGrowth('PostgreSQL', postgresServer);
  await clientGrowth();
  return growth;
}

/** Markdown table; each "vs smallest" compares with the same scenario's smallest table. */
export function growthTable(rows: readonly GrowthRow[]): string {
  const header = [
    'scenario',
    'engine',
    'rows in table',
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU µs/req',
    'req/s vs smallest',
    'p50 vs smallest',
    'CPU/req vs smallest',
  ];
  const lines = rows.map((r) => {
    const size = `${r.tableRows.toLocaleString('en-US')} ${r.table}`;
    if (!r.measured) return [r.scenario, r.engine, size, `not run: ${r.skipped ?? ''}`];
    const m = r.measured;
    const base = rows.find(
      (b) => b.scenario === r.scenario && b.engine === r.engine && b.table === r.table,
    )?.measured;
    const bad = m.non2xx + m.errors + m.timeouts;
    const ratio = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? '' : `${fmt(a / b, 2)}x`;
    return [
      r.scenario,
      r.engine,
      size,
      `${fmt(m.rps)}${bad > 0 ? ` (!${bad} non-2xx/errors)` : ''}`,
      fmt(m.p50),
      fmt(m.p99),
      fmt(m.cpuUsPerRequest),
      ratio(m.rps, base?.rps),
      ratio(m.p50, base?.p50),
      ratio(m.cpuUsPerRequest, base?.cpuUsPerRequest),
    ];
  });
  return markdownTable(header, lines);
}
