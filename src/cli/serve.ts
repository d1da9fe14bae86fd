import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { demoShellExports, seedDemo } from '../admin/demo.js';
import {
  type Config,
  NO_SERVE_FLAG,
  type OptionName,
  flagName,
  optionSchemas,
} from '../config/options.js';
import { createLogger } from '../observability/logger.js';
import { attach, boundPort, createServer, drain, listen, serveMetrics } from '../server/listen.js';
import { openRuntime } from '../server/runtime.js';
import { configFor, globals, guarded } from './context.js';

/**
 * Serve-only flags that commander spells specially: a negated boolean, and `--trust-proxy`,
 * whose value is optional (the bare flag means one hop).
 */
const SPELLED: Partial<Record<OptionName, string>> = {
  migrate: '--no-migrate',
  trustProxy: '--trust-proxy [hops|addresses]',
};
const BOOLEAN: readonly OptionName[] = ['demo'];

/** One flag per configuration option, generated from the options table. */
function addConfigFlags(cmd: Command): Command {
  for (const name of Object.keys(optionSchemas) as OptionName[]) {
    if (NO_SERVE_FLAG.includes(name)) continue;
    const spec = optionSchemas[name];
    const flag =
      SPELLED[name] ?? (BOOLEAN.includes(name) ? flagName(name) : `${flagName(name)} <value>`);
    cmd.addOption(new Option(flag, spec.doc).default(undefined));
  }
  return cmd;
}

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
/** How long SIGTERM waits for open connections before cutting them. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

/** Loads the config with serve's flags, plus overrides (the bound port, once known). */
type Loader = (overrides?: Record<string, unknown>) => Config;

async function runServer(load: Loader, opts: { json: boolean; worker: boolean }): Promise<void> {
  const initial = load();
  const logger = createLogger(initial.logLevel);
  const server = createServer(initial);
  let draining = false;
  let opened: Awaited<ReturnType<typeof openRuntime>> | undefined;
  let started;
  try {
    // A single process binds first: with port 0 the default issuer can only be named once the
    // port is known, and until the app is ready the port gives the startup answers (a
    // liveness probe is answered during a long migration). A worker listens only once ready:
    // the primary hands connections only to listening workers, so a replacement worker never
    // answers 503 beside siblings that serve (--workers needs an explicit port).
    if (!opts.worker) await listen(server, initial);
    const config = initial.port === 0 ? load({ port: boundPort(server) }) : initial;
    opened = await openRuntime(config, { logger, migrate: !opts.worker && config.migrate });
    const demo = config.demo && !opts.worker ? await seedDemo(opened) : undefined;
    const app = await attach(server, opened, () => draining);
    if (opts.worker) await listen(server, config);
    started = { config, deps: opened, demo, app };
  } catch (err) {
    // The bound socket would keep the process alive, listening but never ready.
    server.close();
    await opened?.close();
    throw err;
  }
  const { config, deps, demo, app } = started;
  const metricsServer =
    config.metricsPort === undefined
      ? undefined
      : await serveMetrics(deps, config.host, config.metricsPort);
  const sweep = setInterval(() => {
    const retention = deps.config.auditRetentionDays * 86_400_000;
    Promise.all([
      deps.store.sweepExpired(deps.clock()),
      deps.store.sweepAuditEvents(Date.now() - retention),
    ]).catch((err: unknown) => logger.warn({ err }, 'sweep failed'));
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  if (!opts.worker) announce(config, opts.json, demo);

  const shutdown = async (signal: NodeJS.Signals) => {
    // Ctrl-C in a terminal sends SIGINT to the primary and its workers at once, and the
    // primary then sends SIGTERM on: one shutdown per process.
    if (draining) return;
    // First out of the load balancer's rotation, still serving whatever it sends meanwhile.
    // An orchestrator stops with SIGTERM; SIGINT is a person at a terminal, who is not kept waiting.
    draining = true;
    const grace = signal === 'SIGTERM' ? config.shutdownGrace : 0;
    logger.info({ signal, seconds: grace }, 'not ready: draining');
    await sleep(grace * 1000);
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    clearInterval(sweep);
    metricsServer?.close();
    // Stop accepting, let in-flight requests finish, then release the store.
    await drain(server, SHUTDOWN_TIMEOUT_MS);
    await app.close();
    await deps.close();
    process.exit(0);
  };
  process.once('SIGTERM', (s) => void shutdown(s));
  process.once('SIGINT', (s) => void shutdown(s));
}

function announce(config: Config, json: boolean, demo: Awaited<ReturnType<typeof seedDemo>>): void {
  const scheme = config.tlsCert ? 'https' : 'http';
  const url = `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  const discovery = `${config.issuer}/.well-known/oauth-authorization-server`;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ url, issuer: config.issuer, discovery, ...(demo && { demo }) })}\n`,
    );
    return;
  }
  const lines = [
    `Tessera listening on ${url}`,
    `issuer:    ${config.issuer}`,
    `discovery: ${discovery}`,
  ];
  if (demo) {
    lines.push(
      '',
      'Demo data (credentials are shown only now):',
      `  tenant ${demo.tenant.id} (domain ${demo.tenant.domain ?? '-'})`,
      `  user   ${demo.user.email}  password ${demo.user.password}`,
      ...demo.clients.map(
        (c) =>
          `  client ${c.client_id.padEnd(20)} secret ${c.client_secret ?? '-'}  (${c.dialect})`,
      ),
    );
  }
  if (config.demo)
    lines.push(
      '',
      "For the README's examples, paste into the shell you run them in:",
      ...demoShellExports(url, demo),
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** How long workers get, past their grace and drain, to exit after SIGTERM before they are killed. */
const WORKER_EXIT_MARGIN_MS = 5_000;

async function runPrimary(config: Config, json: boolean): Promise<void> {
  const count = config.workers === 'auto' ? availableParallelism() : config.workers;
  if (config.port === 0) throw new Error('--workers needs an explicit --port');
  // The primary migrates and seeds once; workers only serve.
  const logger = createLogger(config.logLevel);
  const deps = await openRuntime(config, { logger, migrate: config.migrate });
  const demo = config.demo ? await seedDemo(deps) : undefined;
  await deps.close();

  const fork = () => cluster.fork({ TESSERA_CLUSTER_WORKER: '1' });
  const listened = new WeakSet<Worker>();
  let stopping = false;
  let started = false;
  let failStart: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    failStart = reject;
    cluster.on('listening', (worker) => {
      listened.add(worker);
      if (!started && Object.values(cluster.workers ?? {}).every((w) => w && listened.has(w))) {
        started = true;
        resolve();
      }
    });
  });

  const alive = () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  /** SIGTERM to every worker; the primary exits once the last one has (see 'exit' below). */
  const stopWorkers = () => {
    if (stopping) return;
    stopping = true;
    for (const w of alive()) w.process.kill('SIGTERM');
    // A worker stuck in shutdown must not keep the primary (and the port) forever.
    setTimeout(
      () => {
        for (const w of alive()) w.process.kill('SIGKILL');
      },
      config.shutdownGrace * 1000 + SHUTDOWN_TIMEOUT_MS + WORKER_EXIT_MARGIN_MS,
    ).unref();
  };
  const stop = () => {
    stopWorkers();
    if (alive().length === 0) process.exit(process.exitCode ?? 0);
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // The primary goes when its last worker has.
      if (alive().length === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    if (!started) {
      // A worker that cannot start (port taken, store unreachable, bad TLS files) would fail
      // again if restarted: the whole server fails, with the worker's error above.
      failStart(
        new Error(`a worker exited (${code ?? signal ?? '?'}) before listening; see above`),
      );
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    // Not in a tight loop if the replacement cannot start either.
    setTimeout(() => stopping || fork(), listened.has(worker) ? 0 : 1000);
  });
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  for (let i = 0; i < count; i++) fork();
  try {
    await ready;
  } catch (err) {
    // The error is reported by the caller; the primary exits (1) when the workers have.
    stopWorkers();
    throw err;
  }
  // Announced only once every worker is listening, so the printed URL answers at once.
  announce(config, json, demo);
}

export function serveCommand(): Command {
  return addConfigFlags(new Command('serve').description('run the authorization server')).action(
    async (flags: Record<string, unknown>, cmd: Command) => {
      const opts = globals(cmd);
      await guarded(async () => {
        const load: Loader = (overrides = {}) => configFor(opts, { ...flags, ...overrides });
        const config = load();
        const worker = process.env['TESSERA_CLUSTER_WORKER'] === '1';
        if (!worker && config.workers !== 1) await runPrimary(config, opts.json === true);
        else await runServer(load, { json: opts.json === true, worker });
      });
      // A worker that failed to start must exit: its IPC channel to the primary would keep it
      // (and so the primary, waiting for it) alive.
      if (process.exitCode && cluster.isWorker) process.exit(process.exitCode);
    },
  );
}
