/**
 * `npm run bench` — Tessera beside node-oidc-provider, and both beside the measured ceiling.
 *
 * Each server runs as its own process pinned to core 0 (`taskset -c 0`); this process (the
 * autocannon load generator) pins itself to core 1. Tessera runs from the build (`dist/`).
 * Per scenario: one warm-up, then RUNS timed runs of DURATION seconds at CONNECTIONS
 * connections; the row shows the run with the median req/s (its p50 and p99 with it).
 *
 * Then the growth rows (bench/growth.ts): refresh_token with 0, 10,000 and 1,000,000 rows in
 * refresh_tokens, client_credentials with 10 and 100,000 clients.
 *
 * `npm run bench -- --quick`: 1 run of 2 s, 1 s warm-up (for development; not for the record).
 * `npm run bench -- --growth-only`: the growth rows alone (results file `<date>-growth.*`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { findPostgresBinaries, freePort, startPostgres } from '../test/helpers/postgres.js';
import { codeLoad, seedCodeFlow } from './code-flow.js';
import { peerCodeLoad, peerUserinfoLoad } from './peer-code.js';
import { type GrowthRow, growthScenarios, growthTable } from './growth.js';
import {
  ALGS,
  type Alg,
  CONNECTIONS,
  DURATION,
  FORM,
  JSON_CT,
  LOAD_CORE,
  type Measured,
  QUICK,
  ROOT,
  RUNS,
  SERVER_CORE,
  TSX,
  WARMUP,
  expectAlg,
  form,
  fmt,
  log,
  markdownTable,
  measure,
  type Options,
  type Running,
  type TesseraClient,
  post,
  prepareTessera,
  refreshLoad,
  serveTessera,
  spawnServer,
  startTessera,
} from './harness.js';
import { renderSvg } from './svg.js';

interface Row {
  readonly scenario: string;
  readonly server: 'tessera' | 'peer' | 'ceiling' | 'reference';
  readonly measured?: Measured;
  readonly rssMb?: number;
  /** Derived ceiling (req/s) this row is compared with, and how it was derived. */
  readonly ceiling?: { readonly rps: number; readonly formula: string };
  /** Scenario name of the peer row this row is compared with. */
  readonly peerScenario?: string;
  /** Scenario name of the minimal token route (bench/minimal.ts) this row is compared with. */
  readonly minimalScenario?: string;
  readonly skipped?: string;
}

const rows: Row[] = [];

/** Measures one scenario (see measure) and adds its row, with the peak RSS when sampled. */
async function record(
  pid: number,
  load: () => Promise<Options>,
  row: Omit<Row, 'measured' | 'rssMb'>,
): Promise<Measured> {
  const { measured, rss } = await measure(pid, load);
  rows.push({ ...row, measured, ...(rss !== undefined && { rssMb: rss }) });
  return measured;
}
const GROWTH_ONLY = process.argv.includes('--growth-only');

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
    const measured = await record(
      server.pid,
      async () => ({
        url: `${server.url}/token`,
        method: 'POST',
        headers: JSON_CT,
        body,
      }),
      {
        scenario: 'bare Fastify JSON route (POST)',
        server: 'ceiling',
      },
    );
    return measured.rps;
  } finally {
    await server.stop();
  }
}

const harmonic = (a: number, b: number) => 1 / (1 / a + 1 / b);

const minimalScenario = (alg: Alg) => `minimal token route ${alg} (form)`;

/** The one client of the peer and the minimal route, and its client_credentials body. */
const REFERENCE_CLIENT: TesseraClient = { client_id: 'bench', client_secret: 'bench-secret' };
const REFERENCE_CC = form({ grant_type: 'client_credentials', ...REFERENCE_CLIENT, scope: 'read' });

/** bench/peer.ts or bench/minimal.ts in `mode`, on a free port, knowing that one client. */
async function spawnReference(script: string, mode: string): Promise<Running> {
  const port = await freePort();
  return spawnServer([
    '--import',
    TSX,
    join(ROOT, script),
    mode,
    String(port),
    REFERENCE_CLIENT.client_id,
    REFERENCE_CLIENT.client_secret,
  ]);
}

/** The floor (bench/minimal.ts): what any token endpoint spends on this machine. */
async function minimalRoute(alg: Alg): Promise<void> {
  const server = await spawnReference('bench/minimal.ts', alg);
  const body = REFERENCE_CC;
  try {
    expectAlg((await post(`${server.url}/token`, body, FORM))['access_token'], alg, 'minimal');
    await record(
      server.pid,
      async () => ({ url: `${server.url}/token`, method: 'POST', headers: FORM, body }),
      { scenario: minimalScenario(alg), server: 'reference' },
    );
  } finally {
    await server.stop();
  }
}

const PEER_INTROSPECTION = 'introspection opaque (form)';
const PEER_CODE = 'authorization_code ES256 (form, PKCE)';
const PEER_USERINFO = 'userinfo bearer opaque';

async function peerScenarios(mode: Alg | 'opaque'): Promise<void> {
  const server = await spawnReference('bench/peer.ts', mode);
  const body = REFERENCE_CC;
  try {
    const check = await post(`${server.url}/token`, body, FORM);
    if (mode === 'opaque') {
      if (typeof check['access_token'] !== 'string') throw new Error('peer issued no token');
    } else {
      expectAlg(check['access_token'], mode, 'node-oidc-provider');
    }
    await record(
      server.pid,
      async () => ({
        url: `${server.url}/token`,
        method: 'POST',
        headers: FORM,
        body,
      }),
      {
        scenario:
          mode === 'opaque'
            ? 'client_credentials opaque (form)'
            : `client_credentials ${mode} (form)`,
        server: 'peer',
      },
    );
    if (mode === 'opaque') {
      // The peer refuses to introspect its JWT access tokens ("Structured JWT Tokens cannot be
      // introspected"): its opaque ones, looked up in its in-memory store, are the yardstick.
      await record(
        server.pid,
        introspection(
          `${server.url}/token/introspection`,
          check['access_token'] as string,
          REFERENCE_CLIENT,
        ),
        {
          scenario: PEER_INTROSPECTION,
          server: 'peer',
        },
      );
    }
  } finally {
    await server.stop();
  }
}

/** RFC 7662 introspection of one token, the client authenticating in the form body. */
function introspection(url: string, token: string, client: TesseraClient): () => Promise<Options> {
  const body = form({ token, client_id: client.client_id, client_secret: client.client_secret });
  return async () => ({ url, method: 'POST', headers: FORM, body });
}

/** The peer's code redemption and userinfo (bench/peer-code.ts), ID tokens signed with `alg`. */
async function peerCodeFlow(alg: Alg): Promise<void> {
  const server = await spawnReference('bench/peer-code.ts', alg);
  try {
    await record(server.pid, await peerCodeLoad(server.url), {
      scenario: PEER_CODE,
      server: 'peer',
    });
    const userinfo = await peerUserinfoLoad(server.url);
    await record(server.pid, async () => userinfo, { scenario: PEER_USERINFO, server: 'peer' });
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
      await record(
        server.pid,
        async () => ({
          url: token,
          method: 'POST',
          headers: b.headers,
          body: b.body,
        }),
        {
          scenario: `client_credentials ${alg} (${b.label}${suffix})`,
          server: 'tessera',
          // One core's ceiling: not a bound for two workers on two cores.
          ...(workers === 1 && { ceiling, minimalScenario: minimalScenario(alg) }),
          peerScenario: `client_credentials ${alg} (form)`,
        },
      );
    }
    if (verifyCeiling) {
      // Verification scenarios use this server's tokens.
      const issued = await post(token, form(params), FORM);
      const accessToken = issued['access_token'] as string;
      await record(
        server.pid,
        introspection(`${server.url}/oauth/introspect`, accessToken, client),
        {
          scenario: `introspection ${alg} JWT (form)`,
          server: 'tessera',
          ceiling: verifyCeiling,
          peerScenario: PEER_INTROSPECTION,
        },
      );
      await record(
        server.pid,
        async () => ({
          url: `${server.url}/oauth/userinfo`,
          method: 'GET',
          headers: { authorization: `Bearer ${accessToken}` },
        }),
        {
          scenario: `userinfo bearer ${alg}`,
          server: 'tessera',
          ceiling: verifyCeiling,
          peerScenario: PEER_USERINFO,
        },
      );
    }
  } finally {
    await cleanup();
  }
}

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
    await record(server.pid, refreshLoad(server.url, client), {
      scenario: `refresh_token ${alg} on ${engine} (form)`,
      server: 'tessera',
      ceiling,
      peerScenario: 'client_credentials opaque (form)',
    });
  } finally {
    await cleanup();
  }
}

/** authorization_code redemptions (bench/code-flow.ts), each with a fresh code and PKCE. */
async function tesseraAuthorizationCode(
  alg: Alg,
  ceiling: { rps: number; formula: string },
): Promise<void> {
  const prepared = prepareTessera(alg);
  try {
    await seedCodeFlow(alg, prepared);
    const server = await serveTessera(alg, prepared);
    try {
      await record(server.pid, await codeLoad(server.url), {
        scenario: `authorization_code ${alg} on SQLite (form, PKCE)`,
        server: 'tessera',
        ceiling,
        peerScenario: PEER_CODE,
      });
    } finally {
      await server.stop();
    }
  } finally {
    prepared.remove();
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

function table(): string {
  const peerOf = (name: string | undefined) =>
    rows.find((r) => r.server === 'peer' && r.scenario === name)?.measured;
  const minimalOf = (name: string | undefined) =>
    rows.find((r) => r.server === 'reference' && r.scenario === name)?.measured;
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
    'of minimal',
  ];
  const lines = rows.map((r) => {
    if (r.skipped)
      return [r.scenario, r.server, `not run: ${r.skipped}`, ...header.slice(3).map(() => '')];
    const m = r.measured as Measured;
    const peer = peerOf(r.peerScenario);
    const minimal = minimalOf(r.minimalScenario);
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
      minimal ? `${fmt((100 * m.rps) / minimal.rps)}%` : '',
    ];
  });
  return markdownTable(header, lines);
}

/** Runs one scenario; a failure is recorded as a row that says why, and the run goes on. */
async function attempt(
  scenario: string,
  server: 'tessera' | 'peer' | 'reference',
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

/** The throughput rows (`rows`), with the ceilings they are compared with. */
async function throughputScenarios(): Promise<{
  crypto: Record<Alg, { sign: number; verify: number }>;
  bareRouteRps: number;
}> {
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
    await attempt(minimalScenario(alg), 'reference', () => minimalRoute(alg));
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
  await attempt(PEER_CODE, 'peer', () => peerCodeFlow('ES256'));
  await attempt('authorization_code ES256 on SQLite (form, PKCE)', 'tessera', () =>
    tesseraAuthorizationCode('ES256', signCeiling('ES256')),
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

  return { crypto, bareRouteRps: bare };
}

/** The growth rows, on SQLite and (when its binaries exist) on a throwaway PostgreSQL. */
async function growthRows(): Promise<GrowthRow[]> {
  if (!findPostgresBinaries()) {
    log('growth: initdb not found, PostgreSQL rows left out');
    return growthScenarios(undefined);
  }
  const pg = await startPostgres();
  try {
    return await growthScenarios(pg.url);
  } finally {
    pg.stop();
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

  const ceilings = GROWTH_ONLY ? undefined : await throughputScenarios();
  log('growth');
  const growth = await growthRows();

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
    ceilings,
    rows,
    growth,
  };
  const text = [...(GROWTH_ONLY ? [] : [table()]), growthTable(growth)].join('\n\n');
  process.stdout.write(`${text}\n`);
  const dir = join(ROOT, 'bench/results');
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const stem = join(
    dir,
    `${started.toISOString().slice(0, 10)}${GROWTH_ONLY ? '-growth' : ''}${QUICK ? '-quick' : ''}`,
  );
  writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${stem}.md`, `${text}\n`);
  if (!GROWTH_ONLY) writeFileSync(`${stem}.svg`, renderSvg(rows, started.toISOString()));
  log(`wrote ${stem}.json, .md${GROWTH_ONLY ? '' : ' and .svg'}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
