import { type Kysely, sql } from 'kysely';
import type { Database } from '../schema.js';

export async function revokeAccessToken(
  db: Kysely<Database>,
  jti: string,
  now: number,
  expiresAt: number,
): Promise<void> {
  await db
    .insertInto('revoked_tokens')
    .values({ jti, revoked_at: now, expires_at: expiresAt })
    .onConflict((oc) => oc.column('jti').doNothing())
    .execute();
}

export async function revokeGrant(
  db: Kysely<Database>,
  grantId: string,
  now: number,
  expiresAt: number,
): Promise<void> {
  await db
    .insertInto('revoked_grants')
    .values({ grant_id: grantId, revoked_at: now, expires_at: expiresAt })
    .onConflict((oc) =>
      // Keep the later expiry: a second revocation must not shorten how long it is remembered.
      // (CASE, not GREATEST/MAX, which differ between PostgreSQL and SQLite.)
      oc.column('grant_id').doUpdateSet((eb) => ({
        expires_at: eb
          .case()
          .when('excluded.expires_at', '>', eb.ref('revoked_grants.expires_at'))
          .then(eb.ref('excluded.expires_at'))
          .else(eb.ref('revoked_grants.expires_at'))
          .end(),
      })),
    )
    .execute();
}

/**
 * One statement for both checks, on every bearer request (userinfo, introspection): as SQL
 * text, not the query builder, which cost more to build and compile than SQLite takes to
 * answer (see refresh-tokens.ts). A NULL grant id matches nothing.
 */
export async function isAccessTokenRevoked(
  db: Kysely<Database>,
  jti: string,
  grantId: string | undefined,
): Promise<boolean> {
  const { rows } = await sql<{ revoked: number }>`
    SELECT (SELECT count(*) FROM revoked_tokens WHERE jti = ${jti})
      + (SELECT count(*) FROM revoked_grants WHERE grant_id = ${grantId ?? null}) AS revoked`.execute(
    db,
  );
  return Number(rows[0]?.revoked ?? 0) > 0;
}

export async function sweepExpired(db: Kysely<Database>, now: number): Promise<number> {
  // Plain conditional deletes: idempotent and safe when every node runs them at once.
  const results = await Promise.all([
    db.deleteFrom('authorization_codes').where('expires_at', '<', now).executeTakeFirst(),
    db.deleteFrom('refresh_tokens').where('expires_at', '<', now).executeTakeFirst(),
    db.deleteFrom('revoked_tokens').where('expires_at', '<', now).executeTakeFirst(),
    db.deleteFrom('revoked_grants').where('expires_at', '<', now).executeTakeFirst(),
    db.deleteFrom('sessions').where('expires_at', '<', now).executeTakeFirst(),
    db.deleteFrom('launch_tokens').where('expires_at', '<', now).executeTakeFirst(),
    db.deleteFrom('id_token_recipients').where('expires_at', '<', now).executeTakeFirst(),
    db.deleteFrom('account_links').where('expires_at', '<', now).executeTakeFirst(),
    // Throttle windows are far shorter than a day; a day-old counter is dead.
    db
      .deleteFrom('throttle_counters')
      .where('window_start', '<', now - 86400)
      .executeTakeFirst(),
  ]);
  return results.reduce((n, r) => n + Number(r.numDeletedRows), 0);
}
