import type { Kysely } from 'kysely';
import type { AccountLink, AccountLinkPurpose, MailJob, User } from '../../store.js';
import type { Database } from '../schema.js';
import { claimDue } from './job-queue.js';
import { endUserSessionsIn } from './logout-jobs.js';
import { unstorable } from './errors.js';
import { getUser } from './users.js';

export async function queueMail(
  db: Kysely<Database>,
  job: Omit<MailJob, 'attempts' | 'leaseUntil'>,
): Promise<void> {
  await db
    .insertInto('mail_outbox')
    .values({
      id: job.id,
      purpose: job.purpose,
      user_id: job.userId,
      address: job.address,
      queued_at: job.queuedAt,
      due_at: job.queuedAt,
      attempts: 0,
      lease_until: null,
    })
    .execute();
}

export async function claimMailJobs(
  db: Kysely<Database>,
  now: number,
  leaseSeconds: number,
  limit: number,
): Promise<MailJob[]> {
  const rows = await claimDue(db, 'mail_outbox', now, leaseSeconds, limit);
  return rows.map((r) => ({
    id: r.id,
    purpose: r.purpose as AccountLinkPurpose,
    userId: r.user_id,
    address: r.address,
    queuedAt: r.queued_at,
    attempts: r.attempts,
    leaseUntil: r.leaseUntil,
  }));
}

/** Stores the link and deletes the user's other links, in one transaction. */
export function createAccountLink(db: Kysely<Database>, link: AccountLink): Promise<void> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('account_links').where('user_id', '=', link.userId).execute();
    await trx
      .insertInto('account_links')
      .values({
        token_hash: link.tokenHash,
        user_id: link.userId,
        purpose: link.purpose,
        created_at: link.createdAt,
        expires_at: link.expiresAt,
      })
      .execute();
  });
}

export async function findAccountLink(
  db: Kysely<Database>,
  tokenHash: string,
  purpose: AccountLinkPurpose,
  now: number,
): Promise<AccountLink | undefined> {
  if (unstorable(tokenHash)) return undefined;
  const row = await db
    .selectFrom('account_links')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('purpose', '=', purpose)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return (
    row && {
      tokenHash: row.token_hash,
      userId: row.user_id,
      purpose: row.purpose as AccountLinkPurpose,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    }
  );
}

/**
 * Uses the link, in one transaction: the DELETE of the live link decides (of concurrent
 * callers exactly one deletes it); then the user's other links go, the password is set, the
 * address is marked verified, and every session of the user ends with its refresh tokens
 * (logout jobs queued). Undefined when the link is not live, or its user was disabled (the
 * link is used up then all the same: `user disable` voids links).
 */
export function redeemAccountLink(
  db: Kysely<Database>,
  tokenHash: string,
  purpose: AccountLinkPurpose,
  passwordHash: string,
  now: number,
): Promise<User | undefined> {
  if (unstorable(tokenHash)) return Promise.resolve(undefined);
  return db.transaction().execute(async (trx) => {
    const link = await trx
      .deleteFrom('account_links')
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('expires_at', '>', now)
      .returning('user_id')
      .executeTakeFirst();
    if (!link) return undefined;
    const updated = await trx
      .updateTable('users')
      .set({ password_hash: passwordHash, email_verified: 1 })
      .where('id', '=', link.user_id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return undefined;
    await trx.deleteFrom('account_links').where('user_id', '=', link.user_id).execute();
    await endUserSessionsIn(trx, link.user_id, now);
    return getUser(trx, link.user_id);
  });
}
