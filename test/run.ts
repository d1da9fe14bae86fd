/**
 * Test entry point (`npm test`): runs every `*.test.ts` under test/ (or the files given as
 * arguments) with node:test, against one throwaway PostgreSQL server for the whole run when
 * the binaries are available. Child processes find it in TESSERA_TEST_PG_URL.
 *
 *   node --import tsx test/run.ts [files…]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, readFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, fastTmpDir, startPostgres } from './helpers/postgres.js';

const testDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(testDir, '..');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(path));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const files = (args.length > 0 ? args.map((f) => resolve(f)) : findTests(testDir))
  .map((f) => relative(root, f))
  .sort();

if (files.length === 0) {
  console.error('test/run: no test files found');
  process.exit(1);
}

let pgServer: PostgresServer | undefined;
/** The node:test process, once started (read by the signal handler). */
const running: { child?: ChildProcess } = {};
let stopping = false;
let startingPostgres = false;
let interrupted: NodeJS.Signals | undefined;

// Test processes put their temporary files (SQLite databases, …) in a directory of this run
// (in memory when /dev/shm is there), removed at the end even when a test process is killed
// before its own cleanup ran.
const runTmp = mkdtempSync(join(fastTmpDir(), 'tessera-run-'));
// Traversable by other users, so a test may start its own PostgreSQL (run as `postgres`) in it.
chmodSync(runTmp, 0o755);

function cleanup(): void {
  pgServer?.stop();
  pgServer = undefined;
  rmSync(runTmp, { recursive: true, force: true });
}

// Last resort: whatever happens, do not leave a server or a directory behind.
process.on('exit', cleanup);

function onSignal(signal: NodeJS.Signals): void {
  const { child } = running;
  if (child && child.exitCode === null && child.signalCode === null) {
    // The child may already have it (terminal Ctrl-C goes to the whole group); forwarding
    // covers a signal sent to this process alone. Cleanup runs when the child exits.
    stopping = true;
    child.kill(signal);
    return;
  }
  if (startingPostgres) {
    // Exit once startPostgres has settled, so its server and directory are removed too.
    interrupted = signal;
    return;
  }
  cleanup();
  process.exit(exitCodeFor(signal));
}

function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: runTmp };
if (env.TESSERA_TEST_PG_URL) {
  console.error(`test/run: using PostgreSQL from TESSERA_TEST_PG_URL`);
} else {
  startingPostgres = true;
  try {
    pgServer = await startPostgres();
    env.TESSERA_TEST_PG_URL = pgServer.url;
    console.error(`test/run: throwaway PostgreSQL at ${pgServer.url}`);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (process.env.CI === 'true') {
      console.error(
        `test/run: ERROR: cannot start PostgreSQL (required when CI=true):\n${message}`,
      );
      cleanup();
      process.exit(1);
    }
    console.error(
      `test/run: WARNING: cannot start PostgreSQL; PostgreSQL suites will be skipped.\n${message}`,
    );
  } finally {
    startingPostgres = false;
  }
  if (interrupted) {
    cleanup();
    process.exit(exitCodeFor(interrupted));
  }
}

const tapFile = join(runTmp, 'results.tap');

/** `N passed, N failed, N skipped` from the TAP summary, or undefined if the run wrote none. */
function totals(): string | undefined {
  let tap: string;
  try {
    tap = readFileSync(tapFile, 'utf8');
  } catch {
    return undefined;
  }
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return `${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped`;
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    // A TAP copy, read back below for the one-line total CI looks for.
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  {
    cwd: root,
    env,
    stdio: 'inherit',
  },
);

running.child = child;

const code = await new Promise<number>((resolveCode) => {
  child.once('exit', (exitCode, signal) => {
    resolveCode(exitCode ?? (signal ? exitCodeFor(signal) : 1));
  });
  child.once('error', (err) => {
    console.error(`test/run: cannot start the test runner: ${err.message}`);
    resolveCode(1);
  });
});

const summary = totals();
if (summary) console.log(`tests: ${summary}`);
cleanup();
process.exit(stopping && code === 0 ? 1 : code);
