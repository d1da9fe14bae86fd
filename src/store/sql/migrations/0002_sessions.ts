import type { Kysely } from 'kysely';

// Login sessions (browser cookie → row, by keyed hash) and the Cisco Spaces launch tokens
// already accepted (replay refusal). Additive: old nodes never read these tables.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('launch_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('launch_tokens_expires_idx')
    .on('launch_tokens')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('launch_tokens').ifExists().execute();
  await db.schema.dropTable('sessions').ifExists().execute();
}
