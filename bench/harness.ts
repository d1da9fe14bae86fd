/**
 * The benchmark's machinery, shared by its scenarios (bench/run.ts, bench/growth.ts):
 * pinned server processes, a Tessera from the build, autocannon runs with CPU and RSS
 * sampling, and the settings every scenario uses.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { fastTmpDir, freePort } from '../test/helpers/postgres.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const QUICK = process.argv.includes('--quick');
export const RUNS = QUICK ? 1 : 3;
export const DURATION = QUICK ? 2 : 5;
export const WARMUP = QUICK ? 1 : 2;
export const CONNECTIONS = 50;
export const SERVER_CORE = '0';
export const LOAD_CORE = '1';
export const TSX = import.meta.resolve('tsx');
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export type Alg = 'RS256' | 'ES256' | 'EdDSA';
export const ALGS: readonly Alg[] = ['RS256', 'ES256', 'EdDSA'];

export interface Measured {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly runs: readonly number[];
  /** Server CPU time (user + system, all its node processes) per response, median run. */
  readonly cpuUsPerRequest: number | undefined;
  /** Server CPU time / wall time of the median run: 1.0 = one core fully busy. */
  readonly cores: number | undefined;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

// ---------------------------------------------------------------------------------- processes

export interface Running {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Spawns `taskset -c 0 node …args` and waits for its first stdout line, a JSON `{url}`. */
export function spawnServer(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string>; cores?: string } = {},
): Promise<Running> {
  const child = spawn('taskset', ['-c', opts.cores ?? SERVER_CORE, process.execPath, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...cleanEnv(), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      children.delete(child);
      r();
    }),
  );
  const stop = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: not listening after 60 s\n${stderr}`));
    }, 60_000);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')}: exited before listening\n${stdout}\n${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      const before = stdout;
      stdout += s;
      const nl = stdout.indexOf('\n');
      if (nl < 0 || before.includes('\n')) return;
      clearTimeout(timer);
      const { url } = JSON.parse(stdout.slice(0, nl)) as { url: string };
      resolveStart({ url, pid: child.pid ?? -1, stop });
    });
  });
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('TESSERA_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return env;
}

/** Resident set size in MB (VmRSS) of a process and its `node` children (cluster workers). */
function rssMb(pid: number): number | undefined {
  try {
    const own = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (!own) return undefined;
    let kb = Number(own[1]);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((c) => c.trim() !== '');
    for (const c of children) {
      // Cluster workers count; tsx's esbuild service (peer and bare route load via tsx) does not.
      if (readFileSync(`/proc/${c.trim()}/comm`, 'utf8').trim() !== 'node') continue;
      kb += (rssMb(Number(c)) ?? 0) * 1024;
    }
    return kb / 1024;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------ tessera

export interface TesseraClient {
  readonly client_id: string;
  readonly client_secret: string;
}

/**
 * The first signing key is made by whichever command first opens the database, with
 * `signingAlg`: set it in the environment for the CLI and the server alike.
 */
function tesseraEnv(alg: Alg): Record<string, string> {
  return { TESSERA_MASTER_KEY: MASTER_KEY, TESSERA_SIGNING_ALG: alg };
}

/** `tessera --database … --json …args` from the build; `stdin` feeds `--*-stdin` secrets. */
export function tesseraCli(
  alg: Alg,
  database: string,
  cwd: string,
  args: readonly string[],
  stdin = '',
): string {
  return execFileSync(
    process.execPath,
    [join(ROOT, 'dist/cli/main.js'), '--database', database, '--json', ...args],
    { cwd, env: { ...cleanEnv(), ...tesseraEnv(alg) }, encoding: 'utf8', input: stdin },
  );
}

/** Fails unless `token` is a JWT signed with `alg`: a scenario must measure what it names. */
export function expectAlg(token: unknown, alg: Alg, who: string): void {
  const header =
    typeof token === 'string'
      ? (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
          alg?: string;
        })
      : {};
  if (header.alg !== alg) throw new Error(`${who} signed with ${header.alg}, expected ${alg}`);
}

/** A database with one bench client, in its own directory (the server's working directory). */
export interface PreparedTessera {
  readonly dir: string;
  readonly database: string;
  readonly client: TesseraClient;
  /** Deletes the directory (and with it a SQLite database). */
  remove(): void;
}

/**
 * The bench client has `client_credentials` only (as the peer's): a client that also holds
 * `refresh_token` gets a refresh token from client_credentials too, a durable write per
 * request. `withRefresh` makes such a client, for the refresh scenarios. The CLI migrates
 * the database and makes its first key.
 */
export function prepareTessera(
  alg: Alg,
  opts: { database?: string; withRefresh?: boolean } = {},
): PreparedTessera {
  const dir = mkdtempSync(join(fastTmpDir(), 'tessera-bench-'));
  const database = opts.database ?? `sqlite:${join(dir, 'tessera.db')}`;
  const client = JSON.parse(
    tesseraCli(alg, database, dir, [
      'client',
      'create',
      '--name',
      'bench',
      '--grant',
      'client_credentials',
      ...(opts.withRefresh ? ['--grant', 'refresh_token'] : []),
      '--scope',
      'read',
    ]),
  ) as TesseraClient;
  return {
    dir,
    database,
    client,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The Node flags of the `tessera` command's `#!` line (the memory flags), so the
 * benchmark runs the server as that command and `npm start` do.
 */
function launcherFlags(): string[] {
  const line = readFileSync(join(ROOT, 'dist/cli/main.js'), 'utf8').split('\n')[0] ?? '';
  const match = /^#!\/usr\/bin\/env -S node(?<flags>( --\S+)*)$/.exec(line);
  if (!match) throw new Error(`dist/cli/main.js: unexpected #! line ${line}`);
  return (match.groups?.['flags'] ?? '').split(' ').filter((f) => f !== '');
}

/** `tessera serve` from the build on a prepared database, pinned like every server here. */
export async function serveTessera(
  alg: Alg,
  prepared: PreparedTessera,
  workers = 1,
): Promise<Running> {
  return spawnServer(
    [
      ...launcherFlags(),
      join(ROOT, 'dist/cli/main.js'),
      '--database',
      prepared.database,
      'serve',
      '--port',
      // `--workers` needs an explicit port.
      String(await freePort()),
      '--json',
      '--log-level',
      'warn',
      '--signing-alg',
      alg,
      '--workers',
      String(workers),
    ],
    {
      cwd: prepared.dir,
      env: tesseraEnv(alg),
      cores: workers > 1 ? `${SERVER_CORE},${LOAD_CORE}` : SERVER_CORE,
    },
  );
}

export async function startTessera(
  alg: Alg,
  opts: { database?: string; workers?: number; withRefresh?: boolean } = {},
): Promise<{ server: Running; client: TesseraClient; cleanup: () => Promise<void> }> {
  const prepared = prepareTessera(alg, opts);
  const server = await serveTessera(alg, prepared, opts.workers);
  return {
    server,
    client: prepared.client,
    cleanup: async () => {
      await server.stop();
      prepared.remove();
    },
  };
}

// -------------------------------------------------------------------------------------- load

export type Options = autocannon.Options;

async function cannon(opts: Options): Promise<autocannon.Result> {
  return autocannon({ connections: CONNECTIONS, pipelining: 1, timeout: 10, ...opts });
}

/**
 * Warm-up, then RUNS timed runs; the row is the run with the median req/s. `fresh` builds
 * the options for each run (a refresh run needs its own pool of tokens). RSS is sampled
 * every 250 ms during the timed runs; the maximum is kept.
 */
const CLOCK_TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (utime + stime) of a process and its `node` children. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of /proc/<pid>/stat; `fields` starts at field 3.
    let s = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICK;
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ')) {
      if (c.trim() === '') continue;
      if (readFileSync(`/proc/${c.trim()}/comm`, 'utf8').trim() !== 'node') continue;
      s += cpuSeconds(Number(c)) ?? 0;
    }
    return s;
  } catch {
    return undefined;
  }
}

export async function measure(
  pid: number,
  fresh: () => Promise<Options>,
): Promise<{ measured: Measured; rss: number | undefined }> {
  await cannon({ ...(await fresh()), duration: WARMUP });
  const results: autocannon.Result[] = [];
  const cpu = new Map<autocannon.Result, number | undefined>();
  let rss: number | undefined;
  for (let i = 0; i < RUNS; i++) {
    const opts = await fresh();
    const sampler = setInterval(() => {
      const r = rssMb(pid);
      if (r !== undefined) rss = Math.max(rss ?? 0, r);
    }, 250);
    try {
      const before = cpuSeconds(pid);
      const result = await cannon({ ...opts, duration: DURATION });
      const after = cpuSeconds(pid);
      results.push(result);
      cpu.set(result, before === undefined || after === undefined ? undefined : after - before);
    } finally {
      clearInterval(sampler);
    }
  }
  const rpsOf = (r: autocannon.Result) => r.requests.total / (r.duration || DURATION);
  const sorted = [...results].sort((a, b) => rpsOf(a) - rpsOf(b));
  const median = sorted[Math.floor(sorted.length / 2)] as autocannon.Result;
  return {
    measured: {
      rps: rpsOf(median),
      p50: median.latency.p50,
      p99: median.latency.p99,
      non2xx: results.reduce((n, r) => n + r.non2xx, 0),
      errors: results.reduce((n, r) => n + r.errors, 0),
      timeouts: results.reduce((n, r) => n + r.timeouts, 0),
      runs: results.map(rpsOf),
      cpuUsPerRequest: ((c) => (c === undefined ? undefined : (c * 1e6) / median.requests.total))(
        cpu.get(median),
      ),
      cores: ((c) => (c === undefined ? undefined : c / (median.duration || DURATION)))(
        cpu.get(median),
      ),
    },
    rss,
  };
}

export const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const JSON_CT = { 'content-type': 'application/json' };

export async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * refresh_token load: every request needs a refresh token never used before. Each autocannon
 * connection takes one pre-issued token from a pool (issued by client_credentials to a client
 * holding the refresh_token grant), then chains: the rotated successor in each response is
 * the token of that connection's next request. Requests are never pipelined, so each token is
 * presented exactly once. Returns a builder of fresh options for each run.
 */
export function refreshLoad(base: string, client: TesseraClient): () => Promise<Options> {
  const token = `${base}/oauth/token`;
  const cc = form({
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    scope: 'read',
  });
  return async () => {
    // One shared queue of unused refresh tokens: each request takes one, each 200 answer
    // gives back its successor (autocannon records a response before it builds the
    // connection's next request). Spare tokens cover requests built but never sent.
    const pool: string[] = [];
    for (let i = 0; i < 3 * CONNECTIONS; i++) {
      const r = await post(token, cc, FORM);
      if (typeof r['refresh_token'] !== 'string') throw new Error('no refresh token issued');
      pool.push(r['refresh_token']);
    }
    return {
      url: token,
      requests: [
        {
          method: 'POST',
          headers: FORM,
          setupRequest: (req) => ({
            ...req,
            body: form({
              grant_type: 'refresh_token',
              // An empty pool sends an unknown token: a 400 that the table shows as non-2xx.
              refresh_token: pool.shift() ?? 'pool-exhausted',
              client_id: client.client_id,
              client_secret: client.client_secret,
            }),
          }),
          onResponse: (status, body) => {
            if (status === 200) {
              pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
            }
          },
        },
      ],
    };
  };
}

/** A figure for a table: `-` when there is none. */
export function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

/** A Markdown table: the first two columns left-aligned, the figures after them right-aligned. */
export function markdownTable(header: readonly string[], lines: readonly string[][]): string {
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((l) => (l[i] ?? '').length)));
  const render = (l: readonly string[]) =>
    `| ${header.map((_, i) => ((c: string, w: number) => (i >= 2 ? c.padStart(w) : c.padEnd(w)))(l[i] ?? '', widths[i] ?? 0)).join(' | ')} |`;
  return [
    render(header),
    `|${widths.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...lines.map(render),
  ].join('\n');
}
