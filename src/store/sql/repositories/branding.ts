import type { Kysely } from 'kysely';
import type { BrandKind, Branding } from '../../store.js';
import type { Database } from '../schema.js';

export async function getBranding(
  db: Kysely<Database>,
  kind: BrandKind,
  ownerId: string,
): Promise<Branding | undefined> {
  const row = await db
    .selectFrom('branding')
    .selectAll()
    .where('kind', '=', kind)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    kind,
    ownerId: row.owner_id,
    productName: row.product_name,
    color: row.color,
    supportUrl: row.support_url,
    logoType: row.logo_type,
    logoBase64: row.logo_base64,
    updatedAt: Number(row.updated_at),
  };
}

export async function putBranding(db: Kysely<Database>, b: Branding): Promise<void> {
  const values = {
    product_name: b.productName,
    color: b.color,
    support_url: b.supportUrl,
    logo_type: b.logoType,
    logo_base64: b.logoBase64,
    updated_at: b.updatedAt,
  };
  await db
    .insertInto('branding')
    .values({ kind: b.kind, owner_id: b.ownerId, ...values })
    .onConflict((oc) => oc.columns(['kind', 'owner_id']).doUpdateSet(values))
    .execute();
}

export async function deleteBranding(
  db: Kysely<Database>,
  kind: BrandKind,
  ownerId: string,
): Promise<void> {
  await db
    .deleteFrom('branding')
    .where('kind', '=', kind)
    .where('owner_id', '=', ownerId)
    .execute();
}
