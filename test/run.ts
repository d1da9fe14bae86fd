/**
 * Test entry point (`npm test`): runs every `*.test.ts` under test/ (or the files given as
 * arguments) with node:test, against one throwaway PostgreSQL server for the whole run when
 * the binaries are available. Child processes find it in TESSERA_TEST_PG_URL.
 *
 * Two passes: first every file as is (createTestApp on SQLite; the storage suites loop over
 * both engines themselves), then, with TESSERA_TEST_ENGINE=postgres, the files whose engine
 * that variable picks (those importing, directly or through a helper, a module that reads
 * it: test/helpers/app.ts). Without PostgreSQL the second pass is skipped with a warning, or
 * the run fails when CI=true. The last line sums both passes:
 * `tests: N passed, N failed, N skipped`.
 *
 *   node --import tsx test/run.ts [files…]
 *   TESSERA_TEST_ENGINE=postgres node --import tsx test/run.ts [files…]   # one pass only
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

const ENGINE_VARIABLE = 'TESSERA_TEST_ENGINE';
const requested = process.env[ENGINE_VARIABLE];
if (requested !== undefined && requested !== 'sqlite' && requested !== 'postgres') {
  console.error(`test/run: ${ENGINE_VARIABLE} must be sqlite or postgres, not "${requested}"`);
  process.exit(1);
}

/** Relative imports of a module (static, dynamic and side-effect), as absolute .ts paths. */
function localImports(file: string, source: string): string[] {
  const out: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) {
    const target = resolve(dirname(file), match[1] as string);
    for (const candidate of [target.replace(/\.js$/, '.ts'), target, `${target}.ts`]) {
      if (candidate.endsWith('.ts') && existsSync(candidate)) {
        out.push(candidate);
        break;
      }
    }
  }
  return out;
}

/** Whether the test file, or a test-side module it imports, reads TESSERA_TEST_ENGINE. */
function followsEngine(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  if (source.includes(ENGINE_VARIABLE)) return true;
  // Only modules under test/ choose an engine; the application never reads the variable.
  return localImports(file, source).some(
    (dep) => !relative(testDir, dep).startsWith('..') && followsEngine(dep, seen),
  );
}

interface Pass {
  readonly engine: 'sqlite' | 'postgres';
  readonly files: readonly string[];
}

const passes: Pass[] = [];
if (requested !== 'postgres') passes.push({ engine: 'sqlite', files });
if (requested === 'postgres') {
  // Asked for explicitly: the given files, whatever they are.
  passes.push({ engine: 'postgres', files });
} else {
  const engineFiles = files.filter((f) => followsEngine(resolve(root, f)));
  if (engineFiles.length > 0) passes.push({ engine: 'postgres', files: engineFiles });
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

/** Counts from a pass's TAP summary, or undefined if the run wrote none. */
interface Totals {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

function totals(tapFile: string): Totals | undefined {
  let tap: string;
  try {
    tap = readFileSync(tapFile, 'utf8');
  } catch {
    return undefined;
  }
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  return {
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped'),
  };
}

/** Far above a pass's normal length (about 8 minutes for the SQLite pass on 2 cores). */
const PASS_LIMIT_MINUTES = 40;

const show = (t: Totals) => `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`;

async function runPass(pass: Pass, index: number): Promise<{ code: number; totals?: Totals }> {
  const tapFile = join(runTmp, `results-${pass.engine}.tap`);
  const passEnv: NodeJS.ProcessEnv = { ...env };
  if (pass.engine === 'postgres') passEnv.TESSERA_TEST_ENGINE = 'postgres';
  else delete passEnv.TESSERA_TEST_ENGINE;
  console.log(
    `\n=== test pass ${index + 1}/${passes.length}: ${pass.engine === 'postgres' ? `${ENGINE_VARIABLE}=postgres` : 'as is (SQLite apps; storage suites on both engines)'}, ${pass.files.length} files ===\n`,
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      // A test that hangs fails after 5 minutes instead of stalling the run.
      '--test-timeout=300000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      // A TAP copy, read back below for the one-line total CI looks for.
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...pass.files,
    ],
    {
      cwd: root,
      env: passEnv,
      stdio: 'inherit',
    },
  );
  running.child = child;
  // A file that never exits (something it started still listening after its tests ended)
  // would stall the pass for good; past this bound the pass is killed and fails.
  const watchdog = setTimeout(() => {
    console.error(
      `test/run: pass ${index + 1} still running after ${PASS_LIMIT_MINUTES} minutes: killed`,
    );
    child.kill('SIGKILL');
  }, PASS_LIMIT_MINUTES * 60_000);
  const code = await new Promise<number>((resolveCode) => {
    child.once('exit', (exitCode, signal) => {
      resolveCode(exitCode ?? (signal ? exitCodeFor(signal) : 1));
    });
    child.once('error', (err) => {
      console.error(`test/run: cannot start the test runner: ${err.message}`);
      resolveCode(1);
    });
  });
  clearTimeout(watchdog);
  const found = totals(tapFile);
  return found ? { code, totals: found } : { code };
}

const pgAvailable = env.TESSERA_TEST_PG_URL !== undefined && env.TESSERA_TEST_PG_URL.length > 0;
let code = 0;
const sum = { passed: 0, failed: 0, skipped: 0 };
const perPass: string[] = [];
for (const [index, pass] of passes.entries()) {
  if (stopping) break;
  if (pass.engine === 'postgres' && !pgAvailable) {
    if (requested === 'postgres') {
      console.error(`test/run: ERROR: ${ENGINE_VARIABLE}=postgres but no PostgreSQL is available`);
      code = 1;
      break;
    }
    // CI=true without PostgreSQL already failed above; this is a developer machine.
    console.error(
      `test/run: WARNING: no PostgreSQL; skipping the ${ENGINE_VARIABLE}=postgres pass (${pass.files.length} files).`,
    );
    perPass.push(`${pass.engine}: skipped (no PostgreSQL)`);
    continue;
  }
  const result = await runPass(pass, index);
  if (result.code !== 0 && code === 0) code = result.code;
  if (result.totals) {
    sum.passed += result.totals.passed;
    sum.failed += result.totals.failed;
    sum.skipped += result.totals.skipped;
    perPass.push(`${pass.engine}: ${show(result.totals)}`);
  } else {
    perPass.push(`${pass.engine}: no results (exit ${result.code})`);
    if (code === 0) code = 1;
  }
}

if (perPass.length > 1) console.log(`\ntest passes: ${perPass.join('; ')}`);
console.log(`tests: ${show(sum)}`);
cleanup();
process.exit(stopping && code === 0 ? 1 : code);
