/**
 * A throwaway PostgreSQL server for tests and benchmarks (DESIGN.md §5): a fresh cluster in a
 * temporary directory, trust authentication, fsync off, on a free loopback port. The server
 * refuses to run as root, so when we are root initdb and pg_ctl run as the `postgres` user.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  /** Temporary directory holding the cluster (`data/`), its log and its socket. */
  readonly dir: string;
  /** Stops the server (`pg_ctl -m fast stop`) and removes the directory. Idempotent, synchronous. */
  stop(): void;
  /** Stops the server but keeps its data, for outage tests; `resume` starts it again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

interface Binaries {
  readonly initdb: string;
  readonly pgCtl: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir.length === 0) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Finds `initdb` and `pg_ctl` on PATH or under /usr/lib/postgresql/<version>/bin (newest first). */
export function findPostgresBinaries(): Binaries | undefined {
  const initdb = onPath('initdb');
  const pgCtl = onPath('pg_ctl');
  if (initdb && pgCtl) return { initdb, pgCtl };
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) {
      return { initdb: join(bin, 'initdb'), pgCtl: join(bin, 'pg_ctl') };
    }
  }
  return undefined;
}

/** A port that was free a moment ago: bind port 0 on loopback, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs `bin args…` as the postgres user when we are root. */
function asPostgres(bin: string, args: readonly string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, [...args]];
}

function run(bin: string, args: readonly string[]): Promise<void> {
  const [file, argv] = asPostgres(bin, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const output = `${stdout}${stderr}`.trim();
        reject(
          new Error(
            `${[file, ...argv].join(' ')} failed: ${err.message}${output ? `\n${output}` : ''}`,
          ),
        );
      } else {
        resolve();
      }
    });
  });
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error('cannot resolve the postgres user');
  return { uid, gid };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'log'), 'utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

export interface StartOptions {
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Where the temporary directory is made (default: /dev/shm when writable, else the OS tmpdir). */
  readonly baseDir?: string;
}

/**
 * /dev/shm when writable, else the OS temporary directory. Throwaway data belongs in memory:
 * CREATE DATABASE (one per test) copies a few megabytes and checkpoints, which takes 15-40 ms
 * on tmpfs and 0.5 s or more on a busy disk; SQLite's synchronous commits gain as much.
 */
export function fastTmpDir(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK | constants.X_OK);
      return '/dev/shm';
    }
  } catch {
    // not available: use the OS temporary directory
  }
  return tmpdir();
}

/**
 * Starts a throwaway server. Throws (after cleaning up) when the binaries are missing or the
 * server does not come up. Call `stop()` when done; it is also safe in an exit handler.
 */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const bins = findPostgresBinaries();
  if (!bins) throw new Error('initdb/pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin');
  const dir = mkdtempSync(join(options.baseDir ?? fastTmpDir(), 'tessera-pg-'));
  const data = join(dir, 'data');
  let started = false;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (started) {
      const [file, argv] = asPostgres(bins.pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      spawnSync(file, argv, { stdio: 'ignore', timeout: 60_000 });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (isRoot) {
      const { uid, gid } = postgresIds();
      chownSync(dir, uid, gid);
    }
    await run(bins.initdb, ['-D', data, '-A', 'trust', '--no-sync', '-U', 'postgres']);
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      fsync: 'off',
      max_connections: '200',
      ...options.settings,
    };
    // A port found free can be taken before the server binds it: try a few.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const serverArgs = [
        `-p ${port}`,
        `-k ${dir}`,
        ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
      ].join(' ');
      const startArgs = [
        '-D',
        data,
        '-w',
        '-t',
        '60',
        '-l',
        join(dir, 'log'),
        '-o',
        serverArgs,
        'start',
      ];
      try {
        await run(bins.pgCtl, startArgs);
        started = true;
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          port,
          dir,
          stop,
          pause: () => run(bins.pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']),
          resume: () => run(bins.pgCtl, startArgs),
        };
      } catch (err) {
        lastError = err;
        // pg_ctl may have left a half-started server behind; make sure it is down.
        started = true;
        const [file, argv] = asPostgres(bins.pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
        spawnSync(file, argv, { stdio: 'ignore', timeout: 30_000 });
        started = false;
        // Only a lost race for the port is worth another try.
        if (!/already in use|could not bind/i.test(readLog(dir))) break;
      }
    }
    throw new Error(
      `${lastError instanceof Error ? lastError.message : String(lastError)}\n${readLog(dir)}`.trim(),
    );
  } catch (err) {
    stop();
    throw err;
  }
}
