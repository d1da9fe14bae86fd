import { type KeyObject, createPublicKey, verify } from 'node:crypto';
import { isHttpsOrLoopback } from '../config/load.js';
import { decodeBase64url } from './base64url.js';

/** Claims of a Cisco Spaces app-launch JWT (DESIGN §1); it has no `iss`, `aud` or `typ`. */
export interface SpacesLaunchClaims {
  readonly partnerTenantId: string;
  readonly tenantId?: number;
  readonly baseUrl: string;
  readonly appId?: string;
  readonly activationRefId?: string;
  readonly exp: number;
  readonly [claim: string]: unknown;
}

export class LaunchRefused extends Error {
  override name = 'LaunchRefused';
}

/** `https://host[/path]` without a trailing slash, the form allow-list entries are compared in. */
export function normaliseBaseUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.search || url.hash || url.username || url.password) return undefined;
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/** Fetches and caches Cisco's public keys by (baseUrl, version). */
export interface LaunchKeySource {
  key(baseUrl: string, version: string | undefined): Promise<KeyObject>;
}

const MIN_RSA_BITS = 1024;
/** Also bounds the keys cached per base URL: only the last list fetched is kept. */
const MAX_KEY_LIST_BYTES = 64 * 1024;
/** The allow-list bounds the base URLs in practice; this bounds them when it does not. */
const MAX_BASE_URLS = 32;

function parseKey(base64Der: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(base64Der, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new LaunchRefused('partner public key is not base64 SPKI DER');
  }
  // Spaces keys are often 1024-bit RSA, which jose refuses; accepted here, for this token only.
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS)
    throw new LaunchRefused('partner public key is not RSA ≥ 1024 bits');
  return key;
}

/** One published entry: its key, or why it cannot be used (kept, so it is not refetched). */
interface PublishedEntry {
  readonly version: string;
  readonly key: KeyObject | LaunchRefused;
}

async function fetchKeyList(baseUrl: string, timeoutMs: number): Promise<PublishedEntry[]> {
  let body: unknown;
  try {
    const res = await fetch(`${baseUrl}/client/v1/partner/partnerPublicKey`, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
      headers: { accept: 'application/json' },
    });
    const text = await res.text();
    if (!res.ok || text.length > MAX_KEY_LIST_BYTES) throw new Error(`HTTP ${res.status}`);
    body = JSON.parse(text);
  } catch (err) {
    throw new LaunchRefused(
      `partner public key unavailable from ${baseUrl}: ${(err as Error).message}`,
    );
  }
  const entries = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(entries)) throw new LaunchRefused('partner public key list has no data array');
  return (entries as ({ version?: unknown; publicKey?: unknown } | null)[]).map((e) => {
    const version = String(e?.version);
    if (typeof e?.publicKey !== 'string')
      return { version, key: new LaunchRefused(`no partner public key for version ${version}`) };
    try {
      return { version, key: parseKey(e.publicKey) };
    } catch (err) {
      return { version, key: err as LaunchRefused };
    }
  });
}

/** What is known of one base URL's key list. */
interface KeyListState {
  /** The last list fetched (a failed refetch keeps it: published versions never change). */
  entries: readonly PublishedEntry[];
  /** Why the last fetch failed, until one succeeds. */
  failure: LaunchRefused | undefined;
  /** Clock time of the last fetch attempt: the cooldown runs from it. */
  fetchedAt: number;
  /** The fetch under way, which concurrent callers share. */
  inflight: Promise<void> | undefined;
}

function lookup(
  entries: readonly PublishedEntry[],
  version: string | undefined,
): PublishedEntry | undefined {
  if (version === undefined) return entries.length === 1 ? entries[0] : undefined;
  return entries.find((e) => e.version === version);
}

export interface LaunchKeySourceOptions {
  /** Per fetch, milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** Seconds since the epoch (default the system clock). */
  readonly clock?: () => number;
  /** Least seconds between two fetches of one base URL's list (default 60). */
  readonly cooldownSeconds?: number;
}

/**
 * Keys from `<baseUrl>/client/v1/partner/partnerPublicKey`, the list
 * `{status, data:[{version, publicKey}]}` with base64 SPKI DER keys. Each fetch has a
 * timeout and a size bound. The version comes from whoever posts the token, so an unknown
 * one may not cost a fetch each: a base URL's list is fetched at most once per cooldown,
 * concurrent callers share one fetch, and a version missing from the list is refused until
 * the cooldown has run out (a newly published version is picked up after it).
 */
export function createLaunchKeySource(opts: LaunchKeySourceOptions = {}): LaunchKeySource {
  const clock = opts.clock ?? (() => Date.now() / 1000);
  const cooldown = opts.cooldownSeconds ?? 60;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const lists = new Map<string, KeyListState>();

  function refresh(baseUrl: string, state: KeyListState): Promise<void> {
    state.fetchedAt = clock();
    state.inflight = fetchKeyList(baseUrl, timeoutMs)
      .then(
        (entries) => {
          state.entries = entries;
          state.failure = undefined;
        },
        (err: unknown) => {
          state.failure = err as LaunchRefused; // fetchKeyList refuses with nothing else
        },
      )
      .finally(() => {
        state.inflight = undefined;
      });
    return state.inflight;
  }

  return {
    async key(baseUrl, version) {
      let state = lists.get(baseUrl);
      let entry = state && lookup(state.entries, version);
      if (!entry) {
        if (!state) {
          if (lists.size >= MAX_BASE_URLS) lists.delete(lists.keys().next().value as string);
          state = { entries: [], failure: undefined, fetchedAt: -Infinity, inflight: undefined };
          lists.set(baseUrl, state);
        }
        if (state.inflight) await state.inflight;
        else if (clock() >= state.fetchedAt + cooldown) await refresh(baseUrl, state);
        entry = lookup(state.entries, version);
      }
      if (!entry) {
        throw (
          state?.failure ??
          new LaunchRefused(`no partner public key for version ${version ?? '(none given)'}`)
        );
      }
      if (entry.key instanceof LaunchRefused) throw entry.key;
      return entry.key;
    },
  };
}

function decodePart(part: string): Record<string, unknown> {
  const bytes = decodeBase64url(part);
  if (bytes === undefined) throw new LaunchRefused('malformed token');
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new LaunchRefused('malformed token');
  }
}

export interface VerifyLaunchOptions {
  /** Normalised base URLs keys may be fetched from. */
  readonly allowedBaseUrls: readonly string[];
  readonly keys: LaunchKeySource;
  /** Seconds since the epoch. */
  readonly now: number;
  /** Allowed clock skew on `exp`, seconds. */
  readonly skew?: number;
}

/** A verified launch token: its claims and the signature bytes that were checked. */
export interface VerifiedLaunch {
  readonly claims: SpacesLaunchClaims;
  /** What a replay record is keyed on: RS256 signs deterministically, one launch one value. */
  readonly signature: Buffer;
}

/**
 * Verifies a Cisco Spaces launch token: decoded without trust first, so that the key is
 * fetched only from an allow-listed `baseUrl`; RS256 only (`alg` pinned before any key is
 * touched, so `none` and HS256-with-the-public-key never verify), with `node:crypto`, then
 * `exp` with bounded skew. Every segment must be canonical base64url (RFC 7515 §2): a token
 * has one spelling. Replay is the caller's to refuse (it needs the store), keyed on the
 * signature bytes, never on text.
 */
export async function verifyLaunch(
  token: string,
  version: string | undefined,
  opts: VerifyLaunchOptions,
): Promise<VerifiedLaunch> {
  if (token.length > 8192) throw new LaunchRefused('token too large');
  const parts = token.split('.');
  if (parts.length !== 3) throw new LaunchRefused('malformed token');
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h);
  if (header['alg'] !== 'RS256')
    throw new LaunchRefused(`algorithm ${String(header['alg'])} is not accepted (RS256 only)`);
  const claims = decodePart(p);
  // Decoded strictly, before any key is fetched: one signature, one spelling.
  const signature = decodeBase64url(s);
  if (signature === undefined || signature.length === 0) throw new LaunchRefused('malformed token');
  const baseUrl =
    typeof claims['baseUrl'] === 'string' ? normaliseBaseUrl(claims['baseUrl']) : undefined;
  if (!baseUrl || !opts.allowedBaseUrls.includes(baseUrl)) {
    throw new LaunchRefused(
      `baseUrl ${String(claims['baseUrl'])} is not an allowed Cisco Spaces address`,
    );
  }
  // Keys only over https; plain http only from a loopback host, even if listed (DESIGN §3).
  if (!isHttpsOrLoopback(new URL(baseUrl))) {
    throw new LaunchRefused(`baseUrl ${baseUrl} is not https: keys are never fetched from it`);
  }
  const key = await opts.keys.key(baseUrl, version);
  if (!verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, signature)) {
    throw new LaunchRefused('signature invalid');
  }
  const skew = opts.skew ?? 60;
  const exp = claims['exp'];
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new LaunchRefused('token has no exp');
  if (exp + skew <= opts.now) throw new LaunchRefused('token expired');
  if (typeof claims['partnerTenantId'] !== 'string' || claims['partnerTenantId'].length === 0) {
    throw new LaunchRefused('token has no partnerTenantId');
  }
  return { claims: claims as unknown as SpacesLaunchClaims, signature };
}

/** `verifyLaunch`, for callers that keep no replay record of their own. */
export async function verifySpacesLaunchToken(
  token: string,
  version: string | undefined,
  opts: VerifyLaunchOptions,
): Promise<SpacesLaunchClaims> {
  return (await verifyLaunch(token, version, opts)).claims;
}
