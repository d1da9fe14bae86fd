import type { Kysely } from 'kysely';
import type { Session } from '../../store.js';
import type { Database } from '../schema.js';

export async function createSession(db: Kysely<Database>, s: Session): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id_hash: s.idHash,
      user_id: s.userId,
      subject: s.subject,
      tenant_id: s.tenantId,
      created_at: s.createdAt,
      expires_at: s.expiresAt,
      revoked_at: null,
    })
    .execute();
}

export async function findSession(
  db: Kysely<Database>,
  idHash: string,
  now: number,
): Promise<Session | undefined> {
  const r = await db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return (
    r && {
      idHash: r.id_hash,
      userId: r.user_id,
      subject: r.subject,
      tenantId: r.tenant_id,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }
  );
}

export async function recordLaunchToken(
  db: Kysely<Database>,
  tokenHash: string,
  expiresAt: number,
): Promise<boolean> {
  const res = await db
    .insertInto('launch_tokens')
    .values({ token_hash: tokenHash, expires_at: expiresAt })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .executeTakeFirst();
  return (res.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
