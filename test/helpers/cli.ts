/**
 * Runs the Tessera CLI from source as a real child process:
 * `node --import <tsx loader> src/cli/main.ts …`, with a bounded run time.
 *
 * The tsx loader is passed by URL, not as the bare name `tsx`: `--import` resolves a bare
 * specifier from the working directory, and these tests run the CLI in temporary directories
 * (so `./data`, `tessera.config.json` and the generated `master.key` stay out of the checkout).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_ENTRY = join(ROOT, 'src/cli/main.ts');
export const TSX_LOADER = import.meta.resolve('tsx');

/** `node` arguments that start the CLI from source, followed by `args`. */
export function cliArgv(args: readonly string[]): string[] {
  return ['--import', TSX_LOADER, CLI_ENTRY, ...args];
}

/**
 * The environment of a child: ours without any TESSERA_* variable (a developer's shell or the
 * test runner must not change what a test observes) and without node:test's markers, plus `extra`.
 */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('TESSERA_') || k.startsWith('NODE_TEST') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Children still running, killed if the test process exits without stopping them. */
export const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Written to the child's stdin, which is then closed (closed at once when absent). */
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Kill the child (SIGKILL) and fail after this long. Default 90 s: the CI machine may be loaded. */
  readonly timeoutMs?: number;
}

export const CLI_TIMEOUT_MS = 90_000;

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, cliArgv(args), {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // A child that exits before reading stdin closes the pipe; that is not the test's failure.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin ?? '');

  const timeoutMs = options.timeoutMs ?? CLI_TIMEOUT_MS;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `tessera ${args.join(' ')}: no exit within ${timeoutMs} ms (killed)\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** A fresh 32-byte master key in base64, as `openssl rand -base64 32` prints it. */
export function newMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/** One temporary directory per test file: the CLI's cwd and home of its SQLite database. */
export interface Workspace {
  readonly dir: string;
  /** `sqlite:<dir>/tessera.db` */
  readonly database: string;
  /** Environment every CLI run and server of this workspace gets (e.g. TESSERA_MASTER_KEY). */
  readonly env: Readonly<Record<string, string>>;
  /** Runs `tessera --database <database> …args` in `dir`. */
  cli(args: readonly string[], options?: CliOptions): Promise<CliResult>;
  /** Like `cli` with `--json`; fails unless it exits 0, returns the parsed stdout. */
  json<T = Record<string, unknown>>(args: readonly string[], options?: CliOptions): Promise<T>;
  remove(): void;
}

export function createWorkspace(
  options: { env?: Readonly<Record<string, string>>; prefix?: string } = {},
): Workspace {
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'tessera-e2e-'));
  const database = `sqlite:${join(dir, 'tessera.db')}`;
  const env = { ...options.env };
  const cli = (args: readonly string[], o: CliOptions = {}) =>
    runCli(['--database', database, ...args], { cwd: dir, ...o, env: { ...env, ...o.env } });
  return {
    dir,
    database,
    env,
    cli,
    async json<T>(args: readonly string[], o: CliOptions = {}): Promise<T> {
      const r = await cli(['--json', ...args], o);
      if (r.code !== 0) {
        throw new Error(
          `tessera --json ${args.join(' ')}: exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
        );
      }
      return JSON.parse(r.stdout) as T;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
