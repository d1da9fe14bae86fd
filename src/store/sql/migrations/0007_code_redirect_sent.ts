import type { Kysely } from 'kysely';

// Whether the authorization request carried redirect_uri, so the token endpoint asks for it
// only then (RFC 6749 §4.1.3). The default 1 keeps the old rule for rows an old node writes
// during a rolling upgrade, and for codes issued before it.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('authorization_codes')
    .addColumn('redirect_uri_sent', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('authorization_codes').dropColumn('redirect_uri_sent').execute();
}
