import { type Kysely, sql } from 'kysely';

// OpenID Connect (DESIGN §6):
// - clients.id_token_alg: the algorithm of the client's ID Tokens (default RS256).
// - signing_keys.purpose: `access` for the keys rotation makes (they sign access tokens, and
//   ID Tokens of their algorithm); `id-token` for a key made only because a client's
//   `id_token_alg` had none, which never signs access tokens. Existing keys are `access`.
// - authorization_codes.nonce / auth_time / sid and refresh_tokens.auth_time / sid: what an
//   ID Token needs from the authorization (Core §3.1.3.6, §12.2: a refreshed ID Token keeps
//   the original auth_time), and the session whose end revokes the refresh families issued
//   in it without offline_access (indexed). Null for codes and tokens from before.
// - users.updated_at / email_verified: the `profile` and `email` claims. updated_at starts at
//   created_at; email_verified starts false (no flow verifies an address yet: DESIGN §7).

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('clients')
    .addColumn('id_token_alg', 'text', (c) => c.notNull().defaultTo('RS256'))
    .execute();
  await db.schema
    .alterTable('signing_keys')
    .addColumn('purpose', 'text', (c) => c.notNull().defaultTo('access'))
    .execute();
  for (const column of ['nonce', 'sid'] as const) {
    await db.schema.alterTable('authorization_codes').addColumn(column, 'text').execute();
  }
  await db.schema.alterTable('authorization_codes').addColumn('auth_time', 'bigint').execute();
  await db.schema.alterTable('refresh_tokens').addColumn('auth_time', 'bigint').execute();
  await db.schema.alterTable('refresh_tokens').addColumn('sid', 'text').execute();
  // Ending a session finds the refresh families issued in it.
  await db.schema
    .createIndex('refresh_tokens_sid_idx')
    .on('refresh_tokens')
    .column('sid')
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('updated_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`UPDATE users SET updated_at = created_at`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('email_verified').execute();
  await db.schema.alterTable('users').dropColumn('updated_at').execute();
  await db.schema.dropIndex('refresh_tokens_sid_idx').execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('sid').execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('auth_time').execute();
  for (const column of ['auth_time', 'sid', 'nonce'] as const) {
    await db.schema.alterTable('authorization_codes').dropColumn(column).execute();
  }
  await db.schema.alterTable('signing_keys').dropColumn('purpose').execute();
  await db.schema.alterTable('clients').dropColumn('id_token_alg').execute();
}
