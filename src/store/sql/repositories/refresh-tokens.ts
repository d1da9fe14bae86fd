import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { RefreshRedemption, RefreshToken } from '../../store.js';
import type { Database, RefreshTokensTable } from '../schema.js';
import { revokeGrant } from './revocations.js';

/*
 * The three statements of every refresh (find, rotate, insert the successor) are written as
 * SQL text rather than with Kysely's query builder: building and compiling them cost ~12, ~22
 * and ~15 µs a refresh (micro-benchmark on this project's bench machine; the builder is
 * copied at every step), the text ~1 µs each. The text is plain SQL that SQLite and
 * PostgreSQL (and CockroachDB, YugabyteDB) read alike; `sql` binds each value as a parameter.
 * The grace retry's reclaim is SQL text too: it shares the rotation's consume-then-insert.
 */

type Engine = 'sqlite' | 'postgres';

/** refresh_tokens' columns, in the order `columnValues` lists them. */
const COLUMNS = sql.raw(
  'id, token_hash, family_id, parent_id, client_id, user_id, tenant_id, scope, audience, ' +
    'created_at, expires_at, idle_expires_at, rotated_at, revoked_at, auth_time, sid',
);

/** A row's values in the order of COLUMNS, each cast to its column's type when `cast`. */
function columnValues(t: RefreshToken, cast: boolean) {
  const text = (v: string | null) => (cast ? sql`CAST(${v} AS text)` : sql`${v}`);
  const bigint = (v: number | null) => (cast ? sql`CAST(${v} AS bigint)` : sql`${v}`);
  return sql.join([
    text(t.id),
    text(t.tokenHash),
    text(t.familyId),
    text(t.parentId),
    text(t.clientId),
    text(t.userId),
    text(t.tenantId),
    text(t.scope),
    text(t.audience),
    bigint(t.createdAt),
    bigint(t.expiresAt),
    bigint(t.idleExpiresAt),
    bigint(t.rotatedAt),
    bigint(t.revokedAt),
    bigint(t.authTime),
    text(t.sid),
  ]);
}

const insertion = (t: RefreshToken) =>
  sql`INSERT INTO refresh_tokens (${COLUMNS}) VALUES (${columnValues(t, false)})`;

export async function insertRefreshToken(db: Kysely<Database>, t: RefreshToken): Promise<void> {
  await insertion(t).execute(db);
}

// A revoked grant (e.g. its authorization code was replayed) revokes the token even when the
// token row was written after the revocation, so the grant's time is reported too.
const lookup = (tokenHash: string) => sql<RefreshTokensTable & { grant_revoked_at: number | null }>`
  SELECT refresh_tokens.*, revoked_grants.revoked_at AS grant_revoked_at
  FROM refresh_tokens
  LEFT JOIN revoked_grants ON revoked_grants.grant_id = refresh_tokens.family_id
  WHERE token_hash = ${tokenHash}`;

export async function findRefreshToken(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<RefreshToken | undefined> {
  const {
    rows: [r],
  } = await lookup(tokenHash).execute(db);
  return (
    r && {
      id: r.id,
      tokenHash: r.token_hash,
      familyId: r.family_id,
      parentId: r.parent_id,
      clientId: r.client_id,
      userId: r.user_id,
      tenantId: r.tenant_id,
      scope: r.scope,
      audience: r.audience,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      idleExpiresAt: r.idle_expires_at,
      rotatedAt: r.rotated_at,
      revokedAt: r.revoked_at ?? r.grant_revoked_at,
      authTime: r.auth_time,
      sid: r.sid,
    }
  );
}

/** The conditional UPDATE that consumes a live token (see Store.rotateRefreshToken). */
function rotation(tokenHash: string, now: number) {
  return sql`UPDATE refresh_tokens SET rotated_at = ${now}
    WHERE token_hash = ${tokenHash} AND rotated_at IS NULL AND revoked_at IS NULL
      AND expires_at > ${now} AND idle_expires_at > ${now}
      AND NOT EXISTS (
        SELECT grant_id FROM revoked_grants WHERE grant_id = refresh_tokens.family_id)`;
}

/**
 * Runs `consuming` (an UPDATE without RETURNING) and, iff it changed a row, inserts `row`
 * into refresh_tokens, atomically: a failed insert undoes the UPDATE. In `db`'s transaction
 * when it is one.
 */
export async function consumeThenInsert(
  db: Kysely<Database>,
  engine: Engine,
  consuming: RawBuilder<unknown>,
  row: RefreshToken,
): Promise<boolean> {
  if (engine === 'postgres') {
    // One statement, one round trip: the row is selected from what the UPDATE returned, so
    // it exists iff a row was consumed. Each value is cast to its column's type: a bare
    // parameter in a SELECT list is typed text, NULLs included.
    const res = await sql`
      WITH consumed AS (${consuming} RETURNING 1)
      INSERT INTO refresh_tokens (${COLUMNS})
      SELECT ${columnValues(row, true)} FROM consumed`.execute(db);
    return res.numAffectedRows === 1n;
  }
  const both = async (trx: Kysely<Database>) => {
    const res = await consuming.execute(trx);
    if (res.numAffectedRows === 0n) return false;
    await insertion(row).execute(trx);
    return true;
  };
  return db.isTransaction ? both(db) : db.transaction().execute(both);
}

export async function rotateRefreshToken(
  db: Kysely<Database>,
  engine: Engine,
  tokenHash: string,
  now: number,
  successor?: RefreshToken,
): Promise<boolean> {
  if (successor === undefined) {
    const res = await rotation(tokenHash, now).execute(db);
    return res.numAffectedRows === 1n;
  }
  return consumeThenInsert(db, engine, rotation(tokenHash, now), successor);
}

/**
 * Revokes the unused successor of a parent rotated since `rotatedSince` and not revoked: the
 * grace window is counted from the parent's one rotation, so retries never extend it.
 */
const reclamation = (parentId: string, rotatedSince: number, now: number) =>
  sql`UPDATE refresh_tokens SET revoked_at = ${now}
    WHERE parent_id = ${parentId} AND rotated_at IS NULL AND revoked_at IS NULL
      AND EXISTS (
        SELECT parent.id FROM refresh_tokens AS parent
        WHERE parent.id = ${parentId} AND parent.rotated_at >= ${rotatedSince}
          AND parent.revoked_at IS NULL)`;

export async function replaceUnusedSuccessor(
  db: Kysely<Database>,
  engine: Engine,
  parentId: string,
  rotatedSince: number,
  now: number,
  successor: RefreshToken,
): Promise<boolean> {
  return consumeThenInsert(db, engine, reclamation(parentId, rotatedSince, now), successor);
}

export async function listSessionRefreshFamilies(
  db: Kysely<Database>,
  sid: string,
): Promise<{ familyId: string; clientId: string; expiresAt: number; scope: string }[]> {
  // Every member of a family carries the family's client, expiry and scope.
  const rows = await db
    .selectFrom('refresh_tokens')
    .select(['family_id', 'client_id', 'expires_at', 'scope'])
    .distinct()
    .where('sid', '=', sid)
    .where('revoked_at', 'is', null)
    .orderBy('family_id')
    .execute();
  return rows.map((r) => ({
    familyId: r.family_id,
    clientId: r.client_id,
    expiresAt: r.expires_at,
    scope: r.scope,
  }));
}

export async function listUserRefreshFamilies(
  db: Kysely<Database>,
  userId: string,
  clientId: string,
): Promise<{ familyId: string; expiresAt: number }[]> {
  const rows = await db
    .selectFrom('refresh_tokens')
    .select(['family_id', 'expires_at'])
    .distinct()
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .orderBy('family_id')
    .execute();
  return rows.map((r) => ({ familyId: r.family_id, expiresAt: r.expires_at }));
}

export async function revokeRefreshFamily(
  db: Kysely<Database>,
  familyId: string,
  now: number,
  grantExpiresAt: number,
): Promise<void> {
  // Grant first: from this instant every access token of the family is refused, even if the
  // second statement is interrupted.
  await revokeGrant(db, familyId, now, grantExpiresAt);
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}

/**
 * Store.redeemRefreshToken: rotation, else grace retry, else reuse. Each step is a conditional
 * statement that sees what a concurrent redemption has committed, however long ago the token
 * was read, and each is atomic with the row it stores. They are not wrapped in one transaction
 * because none needs it: a token once used never becomes live again, so a step that failed
 * stays failed, and the family revocation is idempotent. Wrapped, the transaction would keep
 * the presented row locked (on PostgreSQL a conditional UPDATE that waited for a row and then
 * found it changed still holds its lock) while it went for the family's other rows and its
 * grant, which a concurrent redemption in the same family may hold the other way round: one
 * of the two is then aborted as a deadlock (PostgreSQL did, with 20 concurrent redemptions of
 * one token in the store contract tests).
 */
export async function redeemRefreshToken(
  db: Kysely<Database>,
  engine: Engine,
  presented: RefreshToken,
  successor: RefreshToken,
  now: number,
  options: { readonly graceSince: number | null; readonly grantExpiresAt: number },
): Promise<RefreshRedemption> {
  if (await rotateRefreshToken(db, engine, presented.tokenHash, now, successor)) return 'rotated';
  const { graceSince } = options;
  if (
    graceSince !== null &&
    (await replaceUnusedSuccessor(db, engine, presented.id, graceSince, now, successor))
  )
    return 'replaced';
  await revokeRefreshFamily(db, presented.familyId, now, options.grantExpiresAt);
  return 'reused';
}
