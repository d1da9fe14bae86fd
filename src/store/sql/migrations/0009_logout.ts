import type { Kysely } from 'kysely';

// OpenID Connect logout (DESIGN §6):
// - clients.post_logout_redirect_uris: JSON array, exact-match targets of RP-Initiated
//   Logout (like redirect_uris); existing clients start with none.
// - clients.backchannel_logout_uri: where Back-Channel Logout POSTs logout tokens; null: none.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.alterTable('clients').addColumn('backchannel_logout_uri', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('backchannel_logout_uri').execute();
  await db.schema.alterTable('clients').dropColumn('post_logout_redirect_uris').execute();
}
