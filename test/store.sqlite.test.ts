/**
 * SQLite has one connection, which Kysely hands to one caller at a time: while a transaction
 * holds it open across its awaits, a refresh waits its turn, and neither joins that
 * transaction (to be rolled back with it) nor reads its uncommitted rows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type OpenedDatabase, migrateToLatest, openDatabase } from '../src/store/sql/db.js';
import * as refresh from '../src/store/sql/repositories/refresh-tokens.js';
import type { RefreshToken } from '../src/store/store.js';

const T0 = 1_800_000_000;

function token(id: string, over: Partial<RefreshToken> = {}): RefreshToken {
  return {
    id,
    tokenHash: `hash-${id}`,
    familyId: 'family',
    parentId: null,
    clientId: 'client',
    userId: 'user',
    tenantId: null,
    scope: 'read',
    audience: 'https://api.example.com',
    createdAt: T0,
    expiresAt: T0 + 3600,
    idleExpiresAt: T0 + 3600,
    rotatedAt: null,
    revokedAt: null,
    authTime: null,
    sid: null,
    ...over,
  };
}

describe('SQLite: refresh statements beside an open transaction', () => {
  let dir: string;
  let opened: OpenedDatabase;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
    opened = openDatabase(`sqlite:${join(dir, 'tessera.db')}`);
    await migrateToLatest(opened.db);
  });
  after(async () => {
    await opened.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a transaction that writes `written`, then waits; `release` rolls it back. */
  async function openTransaction(written: RefreshToken) {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const done = opened.db
      .transaction()
      .execute(async (trx) => {
        await refresh.insertRefreshToken(trx, written);
        inside();
        await held;
        throw new Error('rolled back');
      })
      .catch((err: unknown) => assert.equal((err as Error).message, 'rolled back'));
    await entered;
    return { release, done };
  }

  it('a rotation made meanwhile is not rolled back with the transaction', async () => {
    await refresh.insertRefreshToken(opened.db, token('live'));
    const tx = await openTransaction(token('uncommitted'));
    const rotating = refresh.rotateRefreshToken(
      opened.db,
      'sqlite',
      'hash-live',
      T0 + 10,
      token('successor', { parentId: 'live', createdAt: T0 + 10 }),
    );
    tx.release();
    await tx.done;
    assert.equal(await rotating, true);
    const found = await refresh.findRefreshToken(opened.db, 'hash-live');
    assert.equal(found?.rotatedAt, T0 + 10);
    assert.equal((await refresh.findRefreshToken(opened.db, 'hash-successor'))?.parentId, 'live');
    assert.equal(await refresh.findRefreshToken(opened.db, 'hash-uncommitted'), undefined);
  });

  it("a lookup made meanwhile does not read the transaction's uncommitted rows", async () => {
    const tx = await openTransaction(token('pending'));
    const found = refresh.findRefreshToken(opened.db, 'hash-pending');
    tx.release();
    await tx.done;
    assert.equal(await found, undefined);
  });

  it('with no transaction open, rotation and successor commit together or not at all', async () => {
    await refresh.insertRefreshToken(opened.db, token('solo'));
    // The successor's token_hash is taken: the insert fails, so the rotation is undone.
    await assert.rejects(
      refresh.rotateRefreshToken(opened.db, 'sqlite', 'hash-solo', T0 + 20, token('live')),
      /UNIQUE constraint failed/,
    );
    assert.equal((await refresh.findRefreshToken(opened.db, 'hash-solo'))?.rotatedAt, null);
  });
});
