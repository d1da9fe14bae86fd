import type { Kysely } from 'kysely';

// Accounts (DESIGN §7):
// - mail_outbox: one account mail to send, holding only who (user_id, or null for a
//   forgot-password request as typed), why (purpose) and where (address). The sender makes the
//   link when it sends, so no raw link is ever stored. Claimed with a lease, as logout_jobs.
// - account_links: the keyed hash of each mailed or printed link's token, its user, purpose
//   and expiry. A user has at most one: a newer link, a completed reset or `user disable`
//   deletes the others.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').column('due_at').execute();
  await db.schema
    .createTable('account_links')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('account_links_user').on('account_links').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_links').execute();
  await db.schema.dropTable('mail_outbox').execute();
}
