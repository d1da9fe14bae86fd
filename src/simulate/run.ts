/**
 * `tessera simulate <profile>` without commander: option checking, secrets (environment,
 * else stdin), the profile's checks, and their output. Tests call it in-process.
 */
import { writeFileSync } from 'node:fs';
import { BrowserUnavailable, chromiumAuthorizer } from './browser.js';
import { simulateCiscoSpaces } from './cisco-spaces.js';
import { simulateBrightPattern, simulateSetu } from './client-credentials.js';
import {
  type Check,
  type ReportFormat,
  fail,
  jsonReport,
  parseReportTarget,
  renderReport,
  textReport,
} from './report.js';

export const PROFILES = ['cisco-spaces', 'bright-pattern', 'setu'] as const;
export type Profile = (typeof PROFILES)[number];

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Options as commander hands them over (camelCase; values are strings unless flags). */
export interface SimulationOptions {
  readonly loginUrl?: string | undefined;
  readonly tokenUrl?: string | undefined;
  readonly appInfoUrl?: string | undefined;
  readonly clientId?: string | undefined;
  readonly redirectUri?: string | undefined;
  readonly email?: string | undefined;
  readonly launchUrl?: string | undefined;
  readonly keyBits?: string | number | undefined;
  readonly keyServerPort?: string | number | undefined;
  readonly browser?: boolean | undefined;
  readonly report?: string | undefined;
  readonly timeout?: string | number | undefined;
  readonly scope?: string | undefined;
  readonly json?: boolean | undefined;
}

export interface SimulationIo {
  /** Where TESSERA_CLIENT_SECRET and TESSERA_USER_PASSWORD are looked up. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads stdin once, until `lines` lines or EOF; called at most once. */
  readStdin(lines: number): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface SimulationResult {
  /** 0: every check passed; 1: a check failed (or the report could not be written); 2: bad usage. */
  readonly exitCode: number;
  readonly checks: readonly Check[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

function required(o: SimulationOptions, key: keyof SimulationOptions, flag: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.trim().length === 0)
    throw new UsageError(`${flag} is required for this profile`);
  return v.trim();
}

function httpUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} is not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${flag} must be an http or https URL`);
  return url.href;
}

function integer(
  value: string | number | undefined,
  flag: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}`);
  return n;
}

const SECRET_NAMES = {
  secret: { env: 'TESSERA_CLIENT_SECRET', what: 'client secret' },
  password: { env: 'TESSERA_USER_PASSWORD', what: 'user password' },
} as const;

/** The secrets a profile needs: from the environment, else one stdin line each, in order. */
async function secrets(
  needed: readonly (keyof typeof SECRET_NAMES)[],
  io: SimulationIo,
): Promise<Record<keyof typeof SECRET_NAMES, string>> {
  const out: Record<string, string> = {};
  const missing: (keyof typeof SECRET_NAMES)[] = [];
  for (const name of needed) {
    const v = io.env[SECRET_NAMES[name].env];
    if (v !== undefined && v.length > 0) out[name] = v;
    else missing.push(name);
  }
  if (missing.length > 0) {
    const lines = (await io.readStdin(missing.length)).split(/\r?\n/);
    missing.forEach((name, i) => {
      const line = lines[i] ?? '';
      if (line.length === 0)
        throw new UsageError(
          `no ${SECRET_NAMES[name].what}: set ${SECRET_NAMES[name].env} or give it on stdin (line ${i + 1})`,
        );
      out[name] = line;
    });
  }
  return out as Record<keyof typeof SECRET_NAMES, string>;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * Runs one profile and prints its checks (text lines, or `{"checks":[…]}` with `json`),
 * writing `--report FORMAT:FILE` when asked. Never prints a secret, code or token.
 */
export async function runSimulation(
  profile: string,
  options: SimulationOptions,
  io: SimulationIo,
): Promise<SimulationResult> {
  let checks: readonly Check[];
  const known: string[] = [];
  let report: { format: ReportFormat; file: string } | undefined;
  try {
    if (!(PROFILES as readonly string[]).includes(profile))
      throw new UsageError(`unknown profile "${profile}" (one of ${PROFILES.join(', ')})`);
    if (options.report !== undefined) {
      report = parseReportTarget(options.report);
      if (report === undefined)
        throw new UsageError('--report takes FORMAT:FILE, FORMAT one of json, junit, markdown');
    }
    const timeoutMs = integer(options.timeout, '--timeout', 1, 600_000, DEFAULT_TIMEOUT_MS);
    const tokenUrl = httpUrl(required(options, 'tokenUrl', '--token-url'), '--token-url');
    const clientId = required(options, 'clientId', '--client-id');
    if (profile === 'cisco-spaces') {
      const loginUrl = httpUrl(required(options, 'loginUrl', '--login-url'), '--login-url');
      const appInfoUrl = httpUrl(
        required(options, 'appInfoUrl', '--app-info-url'),
        '--app-info-url',
      );
      const redirectUri = httpUrl(
        required(options, 'redirectUri', '--redirect-uri'),
        '--redirect-uri',
      );
      const email = required(options, 'email', '--email');
      const launchUrl =
        options.launchUrl === undefined ? undefined : httpUrl(options.launchUrl, '--launch-url');
      const keyBits = integer(options.keyBits, '--key-bits', 1024, 2048, 1024);
      if (keyBits !== 1024 && keyBits !== 2048)
        throw new UsageError('--key-bits must be 1024 or 2048');
      const keyServerPort = integer(options.keyServerPort, '--key-server-port', 0, 65535, 0);
      const s = await secrets(['secret', 'password'], io);
      known.push(s.secret, s.password);
      const browser = options.browser === true;
      const user = { email, password: s.password };
      checks = (
        await simulateCiscoSpaces(
          {
            loginUrl,
            tokenUrl,
            appInfoUrl,
            clientId,
            redirectUri,
            email,
            secret: s.secret,
            password: s.password,
            launchUrl,
            keyBits,
            keyServerPort,
            browser,
            timeoutMs,
          },
          async () => {
            try {
              const redirectHost = new URL(redirectUri).hostname;
              const unreachable = redirectHost === new URL(loginUrl).hostname ? [] : [redirectHost];
              return await chromiumAuthorizer(user, timeoutMs, unreachable);
            } catch (err) {
              if (err instanceof BrowserUnavailable) fail(err.message);
              throw err;
            }
          },
        )
      ).list;
    } else if (profile === 'bright-pattern') {
      const scope = required(options, 'scope', '--scope');
      const s = await secrets(['secret'], io);
      known.push(s.secret);
      checks = (
        await simulateBrightPattern({ tokenUrl, clientId, secret: s.secret, timeoutMs, scope })
      ).list;
    } else {
      const s = await secrets(['secret'], io);
      known.push(s.secret);
      checks = (await simulateSetu({ tokenUrl, clientId, secret: s.secret, timeoutMs })).list;
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`tessera: ${err.message}\n`);
    return { exitCode: 2, checks: [] };
  }

  // A safety net: a site may echo what it was sent (an `error` field, a page), never print it.
  checks = checks.map((c) => ({
    name: redact(c.name, known),
    ok: c.ok,
    reason: c.reason === null ? null : redact(c.reason, known),
  }));
  io.stdout(options.json ? jsonReport(checks) : textReport(checks));
  let exitCode = checks.every((c) => c.ok) ? 0 : 1;
  if (report !== undefined) {
    try {
      writeFileSync(report.file, renderReport(report.format, checks, profile));
    } catch (err) {
      io.stderr(
        `tessera: could not write the report to ${report.file}: ${(err as Error).message}\n`,
      );
      exitCode = 1;
    }
  }
  return { exitCode, checks };
}
