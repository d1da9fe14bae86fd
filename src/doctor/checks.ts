import { existsSync } from 'node:fs';
import { SPACES_REDIRECT_URIS } from '../admin/demo.js';
import { ConfigError, isLoopbackHost } from '../config/load.js';
import { type Config, optionSchemas } from '../config/options.js';
import type { Client, SigningKey, Tenant } from '../store/store.js';
import { sqlitePath } from '../store/sql/db.js';
import { type SqlStore, createSqlStore } from '../store/sql/sql-store.js';
import { currentSigner } from '../tokens/keystore.js';
import {
  type Crypto,
  createCrypto,
  resolveMasterKey,
  sqliteMasterKeyPath,
} from '../tokens/master-key.js';

/**
 * The go-live checks of `tessera doctor` (DESIGN §8): each reads the configuration and the
 * store, never a running server, and changes nothing (no migration, no key, no file).
 */

export type Level = 'PASS' | 'WARN' | 'FAIL';

export interface Check {
  readonly name: string;
  readonly level: Level;
  readonly reason: string;
}

const pass = (name: string, reason: string): Check => ({ name, level: 'PASS', reason });
const warn = (name: string, reason: string): Check => ({ name, level: 'WARN', reason });
const fail = (name: string, reason: string): Check => ({ name, level: 'FAIL', reason });

/** How long the store may take to answer before it counts as unreachable. */
export const STORE_TIMEOUT_MS = 5000;

const DAY = 24 * 3600;

/** The Cisco Spaces redirect URIs, labelled; SPACES_REDIRECT_URIS lists sandbox, then live. */
const SPACES_REDIRECTS = (['sandbox', 'live'] as const).map((label, i) => ({
  label,
  uri: SPACES_REDIRECT_URIS[i] as string,
}));

/** The hosts a launch token's `baseUrl` may name: those of the default allow-list. */
const SPACES_HOSTS = new Set(
  optionSchemas.spacesLaunchAllowedBaseUrls.default.map((u) => new URL(u).hostname),
);

const issuerHost = (config: Config): string => new URL(config.issuer).hostname;
const httpsIssuer = (config: Config): boolean => new URL(config.issuer).protocol === 'https:';

export function issuerCheck(config: Config): Check {
  // The loader refuses http:// for anything but loopback, so http here is a local trial.
  return httpsIssuer(config)
    ? pass('issuer', `${config.issuer} is https`)
    : warn('issuer', `${config.issuer} is http on a loopback host: only this machine can use it`);
}

export function hostCheck(config: Config): Check {
  if (isLoopbackHost(config.host) && !isLoopbackHost(issuerHost(config)))
    return warn(
      'host',
      `host ${config.host} accepts connections from this machine only, but the issuer ${config.issuer} is not loopback: a load balancer elsewhere cannot reach it (--host 0.0.0.0)`,
    );
  return pass('host', `listens on ${config.host}`);
}

export function trustProxyCheck(config: Config): Check {
  if (httpsIssuer(config) && config.tlsCert === undefined && config.trustProxy === false)
    return warn(
      'trust proxy',
      'the issuer is https but this node serves no TLS and trusts no proxy: every per-IP limit would count the TLS proxy as one client (--trust-proxy)',
    );
  return pass('trust proxy', 'TLS here, a trusted proxy, or a plain-http loopback issuer');
}

export function launchAllowListCheck(config: Config): Check {
  const foreign = config.spacesLaunchAllowedBaseUrls.filter((entry) => {
    const url = URL.canParse(entry) ? new URL(entry) : undefined;
    return url?.protocol !== 'https:' || url.port !== '' || !SPACES_HOSTS.has(url.hostname);
  });
  if (foreign.length > 0)
    return fail(
      'launch allow-list',
      `not a Cisco Spaces https domain: ${foreign.join(', ')} (a launch token naming it would be verified with a key fetched from there)`,
    );
  return pass('launch allow-list', 'only Cisco Spaces https domains');
}

export function masterKeyCheck(
  config: Config,
  file: string | undefined,
  keys: SigningKey[],
): Check {
  // resolveMasterKey would generate a missing SQLite key; doctor must find it, not make one.
  if (
    config.masterKey === undefined &&
    (file === undefined || !existsSync(sqliteMasterKeyPath(file)))
  )
    return fail('master key', 'no master key: set TESSERA_MASTER_KEY or masterKeyFile');
  let crypto: Crypto;
  try {
    crypto = createCrypto(resolveMasterKey(config.masterKey, file).key);
  } catch (err) {
    return fail('master key', (err as Error).message);
  }
  const unreadable = keys.filter((k) => {
    try {
      crypto.decrypt(k.privateKey, `signing-key:${k.kid}`);
      return false;
    } catch {
      return true;
    }
  });
  if (unreadable.length > 0)
    return fail(
      'master key',
      `does not decrypt signing key ${unreadable.map((k) => k.kid).join(', ')}: not the master key this store was set up with`,
    );
  return pass(
    'master key',
    keys.length > 0
      ? `decrypts all ${keys.length} signing keys`
      : 'set (no signing key to decrypt yet)',
  );
}

export function signingKeyCheck(keys: SigningKey[], now: number): Check {
  const current = currentSigner(keys, now);
  return current
    ? pass('signing key', `${current.kid} (${current.alg}) signs`)
    : fail(
        'signing key',
        'no signing key: `serve` makes the first, or run `tessera key rotate --now`',
      );
}

/** Age of the newest key: a rotation staged but not yet signing counts as done. */
export function signingKeyAgeCheck(
  config: Config,
  [first, ...rest]: readonly [SigningKey, ...SigningKey[]],
  now: number,
): Check {
  const newest = rest.reduce((a, k) => (k.createdAt > a.createdAt ? k : a), first);
  const days = Math.floor((now - newest.createdAt) / DAY);
  if (days >= config.keyRotationDays)
    return warn(
      'signing key age',
      `the newest signing key ${newest.kid} is ${days} days old (keyRotationDays ${config.keyRotationDays}): run \`tessera key rotate\``,
    );
  return pass('signing key age', `the newest signing key is ${days} days old`);
}

const isNonEmpty = <T>(a: readonly T[]): a is readonly [T, ...T[]] => a.length > 0;

const spacesClients = (clients: Client[]): Client[] =>
  clients.filter((c) => c.dialect === 'cisco-spaces');

export function spacesRedirectCheck(clients: Client[]): Check {
  const missing = spacesClients(clients).flatMap((c) =>
    SPACES_REDIRECTS.filter((r) => !c.redirectUris.includes(r.uri)).map(
      (r) => `client ${c.id} lacks the ${r.label} redirect URI ${r.uri}`,
    ),
  );
  if (missing.length > 0) return warn('spaces redirect URIs', missing.join('; '));
  return pass('spaces redirect URIs', 'every cisco-spaces client has the sandbox and live URIs');
}

export function spacesTenantCheck(clients: Client[], tenants: Tenant[]): Check {
  const byId = new Map(tenants.map((t) => [t.id, t]));
  const problems = spacesClients(clients).flatMap((c) => {
    if (c.tenants.length === 0) return [`client ${c.id} is bound to no tenant`];
    return c.tenants.flatMap(({ id }) => {
      const t = byId.get(id);
      const lacks = [!t?.appUrl && 'app URL', !t?.supportEmail && 'support email'].filter(
        (x): x is string => typeof x === 'string',
      );
      return lacks.length > 0
        ? [`tenant ${id} (client ${c.id}) has no ${lacks.join(' nor ')}`]
        : [];
    });
  });
  if (problems.length > 0) return warn('spaces tenants', problems.join('; '));
  return pass('spaces tenants', 'every cisco-spaces tenant has an app URL and a support email');
}

/** The ids `serve --demo` seeds (src/admin/demo.ts); their secrets were printed at start. */
const isDemoClient = (c: Client): boolean => c.id.startsWith('demo-');

export function demoClientCheck(config: Config, clients: Client[]): Check {
  const demo = clients.filter(isDemoClient).map((c) => c.id);
  if (demo.length > 0 && !isLoopbackHost(issuerHost(config)))
    return fail(
      'demo clients',
      `demo clients on a public issuer: ${demo.join(', ')} (tessera client delete ID)`,
    );
  return pass('demo clients', demo.length > 0 ? 'demo clients on a loopback issuer only' : 'none');
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Checks that need the store; the first that fails ends them (the rest would only repeat it). */
async function storeChecks(config: Config, store: SqlStore, now: number): Promise<Check[]> {
  try {
    await withTimeout(store.ping(), STORE_TIMEOUT_MS);
  } catch (err) {
    return [fail('store reachable', (err as Error).message)];
  }
  const out = [pass('store reachable', store.engine)];
  const pending = await store.pendingMigrations();
  if (pending.length > 0)
    return [
      ...out,
      fail('store migrated', `pending: ${pending.join(', ')} (run \`tessera migrate\`)`),
    ];
  out.push(pass('store migrated', 'no pending migration'));
  const [keys, clients, tenants] = await Promise.all([
    store.listSigningKeys(),
    store.listClients(),
    store.listTenants(),
  ]);
  return [
    ...out,
    masterKeyCheck(config, store.file, keys),
    signingKeyCheck(keys, now),
    ...(isNonEmpty(keys) ? [signingKeyAgeCheck(config, keys, now)] : []),
    spacesRedirectCheck(clients),
    spacesTenantCheck(clients, tenants),
    demoClientCheck(config, clients),
  ];
}

/**
 * Every check, in the order printed. A configuration that does not load is one FAIL named
 * after the option at fault; a SQLite file that does not exist is not created.
 */
export async function diagnose(load: () => Config, now: number): Promise<Check[]> {
  let config: Config;
  try {
    config = load();
  } catch (err) {
    if (err instanceof ConfigError) return [fail(err.option ?? 'config', err.message)];
    throw err;
  }
  const checks = [
    issuerCheck(config),
    hostCheck(config),
    trustProxyCheck(config),
    launchAllowListCheck(config),
  ];
  // Opening a SQLite URL creates the file: a missing one is reported, not made.
  const file = config.database.startsWith('sqlite:') ? sqlitePath(config.database) : undefined;
  if (file !== undefined && file !== ':memory:' && !existsSync(file))
    return [
      ...checks,
      fail('store reachable', `no database file at ${file} (run \`tessera migrate\`)`),
    ];
  const store = createSqlStore(config.database, { poolSize: 1 });
  try {
    return [...checks, ...(await storeChecks(config, store, now))];
  } finally {
    await store.close();
  }
}
