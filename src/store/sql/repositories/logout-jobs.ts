import type { Kysely, Transaction } from 'kysely';
import type { IdTokenRecipient, LogoutJob } from '../../store.js';
import type { Database } from '../schema.js';
import { timeOrderedId } from '../../uuid.js';

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
  return db.transaction().execute(async (trx) => {
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
  });
}

/**
 * Claims up to `limit` due jobs for `leaseSeconds`. Each claim is a conditional UPDATE that
 * only succeeds while the job is unclaimed or its lease has lapsed, so two nodes reading the
 * same due job never both own it.
 */
export async function claimLogoutJobs(
  db: Kysely<Database>,
  now: number,
  leaseSeconds: number,
  limit: number,
): Promise<LogoutJob[]> {
  const due = await db
    .selectFrom('logout_jobs')
    .select('id')
    .where('due_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy('due_at')
    .limit(limit)
    .execute();
  const claimed: LogoutJob[] = [];
  for (const { id } of due) {
    const r = await db
      .updateTable('logout_jobs')
      .set((eb) => ({ lease_until: now + leaseSeconds, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .returningAll()
      .executeTakeFirst();
    if (r) {
      claimed.push({
        id: r.id,
        clientId: r.client_id,
        subject: r.subject,
        sid: r.sid,
        queuedAt: r.queued_at,
        attempts: r.attempts,
        leaseUntil: now + leaseSeconds,
      });
    }
  }
  return claimed;
}

/** Ends a job this claim still holds (delivered, refused or given up). */
export async function finishLogoutJob(db: Kysely<Database>, job: LogoutJob): Promise<void> {
  await db
    .deleteFrom('logout_jobs')
    .where('id', '=', job.id)
    .where('lease_until', '=', job.leaseUntil)
    .execute();
}

/** Releases a job this claim still holds, to be tried again at `dueAt`. */
export async function retryLogoutJob(
  db: Kysely<Database>,
  job: LogoutJob,
  dueAt: number,
): Promise<void> {
  await db
    .updateTable('logout_jobs')
    .set({ due_at: dueAt, lease_until: null })
    .where('id', '=', job.id)
    .where('lease_until', '=', job.leaseUntil)
    .execute();
}
