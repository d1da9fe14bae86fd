import type { Kysely } from 'kysely';

// Failure counters for throttling (failed client authentication and logins), shared by
// every node. Written only on failures; a successful request never touches them.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('throttle_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('throttle_counters_window_idx')
    .on('throttle_counters')
    .column('window_start')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('throttle_counters').ifExists().execute();
}
