/**
 * `npm run bench` — Tessera beside node-oidc-provider, and both beside the measured ceiling.
 *
 * Each server runs as its own process pinned to core 0 (`taskset -c 0`); this process (the
 * autocannon load generator) pins itself to core 1. Tessera runs from the build (`dist/`).
 * Per scenario: one warm-up, then RUNS timed runs of DURATION seconds at CONNECTIONS
 * connections; the row shows the run with the median req/s (its p50 and p99 with it).
 *
 * `npm run bench -- --quick`: 1 run of 2 s, 1 s warm-up (for development; not for the record).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import {
  fastTmpDir,
  findPostgresBinaries,
  freePort,
  startPostgres,
} from '../test/helpers/postgres.js';
import { renderSvg } from './svg.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.argv.includes('--quick');
const RUNS = QUICK ? 1 : 3;
const DURATION = QUICK ? 2 : 5;
const WARMUP = QUICK ? 1 : 2;
const CONNECTIONS = 50;
const SERVER_CORE = '0';
const LOAD_CORE = '1';
const TSX = import.meta.resolve('tsx');
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

type Alg = 'RS256' | 'ES256' | 'EdDSA';
const ALGS: readonly Alg[] = ['RS256', 'ES256', 'EdDSA'];

interface Measured {
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

interface Row {
  readonly scenario: string;
  readonly server: 'tessera' | 'peer' | 'ceiling';
  readonly measured?: Measured;
  readonly rssMb?: number;
  /** Derived ceiling (req/s) this row is compared with, and how it was derived. */
  readonly ceiling?: { readonly rps: number; readonly formula: string };
  /** Scenario name of the peer row this row is compared with. */
  readonly peerScenario?: string;
  readonly skipped?: string;
}

const rows: Row[] = [];
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

// ---------------------------------------------------------------------------------- processes

interface Running {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Spawns `taskset -c 0 node …args` and waits for its first stdout line, a JSON `{url}`. */
function spawnServer(
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

interface TesseraClient {
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

function tesseraCli(alg: Alg, database: string, cwd: string, args: readonly string[]): string {
  return execFileSync(
    process.execPath,
    [join(ROOT, 'dist/cli/main.js'), '--database', database, '--json', ...args],
    { cwd, env: { ...cleanEnv(), ...tesseraEnv(alg) }, encoding: 'utf8' },
  );
}

/** Fails unless `token` is a JWT signed with `alg`: a scenario must measure what it names. */
function expectAlg(token: unknown, alg: Alg, who: string): void {
  const header =
    typeof token === 'string'
      ? (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
          alg?: string;
        })
      : {};
  if (header.alg !== alg) throw new Error(`${who} signed with ${header.alg}, expected ${alg}`);
}

/**
 * A client with `client_credentials` only (as the peer's): a client that also holds
 * `refresh_token` gets a refresh token from client_credentials too, a durable write per
 * request. `withRefresh` makes such a client, for the refresh scenario.
 */
async function startTessera(
  alg: Alg,
  opts: { database?: string; workers?: number; withRefresh?: boolean } = {},
): Promise<{ server: Running; client: TesseraClient; cleanup: () => Promise<void> }> {
  const workers = opts.workers ?? 1;
  const dir = mkdtempSync(join(fastTmpDir(), 'tessera-bench-'));
  const db = opts.database ?? `sqlite:${join(dir, 'tessera.db')}`;
  const client = JSON.parse(
    tesseraCli(alg, db, dir, [
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
  const server = await spawnServer(
    [
      join(ROOT, 'dist/cli/main.js'),
      '--database',
      db,
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
      cwd: dir,
      env: tesseraEnv(alg),
      cores: workers > 1 ? `${SERVER_CORE},${LOAD_CORE}` : SERVER_CORE,
    },
  );
  return {
    server,
    client,
    cleanup: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// -------------------------------------------------------------------------------------- load

type Options = autocannon.Options;

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

async function measure(
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

const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_CT = { 'content-type': 'application/json' };

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

// --------------------------------------------------------------------------------- scenarios

async function cryptoCeilings(): Promise<Record<Alg, { sign: number; verify: number }>> {
  const out = execFileSync(
    'taskset',
    [
      '-c',
      SERVER_CORE,
      process.execPath,
      '--import',
      TSX,
      join(ROOT, 'bench/ceiling-crypto.ts'),
      '1',
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as Record<Alg, { sign: number; verify: number }>;
}

async function bareRoute(): Promise<number> {
  const server = await spawnServer(['--import', TSX, join(ROOT, 'bench/bare.ts'), '0']);
  try {
    const body = JSON.stringify({ grant_type: 'client_credentials', client_id: 'x' });
    const { measured, rss } = await measure(server.pid, async () => ({
      url: `${server.url}/token`,
      method: 'POST',
      headers: JSON_CT,
      body,
    }));
    rows.push({
      scenario: 'bare Fastify JSON route (POST)',
      server: 'ceiling',
      measured,
      ...(rss !== undefined && { rssMb: rss }),
    });
    return measured.rps;
  } finally {
    await server.stop();
  }
}

const harmonic = (a: number, b: number) => 1 / (1 / a + 1 / b);

async function peerScenarios(mode: Alg | 'opaque'): Promise<void> {
  const port = await freePort();
  const server = await spawnServer([
    '--import',
    TSX,
    join(ROOT, 'bench/peer.ts'),
    mode,
    String(port),
    'bench',
    'bench-secret',
  ]);
  try {
    const body = form({
      grant_type: 'client_credentials',
      client_id: 'bench',
      client_secret: 'bench-secret',
      scope: 'read',
    });
    const check = await post(`${server.url}/token`, body, FORM);
    if (mode === 'opaque') {
      if (typeof check['access_token'] !== 'string') throw new Error('peer issued no token');
    } else {
      expectAlg(check['access_token'], mode, 'node-oidc-provider');
    }
    const { measured, rss } = await measure(server.pid, async () => ({
      url: `${server.url}/token`,
      method: 'POST',
      headers: FORM,
      body,
    }));
    rows.push({
      scenario:
        mode === 'opaque'
          ? 'client_credentials opaque (form)'
          : `client_credentials ${mode} (form)`,
      server: 'peer',
      measured,
      ...(rss !== undefined && { rssMb: rss }),
    });
  } finally {
    await server.stop();
  }
}

async function tesseraClientCredentials(
  alg: Alg,
  ceiling: { rps: number; formula: string },
  verifyCeiling: { rps: number; formula: string } | undefined,
  workers = 1,
): Promise<void> {
  const { server, client, cleanup } = await startTessera(alg, { workers });
  const suffix = workers > 1 ? `, ${workers} workers on both cores` : '';
  try {
    const token = `${server.url}/oauth/token`;
    const params = {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
      scope: 'read',
    };
    const bodies = [
      { label: 'form', body: form(params), headers: FORM },
      ...(workers > 1 ? [] : [{ label: 'JSON', body: JSON.stringify(params), headers: JSON_CT }]),
    ];
    for (const b of bodies) {
      const check = await post(token, b.body, b.headers);
      expectAlg(check['access_token'], alg, 'tessera');
      const { measured, rss } = await measure(server.pid, async () => ({
        url: token,
        method: 'POST',
        headers: b.headers,
        body: b.body,
      }));
      rows.push({
        scenario: `client_credentials ${alg} (${b.label}${suffix})`,
        server: 'tessera',
        measured,
        ...(rss !== undefined && { rssMb: rss }),
        // One core's ceiling: not a bound for two workers on two cores.
        ...(workers === 1 && { ceiling }),
        peerScenario: `client_credentials ${alg} (form)`,
      });
    }
    if (verifyCeiling) {
      // Verification scenarios use this server's tokens.
      const issued = await post(token, form(params), FORM);
      const accessToken = issued['access_token'] as string;
      const intro = await measure(server.pid, async () => ({
        url: `${server.url}/oauth/introspect`,
        method: 'POST',
        headers: FORM,
        body: form({
          token: accessToken,
          client_id: client.client_id,
          client_secret: client.client_secret,
        }),
      }));
      rows.push({
        scenario: `introspection ${alg} JWT (form)`,
        server: 'tessera',
        measured: intro.measured,
        ...(intro.rss !== undefined && { rssMb: intro.rss }),
        ceiling: verifyCeiling,
      });
      const userinfo = await measure(server.pid, async () => ({
        url: `${server.url}/oauth/userinfo`,
        method: 'GET',
        headers: { authorization: `Bearer ${accessToken}` },
      }));
      rows.push({
        scenario: `userinfo bearer ${alg}`,
        server: 'tessera',
        measured: userinfo.measured,
        ...(userinfo.rss !== undefined && { rssMb: userinfo.rss }),
        ceiling: verifyCeiling,
      });
    }
  } finally {
    await cleanup();
  }
}

/**
 * refresh_token: every request needs a refresh token never used before. Each autocannon
 * connection takes one pre-issued token from a pool (issued by client_credentials to a client
 * holding the refresh_token grant), then chains: the rotated successor in each response is
 * the token of that connection's next request. Requests are never pipelined, so each token is
 * presented exactly once.
 */
async function tesseraRefresh(
  alg: Alg,
  engine: 'SQLite' | 'PostgreSQL',
  database: string | undefined,
  ceiling: { rps: number; formula: string },
): Promise<void> {
  const { server, client, cleanup } = await startTessera(alg, {
    withRefresh: true,
    ...(database !== undefined && { database }),
  });
  try {
    const token = `${server.url}/oauth/token`;
    const cc = form({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
      scope: 'read',
    });
    const fresh = async (): Promise<Options> => {
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
    const { measured, rss } = await measure(server.pid, fresh);
    rows.push({
      scenario: `refresh_token ${alg} on ${engine} (form)`,
      server: 'tessera',
      measured,
      ...(rss !== undefined && { rssMb: rss }),
      ceiling,
      peerScenario: 'client_credentials opaque (form)',
    });
  } finally {
    await cleanup();
  }
}

// -------------------------------------------------------------------------------------- main

function pinSelf(): void {
  execFileSync('taskset', ['-a', '-p', '-c', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });
}

function ensureBuild(): void {
  log('npm run build');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined ? '-' : n.toFixed(digits);
}

function table(): string {
  const peerOf = (name: string | undefined) =>
    rows.find((r) => r.server === 'peer' && r.scenario === name)?.measured;
  const header = [
    'scenario',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'RSS MB',
    'CPU µs/req',
    'server cores',
    'vs peer',
    'CPU/req vs peer',
    'of ceiling',
  ];
  const lines = rows.map((r) => {
    if (r.skipped)
      return [r.scenario, r.server, `not run: ${r.skipped}`, ...header.slice(3).map(() => '')];
    const m = r.measured as Measured;
    const peer = peerOf(r.peerScenario);
    const bad = m.non2xx + m.errors + m.timeouts;
    return [
      r.scenario,
      r.server,
      `${fmt(m.rps)}${bad > 0 ? ` (!${bad} non-2xx/errors)` : ''}`,
      fmt(m.p50),
      fmt(m.p99),
      fmt(r.rssMb),
      fmt(m.cpuUsPerRequest),
      fmt(m.cores, 2),
      peer && r.server === 'tessera' ? `${fmt(m.rps / peer.rps, 2)}x` : '',
      // > 1: Tessera spends less server CPU per response than the peer.
      peer?.cpuUsPerRequest !== undefined &&
      m.cpuUsPerRequest !== undefined &&
      r.server === 'tessera'
        ? `${fmt(peer.cpuUsPerRequest / m.cpuUsPerRequest, 2)}x`
        : '',
      r.ceiling ? `${fmt((100 * m.rps) / r.ceiling.rps)}%` : '',
    ];
  });
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((l) => (l[i] ?? '').length)));
  const render = (l: string[]) =>
    `| ${l.map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  return [
    render(header),
    `|${widths.map((w, i) => (i >= 2 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...lines.map(render),
  ].join('\n');
}

/** Runs one scenario; a failure is recorded as a row that says why, and the run goes on. */
async function attempt(
  scenario: string,
  server: 'tessera' | 'peer',
  fn: () => Promise<void>,
): Promise<void> {
  log(`${server}: ${scenario}`);
  try {
    await fn();
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'failed';
    log(`${scenario} FAILED: ${why}`);
    rows.push({ scenario, server, skipped: `failed: ${why.slice(0, 120)}` });
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const machine = {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavgBefore: readFileSync('/proc/loadavg', 'utf8').trim(),
  };
  pinSelf();
  if (!process.argv.includes('--no-build')) ensureBuild();
  log(`machine: ${JSON.stringify(machine)}; ${QUICK ? 'QUICK' : 'full'} run`);

  log('crypto ceilings');
  const crypto = await cryptoCeilings();
  log('bare Fastify route');
  const bare = await bareRoute();
  const signCeiling = (alg: Alg) => ({
    rps: harmonic(bare, crypto[alg].sign),
    formula: `1/(1/bare ${fmt(bare)} + 1/${alg} sign ${fmt(crypto[alg].sign)})`,
  });
  const verifyCeiling = (alg: Alg) => ({
    rps: harmonic(bare, crypto[alg].verify),
    formula: `1/(1/bare ${fmt(bare)} + 1/${alg} verify ${fmt(crypto[alg].verify)})`,
  });

  for (const alg of ALGS) {
    await attempt(`client_credentials ${alg} (form)`, 'peer', () => peerScenarios(alg));
    await attempt(`client_credentials ${alg}`, 'tessera', () =>
      tesseraClientCredentials(
        alg,
        signCeiling(alg),
        alg === 'ES256' ? verifyCeiling(alg) : undefined,
      ),
    );
  }
  await attempt('client_credentials ES256 (form, 2 workers on both cores)', 'tessera', () =>
    tesseraClientCredentials('ES256', signCeiling('ES256'), undefined, 2),
  );
  await attempt('client_credentials opaque (form)', 'peer', () => peerScenarios('opaque'));
  await attempt('refresh_token ES256 on SQLite (form)', 'tessera', () =>
    tesseraRefresh('ES256', 'SQLite', undefined, signCeiling('ES256')),
  );
  if (findPostgresBinaries()) {
    await attempt('refresh_token ES256 on PostgreSQL (form)', 'tessera', async () => {
      const pg = await startPostgres();
      try {
        await tesseraRefresh('ES256', 'PostgreSQL', pg.url, signCeiling('ES256'));
      } finally {
        pg.stop();
      }
    });
  } else {
    rows.push({
      scenario: 'refresh_token ES256 on PostgreSQL (form)',
      server: 'tessera',
      skipped: 'initdb not found',
    });
  }

  const finished = new Date();
  const result = {
    started: started.toISOString(),
    finished: finished.toISOString(),
    quick: QUICK,
    settings: {
      runs: RUNS,
      durationSeconds: DURATION,
      warmupSeconds: WARMUP,
      connections: CONNECTIONS,
      pipelining: 1,
      serverCore: SERVER_CORE,
      loadGeneratorCore: LOAD_CORE,
    },
    machine: { ...machine, loadavgAfter: readFileSync('/proc/loadavg', 'utf8').trim() },
    ceilings: { crypto, bareRouteRps: bare },
    rows,
  };
  const text = table();
  process.stdout.write(`${text}\n`);
  const dir = join(ROOT, 'bench/results');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const stem = join(dir, `${started.toISOString().slice(0, 10)}${QUICK ? '-quick' : ''}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${stem}.md`, `${text}\n`);
  writeFileSync(`${stem}.svg`, renderSvg(rows, started.toISOString()));
  log(`wrote ${stem}.json, .md and .svg`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
