import type { Kysely, Selectable } from 'kysely';
import type { Telemetry, Tenant } from '../../store.js';
import { NotFoundError } from '../../store.js';
import type { Database, TenantsTable } from '../schema.js';
import { mapConstraintErrors, unstorable } from './errors.js';

function toTenant(row: Selectable<TenantsTable>): Tenant {
  return {
    id: row.id,
    name: row.name,
    domain: row.domain,
    appUrl: row.app_url,
    supportEmail: row.support_email,
    createdAt: row.created_at,
  };
}

export async function createTenant(db: Kysely<Database>, t: Tenant): Promise<void> {
  await mapConstraintErrors(`tenant ${t.id} (or domain ${t.domain ?? '-'})`, () =>
    db
      .insertInto('tenants')
      .values({
        id: t.id,
        name: t.name,
        domain: t.domain,
        app_url: t.appUrl,
        support_email: t.supportEmail,
        created_at: t.createdAt,
      })
      .execute(),
  );
}

export async function updateTenant(
  db: Kysely<Database>,
  id: string,
  patch: Partial<Omit<Tenant, 'id' | 'createdAt'>>,
): Promise<Tenant> {
  const values = {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.domain !== undefined && { domain: patch.domain }),
    ...(patch.appUrl !== undefined && { app_url: patch.appUrl }),
    ...(patch.supportEmail !== undefined && { support_email: patch.supportEmail }),
  };
  if (Object.keys(values).length > 0) {
    await mapConstraintErrors(`domain ${patch.domain ?? ''}`, () =>
      db.updateTable('tenants').set(values).where('id', '=', id).execute(),
    );
  }
  const tenant = await getTenant(db, id);
  if (!tenant) throw new NotFoundError(`tenant ${id} not found`);
  return tenant;
}

export async function getTenant(db: Kysely<Database>, id: string): Promise<Tenant | undefined> {
  if (unstorable(id)) return undefined;
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toTenant(row);
}

export async function findTenant(
  db: Kysely<Database>,
  idOrDomain: string,
): Promise<Tenant | undefined> {
  if (unstorable(idOrDomain)) return undefined;
  return (
    (await getTenant(db, idOrDomain)) ??
    (await db
      .selectFrom('tenants')
      .selectAll()
      .where('domain', '=', idOrDomain.toLowerCase())
      .executeTakeFirst()
      .then((row) => row && toTenant(row)))
  );
}

export async function listTenants(db: Kysely<Database>): Promise<Tenant[]> {
  const rows = await db.selectFrom('tenants').selectAll().orderBy('id').execute();
  return rows.map(toTenant);
}

export async function setTelemetry(
  db: Kysely<Database>,
  tenantId: string,
  e: Telemetry,
): Promise<void> {
  await mapConstraintErrors(`telemetry for tenant ${tenantId}`, () =>
    db
      .insertInto('tenant_telemetry')
      .values({ tenant_id: tenantId, name: e.name, type: e.type, value: e.value, units: e.units })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'name'])
          .doUpdateSet({ type: e.type, value: e.value, units: e.units }),
      )
      .execute(),
  );
}

export async function listTelemetry(db: Kysely<Database>, tenantId: string): Promise<Telemetry[]> {
  return db
    .selectFrom('tenant_telemetry')
    .select(['type', 'name', 'value', 'units'])
    .where('tenant_id', '=', tenantId)
    .orderBy('name')
    .execute();
}
