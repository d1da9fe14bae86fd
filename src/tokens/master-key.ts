import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeBase64url } from './base64url.js';

/**
 * Subkeys derived from the master key with HKDF. Each derived value is tagged with the
 * derivation version (`v1`), so a later master-key rotation can keep verifying old hashes
 * and decrypting old keys while writing new ones under `v2`.
 */
export interface Crypto {
  /** Keyed hash (HMAC-SHA256) of a secret, refresh token or code: `v1$<base64url>`. */
  hashSecret(secret: string): string;
  /** Constant-time check of a secret against a stored keyed hash. */
  verifySecret(secret: string, stored: string | null): boolean;
  /** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
  encrypt(plain: Buffer, aad: string): string;
  decrypt(sealed: string, aad: string): Buffer;
}

const VERSION = 'v1';

export function createCrypto(masterKey: Buffer): Crypto {
  if (masterKey.length !== 32) throw new Error('the master key must be 32 bytes');
  const derive = (info: string) =>
    Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `tessera ${info} ${VERSION}`, 32));
  const hashKey = derive('secret-hash');
  const encKey = derive('key-encryption');
  const hashSecret = (secret: string) =>
    `${VERSION}$${createHmac('sha256', hashKey).update(secret, 'utf8').digest('base64url')}`;
  return {
    hashSecret,
    verifySecret(secret, stored) {
      // Hash even when there is nothing to compare against, so an unknown client costs the
      // same as a wrong secret.
      const a = Buffer.from(hashSecret(secret));
      const b = Buffer.from(stored ?? '');
      return a.length === b.length && timingSafeEqual(a, b) && stored !== null;
    },
    encrypt(plain, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv).setAAD(Buffer.from(aad));
      const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), ct]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    decrypt(sealed, aad) {
      const [version, ...parts] = sealed.split('.');
      const [iv, tag, ct] = parts.map(decodeBase64url);
      if (version !== VERSION || parts.length !== 3 || !iv || !tag || !ct)
        throw new Error(`unsupported sealed value (${version ?? '?'})`);
      const decipher = createDecipheriv('aes-256-gcm', encKey, iv)
        .setAAD(Buffer.from(aad))
        .setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]);
    },
  };
}

export interface MasterKeySource {
  readonly key: Buffer;
  /** Set when the key was generated just now (the caller warns). */
  readonly generatedAt?: string;
}

/** Where the generated master key of a SQLite store lives: beside the database file. */
export function sqliteMasterKeyPath(sqliteFile: string): string {
  return join(dirname(sqliteFile), 'master.key');
}

/**
 * The configured master key; or, for SQLite only, the one kept in `master.key` beside the
 * database file, generated (mode 0600) on first use. PostgreSQL deployments must configure
 * one, since every node needs the same key.
 */
export function resolveMasterKey(
  configured: string | undefined,
  sqliteFile: string | undefined,
): MasterKeySource {
  if (configured) return { key: Buffer.from(configured, 'base64') };
  if (!sqliteFile) {
    throw new Error(
      'TESSERA_MASTER_KEY is required with PostgreSQL or in-memory SQLite (openssl rand -base64 32)',
    );
  }
  const path = sqliteMasterKeyPath(sqliteFile);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const key = randomBytes(32);
    try {
      // `wx`: if another process (a second CLI call, a cluster worker) wrote it first, use theirs.
      writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
      return { key, generatedAt: path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
  return { key };
}
