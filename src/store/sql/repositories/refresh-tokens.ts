import { type Kysely, sql } from 'kysely';
import type { RefreshToken } from '../../store.js';
import type { Database } from '../schema.js';
import { revokeGrant } from './revocations.js';

function refreshTokenRow(t: RefreshToken) {
  return {
    id: t.id,
    token_hash: t.tokenHash,
    family_id: t.familyId,
    parent_id: t.parentId,
    client_id: t.clientId,
    user_id: t.userId,
    tenant_id: t.tenantId,
    scope: t.scope,
    audience: t.audience,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    idle_expires_at: t.idleExpiresAt,
    rotated_at: t.rotatedAt,
    revoked_at: t.revokedAt,
  };
}

export async function insertRefreshToken(db: Kysely<Database>, t: RefreshToken): Promise<void> {
  await db.insertInto('refresh_tokens').values(refreshTokenRow(t)).execute();
}

export async function findRefreshToken(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<RefreshToken | undefined> {
  // A revoked grant (e.g. its authorization code was replayed) revokes the token even when
  // the token row was written after the revocation, so the grant's time is reported too.
  const r = await db
    .selectFrom('refresh_tokens')
    .leftJoin('revoked_grants', 'revoked_grants.grant_id', 'refresh_tokens.family_id')
    .selectAll('refresh_tokens')
    .select('revoked_grants.revoked_at as grant_revoked_at')
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
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
    }
  );
}

/** The conditional UPDATE that consumes a live token (see Store.rotateRefreshToken). */
function rotation(db: Kysely<Database>, tokenHash: string, now: number) {
  return db
    .updateTable('refresh_tokens')
    .set({ rotated_at: now })
    .where('token_hash', '=', tokenHash)
    .where('rotated_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('idle_expires_at', '>', now)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('revoked_grants')
            .select('grant_id')
            .whereRef('grant_id', '=', 'refresh_tokens.family_id'),
        ),
      ),
    );
}

export async function rotateRefreshToken(
  db: Kysely<Database>,
  engine: 'sqlite' | 'postgres',
  tokenHash: string,
  now: number,
  successor?: RefreshToken,
): Promise<boolean> {
  if (successor === undefined) {
    const res = await rotation(db, tokenHash, now).executeTakeFirst();
    return res.numUpdatedRows === 1n;
  }
  if (engine === 'postgres') {
    // One statement, one round trip: the successor row is selected from what the UPDATE
    // returned, so it exists iff the presented token was consumed. Each value is cast to its
    // column's type (the `*_at` columns are BIGINT, the rest TEXT): a bare parameter in a
    // SELECT list is typed text, NULLs included.
    const row = refreshTokenRow(successor);
    const res = await db
      .with('rotated', () => rotation(db, tokenHash, now).returning('refresh_tokens.id'))
      .insertInto('refresh_tokens')
      .columns(Object.keys(row) as (keyof typeof row)[])
      .expression(
        sql`SELECT ${sql.join(
          Object.entries(row).map(
            ([k, v]) => sql`CAST(${v} AS ${sql.raw(k.endsWith('_at') ? 'bigint' : 'text')})`,
          ),
        )} FROM rotated`,
      )
      .executeTakeFirst();
    return res.numInsertedOrUpdatedRows === 1n;
  }
  return db.transaction().execute(async (trx) => {
    const res = await rotation(trx, tokenHash, now).executeTakeFirst();
    if (res.numUpdatedRows !== 1n) return false;
    await insertRefreshToken(trx, successor);
    return true;
  });
}

export async function reclaimUnusedSuccessor(
  db: Kysely<Database>,
  parentId: string,
  now: number,
): Promise<boolean> {
  const res = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('parent_id', '=', parentId)
    .where('rotated_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
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
