import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Config, type OptionName, envName, flagName, optionSchemas } from './options.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The option whose value is wrong, when it is one option's (`tessera doctor` names it). */
  constructor(
    message: string,
    readonly option?: OptionName,
  ) {
    super(message);
  }
}

export interface ConfigSources {
  /** Values from command-line flags, keyed by option name; `undefined` means not given. */
  readonly flags?: Partial<Record<OptionName, unknown>>;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Path of the JSON config file; default `$TESSERA_CONFIG`, else `tessera.config.json` in the
   * working directory if it exists; `false` for none.
   */
  readonly file?: string | false;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return (
    LOOPBACK.has(hostname) ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname) ||
    hostname.endsWith('.localhost')
  );
}

/** Where keys may come from: https, or plain http on this machine only. */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

function readConfigFile(
  path: string | false | undefined,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  if (path === false) return {};
  const explicit = path ?? env['TESSERA_CONFIG'];
  const file = resolve(explicit ?? 'tessera.config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a JSON object`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in optionSchemas))
      throw new ConfigError(`config file ${file}: unknown option "${key}"`);
  }
  return parsed as Record<string, unknown>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Resolves every option from flags > environment > config file > default, validates each
 * (the error names the option and where its value came from) and returns a frozen config.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const file = readConfigFile(sources.file, env);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(optionSchemas) as OptionName[]) {
    const spec = optionSchemas[name];
    let raw: unknown = sources.flags?.[name];
    let from = `flag ${flagName(name)}`;
    if (raw === undefined && env[envName(name)] !== undefined && name !== 'dialects') {
      raw = env[envName(name)];
      from = `environment ${envName(name)}`;
    }
    if (raw === undefined && file[name] !== undefined) {
      raw = file[name];
      from = `config file key "${name}"`;
    }
    if (raw === undefined) {
      out[name] = spec.default;
      continue;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` (at ${issue.path.join('.')})` : '';
      throw new ConfigError(
        `invalid ${name} from ${from}: ${issue?.message ?? 'invalid value'}${where}`,
        name,
      );
    }
    out[name] = parsed.data;
  }
  // Node refuses a headers timeout above the request timeout; say so in the config's terms.
  if ((out['headersTimeout'] as number) > (out['requestTimeout'] as number))
    throw new ConfigError('invalid headersTimeout: must not exceed requestTimeout');
  out['masterKey'] = masterKeyOf(
    out['masterKey'] as string | undefined,
    out['masterKeyFile'] as string | undefined,
  );
  const host = out['host'] as string;
  const port = out['port'] as number;
  const issuer =
    (out['issuer'] as string | undefined) ??
    defaultIssuer(host, port, out['tlsCert'] !== undefined);
  out['issuer'] = validateIssuer(issuer);
  out['audience'] ??= out['issuer'];
  return deepFreeze(out) as Config;
}

/**
 * The master key from `masterKeyFile` when one is named. Both set is refused: two sources
 * of one key are a mistake, and the wrong one would leave every signing key unreadable.
 */
function masterKeyOf(key: string | undefined, file: string | undefined): string | undefined {
  if (file === undefined) return key;
  if (key !== undefined)
    throw new ConfigError('set masterKey or masterKeyFile, not both', 'masterKeyFile');
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8').trim();
  } catch (err) {
    throw new ConfigError(
      `cannot read masterKeyFile ${resolve(file)}: ${(err as Error).message}`,
      'masterKeyFile',
    );
  }
  const parsed = optionSchemas.masterKey.schema.safeParse(text);
  if (!parsed.success || parsed.data === undefined)
    throw new ConfigError(
      `masterKeyFile ${resolve(file)} must hold 32 bytes in base64 (openssl rand -base64 32)`,
      'masterKeyFile',
    );
  return parsed.data;
}

/** The URL this process answers at: https when it serves TLS itself. */
export function defaultIssuer(host: string, port: number, tls: boolean): string {
  const name =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${name}:${port}`;
}

function validateIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`invalid issuer: "${issuer}" is not a URL`, 'issuer');
  }
  if (url.search || url.hash)
    throw new ConfigError('invalid issuer: no query or fragment allowed (RFC 8414 §2)', 'issuer');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(
      `invalid issuer: http:// is accepted only for loopback hosts; use https:// for ${url.hostname}`,
      'issuer',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError('invalid issuer: must be https://', 'issuer');
  // No trailing slash, so `${issuer}/oauth/token` is well formed and `iss` compares exactly.
  return url.href.replace(/\/$/, '');
}
