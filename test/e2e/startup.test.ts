/**
 * DESIGN §3 "Startup and stop": every request that reaches the port of `tessera serve` gets an
 * answer, from the moment the process starts (a load balancer probes it during a rolling
 * restart) to the moment it exits; on SIGTERM `/readyz` turns 503 for `shutdownGrace` seconds
 * while everything else is still served, and only then is the port closed.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { ENGINES, createPostgresDatabase } from '../helpers/engines.js';
import { freePort } from '../helpers/postgres.js';
import {
  type RunningServer,
  type ServerOptions,
  getJson,
  postForm,
  startServer,
} from '../helpers/server.js';

/**
 * A probe that gets no answer in this long counts as hung: the old defect never answered at
 * all; the bound is generous so a loaded machine's slow answer is not mistaken for one.
 */
const PROBE_TIMEOUT_MS = 15_000;

type Outcome =
  | {
      readonly kind: 'answered';
      readonly status: number;
      readonly headers: Record<string, string | string[] | undefined>;
      readonly body: string;
    }
  | { readonly kind: 'refused' }
  | { readonly kind: 'failed'; readonly why: string };

interface Probe {
  readonly method: 'GET' | 'POST';
  readonly path: string;
}

const HEALTHZ: Probe = { method: 'GET', path: '/healthz' };
const READYZ: Probe = { method: 'GET', path: '/readyz' };
const TOKEN: Probe = { method: 'POST', path: '/oauth/token' };
const AUTHORIZE: Probe = { method: 'GET', path: '/oauth/authorize?client_id=app' };
const UNKNOWN: Probe = { method: 'GET', path: '/no-such-path' };
/** The browser routes: the login page, its logout form and the Cisco Spaces launch. */
const PAGES: readonly Probe[] = [
  AUTHORIZE,
  { method: 'POST', path: '/oauth/logout' },
  { method: 'POST', path: '/spaces/launch' },
];

/**
 * One request on a connection of its own (as a load balancer's health check makes it), with
 * a bound: ECONNREFUSED means the port is not open, which is allowed; no answer within the
 * bound, or a connection cut without an answer, is the defect.
 */
function probe(port: number, p: Probe): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = p.method === 'POST' ? 'grant_type=client_credentials' : '';
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: p.method,
        path: p.path,
        agent: false,
        timeout: PROBE_TIMEOUT_MS,
        headers: p.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () =>
          resolve({
            kind: 'answered',
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
          }),
        );
        res.on('error', (err) => resolve({ kind: 'failed', why: `${p.path}: ${err.message}` }));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ kind: 'failed', why: `${p.path}: no answer within ${PROBE_TIMEOUT_MS} ms` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve({ kind: 'refused' });
      else resolve({ kind: 'failed', why: `${p.path}: ${err.code ?? err.message}` });
    });
    req.end(body);
  });
}

const UNAVAILABLE = { error: 'temporarily_unavailable' };

/** The exact answers of a process that is not ready yet (DESIGN §3). */
function assertStartingAnswer(p: Probe, outcome: Outcome): void {
  assert.equal(outcome.kind, 'answered', `${p.path} is answered while starting`);
  if (outcome.kind !== 'answered') return;
  assert.equal(outcome.headers['cache-control'], 'no-store', p.path);
  if (p === HEALTHZ) {
    assert.equal(outcome.status, 200);
    assert.deepEqual(JSON.parse(outcome.body), { status: 'ok' });
    return;
  }
  assert.equal(outcome.status, 503, p.path);
  assert.equal(outcome.headers['retry-after'], '1', p.path);
  if (PAGES.includes(p)) {
    // A browser route: a page a person can read, with the pages' security headers.
    assert.match(String(outcome.headers['content-type']), /^text\/html/);
    assert.match(String(outcome.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.match(outcome.body, /<code>temporarily_unavailable<\/code>/);
    return;
  }
  assert.match(String(outcome.headers['content-type']), /^application\/json/);
  const parsed = JSON.parse(outcome.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), ['error', 'error_description']);
  assert.equal(parsed['error'], UNAVAILABLE.error);
}

/** Whether `outcome` is what a ready server answers to `p` (the token probe has no client). */
function isReadyAnswer(p: Probe, outcome: Outcome): boolean {
  if (outcome.kind !== 'answered') return false;
  if (p === TOKEN) return outcome.status === 401 && outcome.body.includes('"invalid_client"');
  return outcome.status === 200;
}

const workspaces: Workspace[] = [];
const servers: RunningServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const ws of workspaces) ws.remove();
});

function workspace(): Workspace {
  const ws = createWorkspace({
    env: { TESSERA_MASTER_KEY: newMasterKey() },
    prefix: 'tessera-up-',
  });
  workspaces.push(ws);
  return ws;
}

/**
 * Starts `serve` on `port` and probes the port from the moment the process is spawned until
 * it has announced itself and answered every probe as a ready server: several loops, each
 * cycling through the probes on fresh connections. Returns every outcome, in order per probe.
 */
async function startWhileProbing(
  options: ServerOptions & { readonly port: number },
): Promise<{ server: RunningServer; outcomes: Map<Probe, Outcome[]> }> {
  const probes = [HEALTHZ, READYZ, TOKEN];
  const outcomes = new Map<Probe, Outcome[]>(probes.map((p) => [p, []]));
  let server: RunningServer | undefined;
  let gaveUp = false;
  const starting = startServer(options).then(
    (s) => {
      servers.push(s);
      server = s;
      return s;
    },
    (err: unknown) => {
      gaveUp = true;
      throw err;
    },
  );
  const loop = async (offset: number) => {
    const readySeen = new Set<Probe>();
    for (let i = offset; readySeen.size < probes.length && !gaveUp; i++) {
      const p = probes[i % probes.length] as Probe;
      const announced = server !== undefined;
      let outcome = await probe(options.port, p);
      // Once announced, the port is open: a refusal now is a failure too.
      if (announced && outcome.kind === 'refused')
        outcome = { kind: 'failed', why: `${p.path}: refused after the announcement` };
      outcomes.get(p)?.push(outcome);
      if (outcome.kind === 'failed') return;
      if (announced && isReadyAnswer(p, outcome)) readySeen.add(p);
      // Refused connections come back at once: do not spin the (shared) CPU.
      if (outcome.kind === 'refused') await sleep(5);
    }
  };
  const loops = Array.from({ length: 4 }, (_, i) => loop(i));
  await Promise.all([starting, ...loops]);
  return { server: await starting, outcomes };
}

/**
 * No probe hung or was cut; every answer is a ready server's or exactly a starting one's.
 * With `readyOnly` (workers, which listen only once ready) every answer is a ready server's.
 */
function assertEveryProbeAnswered(outcomes: Map<Probe, Outcome[]>, readyOnly: boolean): void {
  const failed = [...outcomes.values()].flat().filter((o) => o.kind === 'failed');
  assert.deepEqual(failed, [], 'every request that reached the port got an answer');
  for (const [p, list] of outcomes) {
    for (const o of list) {
      if (o.kind !== 'answered' || isReadyAnswer(p, o)) continue;
      assert.ok(!readyOnly, `a worker answered before it was ready: ${p.path} ${o.status}`);
      assertStartingAnswer(p, o);
    }
  }
}

describe('serve: requests during startup are answered', { timeout: 300_000 }, () => {
  for (const engine of ENGINES) {
    for (const workers of [[], ['--workers', '2']]) {
      test(
        `[${engine.name}]${workers.map((w) => ` ${w}`).join('')} probing the port from the process start, no request hangs`,
        { skip: engine.available ? false : (engine.reason ?? true) },
        async () => {
          const ws = workspace();
          // Unmigrated, so the single process migrates during its startup window (the
          // primary of --workers migrates before it forks).
          const pgDb =
            engine.name === 'postgres'
              ? await createPostgresDatabase({ migrate: false })
              : undefined;
          try {
            const { server, outcomes } = await startWhileProbing({
              database: pgDb?.url ?? ws.database,
              cwd: ws.dir,
              env: ws.env,
              port: await freePort(),
              args: workers,
            });
            assertEveryProbeAnswered(outcomes, workers.length > 0);
            await server.stop();
          } finally {
            await pgDb?.drop();
          }
        },
      );
    }
  }

  const postgres = ENGINES.find((e) => e.name === 'postgres');
  test(
    '[postgres] while migrations wait for their lock: /healthz 200, /readyz and the API 503 JSON, pages an HTML 503',
    { skip: postgres?.available ? false : (postgres?.reason ?? true) },
    async () => {
      const ws = workspace();
      const db = await createPostgresDatabase();
      // Kysely's migrator takes this PostgreSQL advisory lock before it looks for pending
      // migrations, so holding it keeps the server in its startup phase for as long as we like.
      const KYSELY_MIGRATION_LOCK = '3853314791062309107';
      const lock = new pg.Client({ connectionString: db.url });
      await lock.connect();
      let starting: Promise<RunningServer> | undefined;
      try {
        await lock.query(`select pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`);
        const port = await freePort();
        let announced = false;
        starting = startServer({
          database: db.url,
          cwd: ws.dir,
          env: ws.env,
          port,
          args: ['--issuer', 'https://auth.example.com'],
        }).then((s) => {
          announced = true;
          servers.push(s);
          return s;
        });
        // Wait for the port to open (the process binds before it migrates).
        let first: Outcome = { kind: 'refused' };
        while (first.kind === 'refused') {
          await sleep(20);
          first = await probe(port, HEALTHZ);
        }
        for (const p of [HEALTHZ, READYZ, TOKEN, UNKNOWN, ...PAGES]) {
          const outcome = await probe(port, p);
          assertStartingAnswer(p, outcome);
          // The issuer is https (a TLS proxy in front): HSTS from the first answer on.
          assert.equal(
            outcome.kind === 'answered' && outcome.headers['strict-transport-security'],
            'max-age=31536000',
            p.path,
          );
        }
        assert.equal(announced, false, 'the server is still starting');

        await lock.query(`select pg_advisory_unlock(${KYSELY_MIGRATION_LOCK})`);
        const server = await starting;
        assert.equal((await getJson(`${server.url}/readyz`)).status, 200);
        const token = await postForm(`${server.url}/oauth/token`, {
          grant_type: 'client_credentials',
        });
        assert.equal(token.status, 401, token.text);
        assert.equal(token.body['error'], 'invalid_client');
      } finally {
        // Released before the database goes, so a server still starting finishes (or fails)
        // and stops rather than dying on its dropped connection.
        await lock.end();
        const server = await starting?.catch(() => undefined);
        await server?.stop();
        await db.drop();
      }
    },
  );
});

describe('serve: SIGTERM drains the node through /readyz first', { timeout: 300_000 }, () => {
  for (const workers of [1, 2]) {
    test(`${workers === 1 ? 'one process' : '--workers 2'}: /readyz 503 for --shutdown-grace while /healthz and tokens are served; then the port closes`, async () => {
      const ws = workspace();
      const client = await ws.json<{ client_id: string; client_secret: string }>([
        'client',
        'create',
        '--name',
        'Drain',
        '--grant',
        'client_credentials',
      ]);
      const server = await startServer({
        database: ws.database,
        cwd: ws.dir,
        env: ws.env,
        port: await freePort(),
        args: [
          ...(workers > 1 ? ['--workers', String(workers)] : []),
          '--shutdown-grace',
          '3',
          '--log-level',
          'info',
        ],
      });
      servers.push(server);
      assert.equal((await getJson(`${server.url}/readyz`)).status, 200);

      const exit = server.stop('SIGTERM');
      // Each process logs this once it has turned not-ready (workers share the stderr).
      const draining = () => server.stderr().split('"not ready: draining"').length - 1;
      while (draining() < workers) await sleep(5);
      const [readyz, healthz, token] = await Promise.all([
        getJson(`${server.url}/readyz`),
        getJson(`${server.url}/healthz`),
        postForm(`${server.url}/oauth/token`, {
          grant_type: 'client_credentials',
          client_id: client.client_id,
          client_secret: client.client_secret,
        }),
      ]);
      assert.equal(readyz.status, 503, readyz.text);
      assert.equal(readyz.body['error'], 'temporarily_unavailable');
      assert.equal(healthz.status, 200, healthz.text);
      assert.equal(token.status, 200, token.text);
      assert.equal(typeof token.body['access_token'], 'string');

      assert.deepEqual(await exit, { code: 0, signal: null });
      await assert.rejects(fetch(`${server.url}/healthz`), 'the port is closed afterwards');
    });
  }
});
