import type { Kysely, Transaction } from 'kysely';
import type { IdTokenRecipient, LogoutJob } from '../../store.js';
import type { Database } from '../schema.js';
import { timeOrderedId } from '../../uuid.js';
import { claimDue } from './job-queue.js';

export async function recordIdTokenRecipient(
  db: Kysely<Database>,
  r: IdTokenRecipient,
): Promise<void> {
  await db
    .insertInto('id_token_recipients')
    .values({ sid: r.sid, client_id: r.clientId, subject: r.subject, expires_at: r.expiresAt })
    .onConflict((oc) => oc.columns(['sid', 'client_id']).doNothing())
    .execute();
}

/**
 * Queues a logout job for every recipient matched by `column = value` whose client has a
 * back-channel logout URI, and forgets those recipients: a session is logged out once.
 */
async function queueLogoutJobs(
  trx: Transaction<Database>,
  column: 'sid' | 'subject',
  value: string,
  now: number,
): Promise<void> {
  const recipients = await trx
    .selectFrom('id_token_recipients as r')
    .innerJoin('clients as c', 'c.id', 'r.client_id')
    .select(['r.sid', 'r.client_id', 'r.subject'])
    .where(`r.${column}`, '=', value)
    .where('c.backchannel_logout_uri', 'is not', null)
    .execute();
  if (recipients.length > 0) {
    await trx
      .insertInto('logout_jobs')
      .values(
        recipients.map((r) => ({
          id: timeOrderedId(),
          client_id: r.client_id,
          subject: r.subject,
          sid: r.sid,
          queued_at: now,
          due_at: now,
          attempts: 0,
          lease_until: null,
        })),
      )
      .execute();
  }
  await trx.deleteFrom('id_token_recipients').where(column, '=', value).execute();
}

export function endSession(
  db: Kysely<Database>,
  idHash: string,
  sid: string,
  now: number,
): Promise<void> {
  return db.transaction().execute(async (trx) => {
    await trx
      .updateTable('sessions')
      .set({ revoked_at: now })
      .where('id_hash', '=', idHash)
      .execute();
    await queueLogoutJobs(trx, 'sid', sid, now);
  });
}

export function endUserSessions(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  return db.transaction().execute((trx) => endUserSessionsIn(trx, userId, now));
}

/**
 * Ends every session of the user, revokes the user's refresh tokens and queues the logout
 * jobs, inside the caller's transaction (`user disable`, a password set through a link).
 */
export async function endUserSessionsIn(
  trx: Transaction<Database>,
  userId: string,
  now: number,
): Promise<void> {
  await trx
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
  await trx
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
  await queueLogoutJobs(trx, 'subject', userId, now);
}

/** Claims up to `limit` due jobs for `leaseSeconds` (job-queue.ts: a lease per job). */
export async function claimLogoutJobs(
  db: Kysely<Database>,
  now: number,
  leaseSeconds: number,
  limit: number,
): Promise<LogoutJob[]> {
  const rows = await claimDue(db, 'logout_jobs', now, leaseSeconds, limit);
  return rows.map((r) => ({
    id: r.id,
    clientId: r.client_id,
    subject: r.subject,
    sid: r.sid,
    queuedAt: r.queued_at,
    attempts: r.attempts,
    leaseUntil: r.leaseUntil,
  }));
}
