import type { Kysely } from 'kysely';

// Consent (DESIGN §6):
// - clients.consent: 1 for a client that must ask the user before signing them in (not
//   first-party); existing clients are first-party (0).
// - consents: the scopes a user allowed a client, one row per (user, client); a request for
//   scopes inside the row needs no prompt. Gone with the user or the client.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('consent', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('consents')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('granted_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('consents_pk', ['user_id', 'client_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('consents').execute();
  await db.schema.alterTable('clients').dropColumn('consent').execute();
}
