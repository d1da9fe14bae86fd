import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.js';

/**
 * The queues that workers on any node drain (Back-Channel Logout's and the account mail's):
 * rows with `id`, `due_at`, `attempts` and a `lease_until` claim.
 */
export type QueueTable = 'logout_jobs' | 'mail_outbox';

/** A claimed row: `leaseUntil` is the claim that finishing or retrying must still hold. */
export type Claimed<T extends QueueTable> = Selectable<Database[T]> & {
  readonly leaseUntil: number;
};

/**
 * Claims up to `limit` due rows for `leaseSeconds`. Each claim is a conditional UPDATE that
 * only succeeds while the row is unclaimed or its lease has lapsed, so two nodes reading the
 * same due row never both own it.
 */
export async function claimDue<T extends QueueTable>(
  db: Kysely<Database>,
  table: T,
  now: number,
  leaseSeconds: number,
  limit: number,
): Promise<Claimed<T>[]> {
  // Both tables have the queue's columns; Kysely cannot see that through a type parameter.
  const queue = db as unknown as Kysely<Record<QueueTable, Database['logout_jobs']>>;
  const due = await queue
    .selectFrom(table as QueueTable)
    .select('id')
    .where('due_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy('due_at')
    .limit(limit)
    .execute();
  const claimed: Claimed<T>[] = [];
  for (const { id } of due) {
    const row = await queue
      .updateTable(table as QueueTable)
      .set((eb) => ({ lease_until: now + leaseSeconds, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .returningAll()
      .executeTakeFirst();
    if (row) claimed.push({ ...(row as Selectable<Database[T]>), leaseUntil: now + leaseSeconds });
  }
  return claimed;
}

/** Ends a row this claim still holds (done, refused or given up). */
export async function finishClaimed(
  db: Kysely<Database>,
  table: QueueTable,
  job: { readonly id: string; readonly leaseUntil: number },
): Promise<void> {
  await db
    .deleteFrom(table)
    .where('id', '=', job.id)
    .where('lease_until', '=', job.leaseUntil)
    .execute();
}

/** Releases a row this claim still holds, to be tried again at `dueAt`. */
export async function retryClaimed(
  db: Kysely<Database>,
  table: QueueTable,
  job: { readonly id: string; readonly leaseUntil: number },
  dueAt: number,
): Promise<void> {
  await db
    .updateTable(table)
    .set({ due_at: dueAt, lease_until: null })
    .where('id', '=', job.id)
    .where('lease_until', '=', job.leaseUntil)
    .execute();
}
