/**
 * Growth rows (issues 4 and 5): does a request stay as fast as its table grows?
 *
 * - refresh_token (ES256) on SQLite and on PostgreSQL, with 0, 10,000 and 1,000,000 other
 *   refresh-token rows in the table;
 * - client_credentials (ES256) on SQLite with 10 and with 100,000 registered clients.
 *
 * Each size gets its own fresh database, filled (test/helpers/bulk.ts, the same rows the
 * EXPLAIN test plans against) after the CLI has migrated it and before the server starts.
 * Two figures per size: the latency of sequential requests on one keep-alive connection
 * (p50/p99 in µs: what one caller sees, with no queueing), and the throughput at CONNECTIONS
 * connections (as every other row of the benchmark).
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { openDatabase } from '../src/store/sql/db.js';
import { type BulkEngine, fillClients, fillRefreshTokens } from '../test/helpers/bulk.js';
import {
  FORM,
  type Measured,
  type Options,
  QUICK,
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
const SEQUENTIAL = QUICK ? 300 : 2000;
const SEQUENTIAL_WARMUP = QUICK ? 100 : 300;
/** Filled tokens expire well after the run, so the server's sweeper leaves them alone. */
const FILL_EXPIRY_AHEAD = 30 * 86_400;

export interface GrowthRow {
  readonly scenario: string;
  readonly engine: 'SQLite' | 'PostgreSQL';
  /** What the table holds, and how many rows of it, when the server starts. */
  readonly table: 'refresh_tokens' | 'clients';
  readonly tableRows: number;
  readonly sequential?: { readonly p50Us: number; readonly p99Us: number; readonly n: number };
  readonly measured?: Measured;
  readonly skipped?: string;
}

const growth: GrowthRow[] = [];

/** One keep-alive connection, one request at a time: per-request wall time in µs. */
async function sequential(
  url: string,
  count: number,
  body: () => string,
  onOk: (text: string) => void,
): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const once = (payload: string) =>
    new Promise<{ status: number; text: string }>((resolveResponse, reject) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { ...FORM, 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const payload = body();
      const started = performance.now();
      const { status, text } = await once(payload);
      times.push((performance.now() - started) * 1000);
      if (status !== 200) throw new Error(`${url}: ${status} ${text.slice(0, 200)}`);
      onOk(text);
    }
  } finally {
    agent.destroy();
  }
  return times;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Warm-up, then SEQUENTIAL timed requests: p50 and p99 in µs. */
async function latency(
  url: string,
  body: () => string,
  onOk: (text: string) => void,
): Promise<NonNullable<GrowthRow['sequential']>> {
  await sequential(url, SEQUENTIAL_WARMUP, body, onOk);
  const times = (await sequential(url, SEQUENTIAL, body, onOk)).sort((a, b) => a - b);
  return { p50Us: percentile(times, 50), p99Us: percentile(times, 99), n: times.length };
}

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
  row: Omit<GrowthRow, 'sequential' | 'measured'>,
  postgresServer: string | undefined,
  fill: (db: ReturnType<typeof openDatabase>) => Promise<number>,
  run: (
    base: string,
    client: TesseraClient,
    pid: number,
  ) => Promise<Pick<GrowthRow, 'sequential' | 'measured'>>,
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
      growth.push({ ...row, ...(await run(server.url, prepared.client, server.pid)) });
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
      async (base, client, pid) => {
        // One chain of refresh tokens: each response's successor is the next request's token.
        let current = '';
        const issue = () =>
          form({ grant_type: 'client_credentials', scope: 'read', ...credentials(client) });
        await sequential(`${base}/oauth/token`, 1, issue, (text) => {
          current = (JSON.parse(text) as { refresh_token: string }).refresh_token;
        });
        const sequentialResult = await latency(
          `${base}/oauth/token`,
          () =>
            form({ grant_type: 'refresh_token', refresh_token: current, ...credentials(client) }),
          (text) => {
            current = (JSON.parse(text) as { refresh_token: string }).refresh_token;
          },
        );
        const { measured } = await measure(pid, refreshLoad(base, client));
        return { sequential: sequentialResult, measured };
      },
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
        const sequentialResult = await latency(
          `${base}/oauth/token`,
          () => body,
          () => undefined,
        );
        const load = async (): Promise<Options> => ({
          url: `${base}/oauth/token`,
          method: 'POST',
          headers: FORM,
          body,
        });
        const { measured } = await measure(pid, load);
        return { sequential: sequentialResult, measured };
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

/** Markdown table; "vs smallest" compares with the same scenario's smallest table. */
export function growthTable(rows: readonly GrowthRow[]): string {
  const header = [
    'scenario',
    'engine',
    'rows in table',
    'p50 µs (1 conn)',
    'p99 µs (1 conn)',
    'p50 vs smallest',
    'req/s (50 conns)',
    'req/s vs smallest',
  ];
  const lines = rows.map((r) => {
    if (r.skipped)
      return [r.scenario, r.engine, `${r.tableRows} ${r.table}`, `not run: ${r.skipped}`];
    const base = rows.find(
      (b) =>
        b.scenario === r.scenario && b.engine === r.engine && b.table === r.table && !b.skipped,
    );
    const bad = r.measured ? r.measured.non2xx + r.measured.errors + r.measured.timeouts : 0;
    return [
      r.scenario,
      r.engine,
      `${r.tableRows.toLocaleString('en-US')} ${r.table}`,
      fmt(r.sequential?.p50Us),
      fmt(r.sequential?.p99Us),
      base?.sequential && r.sequential
        ? `${fmt(r.sequential.p50Us / base.sequential.p50Us, 2)}x`
        : '',
      `${fmt(r.measured?.rps)}${bad > 0 ? ` (!${bad} non-2xx/errors)` : ''}`,
      base?.measured && r.measured ? `${fmt(r.measured.rps / base.measured.rps, 2)}x` : '',
    ];
  });
  return markdownTable(header, lines);
}
