import {
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
} from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningKey, Store } from '../store/store.js';
import { isStoreUnavailable } from '../store/unavailable.js';
import type { Crypto } from './master-key.js';

export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** A key ready to use: the private `KeyObject` is parsed once and cached, never per call. */
export interface ActiveKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

function generate(alg: SigningAlg): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (alg) {
    case 'RS256':
    case 'PS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
  }
}

/** Makes a new key row: private key sealed under the key-encryption subkey, `kid` its RFC 7638 thumbprint. */
export async function newSigningKey(
  crypto: Crypto,
  alg: SigningAlg,
  now: number,
  activatesAt: number,
  purpose: SigningKey['purpose'] = 'access',
): Promise<SigningKey> {
  const { publicKey, privateKey } = generate(alg);
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    kid,
    alg,
    publicJwk: JSON.stringify({ ...jwk, kid, alg, use: 'sig' }),
    privateKey: crypto.encrypt(der, `signing-key:${kid}`),
    createdAt: now,
    activatesAt,
    publishUntil: null,
    purpose,
  };
}

/**
 * The key that signs access tokens at `now`: the most recently activated one made by rotation
 * (an `id-token` key never signs access tokens). Keys activated in the same
 * second (a `--now` rotation right after the first key was made) are told apart by
 * retirement: the one no rotation has retired is the successor. Picking by activation time,
 * not by "not retired", matters when a second staged rotation retires a key that has not
 * activated yet: the older key must still hand over at its successor's activation, since
 * its publication ends relative to that moment.
 */
export function currentSigner(rows: readonly SigningKey[], now: number): SigningKey | undefined {
  let current: SigningKey | undefined;
  for (const row of rows) {
    if (row.activatesAt > now || row.purpose !== 'access') continue;
    const newer = !current || row.activatesAt > current.activatesAt;
    const tieBreak =
      current !== undefined && row.activatesAt === current.activatesAt && row.publishUntil === null;
    if (newer || tieBreak) current = row;
  }
  return current;
}

export interface KeystoreOptions {
  readonly store: Store;
  readonly crypto: Crypto;
  readonly clock: () => number;
  /** Seconds between polls of the store for rotations. */
  readonly cacheTtl: number;
  /** Seconds the loaded keys may still be used past `cacheTtl` while the store is unreachable. */
  readonly staleIfError?: number;
}

/**
 * The key that signs an ID Token of `alg` at `now`: the most recently activated key of that
 * algorithm, whatever its purpose, that stays published at least `lifetime` more seconds (so
 * every token it signs can be verified until it expires).
 */
export function idTokenSigner(
  rows: readonly SigningKey[],
  alg: SigningAlg,
  now: number,
  lifetime: number,
): SigningKey | undefined {
  let current: SigningKey | undefined;
  for (const row of rows) {
    if (row.alg !== alg || row.activatesAt > now) continue;
    if (row.publishUntil !== null && row.publishUntil < now + lifetime) continue;
    if (!current || row.activatesAt >= current.activatesAt) current = row;
  }
  return current;
}

/**
 * Seconds after a load of the keys during which an unknown `kid` is refused without asking
 * the store again (jose's remote key set default): the `kid` is the caller's to choose, so
 * without it every forged token would cost a store read.
 */
export const KEY_RELOAD_COOLDOWN = 30;

/**
 * The signing keys as one node sees them: loaded from the store and re-polled every
 * `cacheTtl` seconds, and on an unknown `kid` once the loaded set is `KEY_RELOAD_COOLDOWN`
 * old, so a key rotated on any node is picked up within the smaller of the two. Decrypted
 * keys are cached by `kid`.
 */
export class Keystore {
  private rows: SigningKey[] = [];
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private readonly parsed = new Map<string, ActiveKey>();

  constructor(private readonly opts: KeystoreOptions) {}

  private async refresh(force = false): Promise<void> {
    const now = this.opts.clock();
    if (!force && now - this.loadedAt < this.opts.cacheTtl) return;
    // One load in flight at a time; concurrent callers share it.
    this.loading ??= this.opts.store
      .listSigningKeys()
      .then(
        (rows) => {
          this.rows = rows;
          this.loadedAt = this.opts.clock();
        },
        (err: unknown) => {
          // Keys change only by rotation, which needs the store: while it is unreachable
          // the loaded set is current, for at most `staleIfError` seconds past its TTL.
          const age = this.opts.clock() - this.loadedAt - this.opts.cacheTtl;
          if (!(isStoreUnavailable(err) && age < (this.opts.staleIfError ?? 0))) throw err;
        },
      )
      .finally(() => {
        this.loading = undefined;
      });
    await this.loading;
  }

  private activate(row: SigningKey): ActiveKey {
    let key = this.parsed.get(row.kid);
    if (!key) {
      const der = this.opts.crypto.decrypt(row.privateKey, `signing-key:${row.kid}`);
      const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      key = {
        kid: row.kid,
        alg: row.alg as SigningAlg,
        privateKey,
        publicKey: createPublicKey(privateKey),
      };
      this.parsed.set(row.kid, key);
    }
    return key;
  }

  /** The key that signs now: the most recently activated key whose activation time has come. */
  async signingKey(): Promise<ActiveKey> {
    await this.refresh();
    const now = this.opts.clock();
    let current = currentSigner(this.rows, now);
    if (!current) {
      await this.refresh(true);
      current = currentSigner(this.rows, now);
    }
    if (!current) throw new Error('no active signing key (run `tessera key rotate --now`)');
    return this.activate(current);
  }

  /**
   * The key for an ID Token of `alg` (a client's `id_token_alg`) that lives `lifetime`
   * seconds. When no key of that algorithm can sign one (none was ever made, or the last is
   * leaving the JWKS), an `id-token` key is made and published at once: relying parties fetch
   * the JWKS again on an unknown `kid`. Nodes racing here each make one; every one is valid.
   */
  async idTokenKey(alg: SigningAlg, lifetime: number): Promise<ActiveKey> {
    await this.refresh();
    const now = this.opts.clock();
    let row = idTokenSigner(this.rows, alg, now, lifetime);
    if (!row) {
      await this.refresh(true);
      row = idTokenSigner(this.rows, alg, now, lifetime);
    }
    if (!row) {
      row = await newSigningKey(this.opts.crypto, alg, now, now, 'id-token');
      await this.opts.store.insertSigningKey(row);
      await this.refresh(true);
    }
    return this.activate(row);
  }

  /**
   * A published key by `kid`, for verification; polls the store when the kid is unknown,
   * unless the keys were loaded less than `KEY_RELOAD_COOLDOWN` seconds ago.
   */
  async verificationKey(kid: string): Promise<ActiveKey | undefined> {
    await this.refresh();
    let row = this.rows.find((r) => r.kid === kid);
    if (!row && this.opts.clock() - this.loadedAt >= KEY_RELOAD_COOLDOWN) {
      await this.refresh(true);
      row = this.rows.find((r) => r.kid === kid);
    }
    if (!row || (row.publishUntil !== null && row.publishUntil <= this.opts.clock()))
      return undefined;
    return this.activate(row);
  }

  /** The public JWK Set: every key from its creation (publish-ahead) until its `publish_until`. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.refresh();
    const now = this.opts.clock();
    const keys = this.rows
      .filter((r) => r.publishUntil === null || r.publishUntil > now)
      .map((r) => JSON.parse(r.publicJwk) as JWK)
      .reverse();
    return { keys };
  }

  /**
   * Creates the first key if the store has none, and an RS256 key for ID Tokens when no
   * RS256 key is in service (DESIGN §6: RS256 is every client's default `id_token_alg`,
   * whatever signs access tokens). Safe on many nodes at once (each key is valid).
   */
  async ensureKey(alg: SigningAlg): Promise<void> {
    await this.refresh(true);
    const now = this.opts.clock();
    const missing: { alg: SigningAlg; purpose: SigningKey['purpose'] }[] = [];
    if (this.rows.length === 0) missing.push({ alg, purpose: 'access' });
    if (alg !== 'RS256' && !this.rows.some((r) => r.alg === 'RS256' && r.publishUntil === null))
      missing.push({ alg: 'RS256', purpose: 'id-token' });
    if (missing.length === 0) return;
    for (const key of missing) {
      await this.opts.store.insertSigningKey(
        await newSigningKey(this.opts.crypto, key.alg, now, now, key.purpose),
      );
    }
    await this.refresh(true);
  }
}

/**
 * Staged rotation: the new key is published at once and signs from `now + publishAhead`
 * (or at once with `immediate`); every older key stops signing then and stays published
 * for `retainFor` seconds more, the longest lifetime of a token it may have signed.
 */
export async function rotateSigningKey(
  store: Store,
  crypto: Crypto,
  opts: {
    alg: SigningAlg;
    now: number;
    publishAhead: number;
    immediate: boolean;
    retainFor: number;
  },
): Promise<SigningKey> {
  const activatesAt = opts.immediate ? opts.now : opts.now + opts.publishAhead;
  const key = await newSigningKey(crypto, opts.alg, opts.now, activatesAt);
  await store.insertSigningKey(key);
  await store.retireSigningKeys(key.kid, activatesAt, activatesAt + opts.retainFor);
  return key;
}
