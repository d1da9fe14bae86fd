import type { Kysely } from 'kysely';

// Branding of the pages per tenant or per client: product name, accent colour, support link
// and an uploaded logo (bytes as base64, with its sniffed content type).

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('branding')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('product_name', 'text')
    .addColumn('color', 'text')
    .addColumn('support_url', 'text')
    .addColumn('logo_type', 'text')
    .addColumn('logo_base64', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('branding_pk', ['kind', 'owner_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('branding').ifExists().execute();
}
