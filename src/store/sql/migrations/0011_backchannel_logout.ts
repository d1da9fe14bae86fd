import type { Kysely } from 'kysely';

// Back-Channel Logout 1.0 (DESIGN §6):
// - id_token_recipients: the clients that received an ID Token in a login session (by the
//   session's `sid`), recorded when the ID Token is issued; read when the session ends.
//   expires_at bounds the session's life (issue time + sessionTtl), for the sweep.
// - logout_jobs: one logout token to deliver to one client. Queued in the transaction that
//   ends the session; a worker on any node claims a due job by setting lease_until with a
//   conditional UPDATE, so a crashed node's claim lapses and another node retries it.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('id_token_recipients')
    .addColumn('sid', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('id_token_recipients_pk', ['sid', 'client_id'])
    .execute();
  await db.schema
    .createIndex('id_token_recipients_subject')
    .on('id_token_recipients')
    .column('subject')
    .execute();
  await db.schema
    .createTable('logout_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('sid', 'text', (c) => c.notNull())
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('lease_until', 'bigint')
    .execute();
  await db.schema.createIndex('logout_jobs_due').on('logout_jobs').column('due_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('logout_jobs').execute();
  await db.schema.dropTable('id_token_recipients').execute();
}
