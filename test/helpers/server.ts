/**
 * Starts `tessera serve` as a real process (from source, like test/helpers/cli.ts) and waits
 * for the one JSON line it prints once it is listening: `{"url","issuer","discovery"[,"demo"]}`.
 */
import { spawn } from 'node:child_process';
import { ROOT, childEnv, cliArgv, liveChildren } from './cli.js';

export interface DemoCredentials {
  readonly tenant: { readonly id: string; readonly domain: string | null };
  readonly user: { readonly email: string; readonly password: string };
  readonly clients: readonly {
    readonly client_id: string;
    readonly client_secret: string | undefined;
    readonly dialect: string;
  }[];
}

export interface Announcement {
  readonly url: string;
  readonly issuer: string;
  readonly discovery: string;
  readonly demo?: DemoCredentials;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningServer {
  readonly url: string;
  readonly issuer: string;
  readonly discovery: string;
  /** The whole JSON line, `demo` included when one was seeded. */
  readonly announced: Announcement;
  readonly pid: number;
  /** Everything the server wrote to stdout so far (the JSON line first). */
  stdout(): string;
  /** Everything the server wrote to stderr so far (logs). */
  stderr(): string;
  /** Sends `signal` (default SIGTERM), waits for the exit (SIGKILL after a bound). Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

export interface ServerOptions {
  /** `sqlite:…` or `postgres://…` */
  readonly database: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Extra `serve` arguments. */
  readonly args?: readonly string[];
  readonly cwd?: string;
  /**
   * `--port` to pass: 0 (default) picks a free port; `null` passes none (the port then comes
   * from the environment, the config file or the default).
   */
  readonly port?: number | null;
  /** How long to wait for the JSON line. */
  readonly startTimeoutMs?: number;
  /** How long `stop` waits after its signal before SIGKILL. */
  readonly stopTimeoutMs?: number;
}

export const START_TIMEOUT_MS = 60_000;
export const STOP_TIMEOUT_MS = 20_000;

export function startServer(options: ServerOptions): Promise<RunningServer> {
  const port = options.port === undefined ? 0 : options.port;
  const args = [
    '--database',
    options.database,
    'serve',
    ...(port === null ? [] : ['--port', String(port)]),
    '--json',
    '--log-level',
    'warn',
    // No readiness grace on SIGTERM unless a test asks for one (a later flag wins).
    '--shutdown-grace',
    '0',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, cliArgv(args), {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));

  const exited = new Promise<ExitStatus>((resolveExit) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolveExit({ code, signal });
    });
  });
  let exitStatus: ExitStatus | undefined;
  void exited.then((s) => (exitStatus = s));

  const stop = async (
    signal: NodeJS.Signals = 'SIGTERM',
    stopTimeoutMs = options.stopTimeoutMs ?? STOP_TIMEOUT_MS,
  ): Promise<ExitStatus> => {
    if (exitStatus) return exitStatus;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<ExitStatus>((resolveKill) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        void exited.then(resolveKill);
      }, stopTimeoutMs);
    });
    try {
      return await Promise.race([exited, killed]);
    } finally {
      clearTimeout(timer);
    }
  };

  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  return new Promise<RunningServer>((resolveStart, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop('SIGKILL', 5_000).then(() =>
        reject(
          new Error(
            `tessera serve ${args.join(' ')}: ${why}\nstdout: ${stdout}\nstderr: ${stderr}`,
          ),
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`no JSON line within ${startTimeoutMs} ms`),
      startTimeoutMs,
    );
    child.once('error', (err) => fail(`cannot start: ${err.message}`));
    void exited.then((s) => fail(`exited (${s.code ?? s.signal}) before listening`));
    // Keep reading stdout after the first line, so a full pipe can never block the server.
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const newline = stdout.indexOf('\n');
      if (settled || newline < 0) return;
      let announced: Announcement;
      try {
        announced = JSON.parse(stdout.slice(0, newline)) as Announcement;
      } catch {
        fail('the first stdout line is not JSON');
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolveStart({
        url: announced.url,
        issuer: announced.issuer,
        discovery: announced.discovery,
        announced,
        pid: child.pid ?? -1,
        stdout: () => stdout,
        stderr: () => stderr,
        stop: (signal) => stop(signal),
      });
    });
  });
}

export interface HttpResult<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or `undefined` for an empty or non-JSON body. */
  readonly body: T;
  readonly text: string;
}

/** Every request a test makes is bounded in time too. */
export const HTTP_TIMEOUT_MS = 30_000;

async function send<T>(url: string, init: RequestInit): Promise<HttpResult<T>> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body: body as T, text };
}

/** POST `application/x-www-form-urlencoded`, as the platforms send it. */
export function postForm<T = Record<string, unknown>>(
  url: string,
  params: Readonly<Record<string, string>>,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpResult<T>> {
  return send<T>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

/** POST `application/json` with an object of strings. */
export function postJson<T = Record<string, unknown>>(
  url: string,
  body: Readonly<Record<string, string>>,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpResult<T>> {
  return send<T>(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export function getJson<T = Record<string, unknown>>(
  url: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpResult<T>> {
  return send<T>(url, { method: 'GET', headers });
}
