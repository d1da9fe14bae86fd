import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { Client, ClientPatch, GrantType, NewClient } from '../../store.js';
import { NotFoundError } from '../../store.js';
import type { ClientsTable, Database } from '../schema.js';
import { mapConstraintErrors, unstorable } from './errors.js';

async function withTenants(
  db: Kysely<Database>,
  rows: Selectable<ClientsTable>[],
): Promise<Client[]> {
  if (rows.length === 0) return [];
  const bindings = await db
    .selectFrom('client_tenants')
    .innerJoin('tenants', 'tenants.id', 'client_tenants.tenant_id')
    .select(['client_tenants.client_id', 'tenants.id', 'tenants.domain'])
    .where(
      'client_tenants.client_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('tenants.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    secretHash: r.secret_hash,
    previousSecretHash: r.previous_secret_hash,
    previousSecretExpiresAt: r.previous_secret_expires_at,
    dialect: r.dialect,
    grants: JSON.parse(r.grants) as GrantType[],
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    scopes: JSON.parse(r.scopes) as string[],
    tenants: bindings
      .filter((b) => b.client_id === r.id)
      .map((b) => ({ id: b.id, domain: b.domain })),
    audience: r.audience,
    accessTokenTtl: r.access_token_ttl,
    refreshTokenTtl: r.refresh_token_ttl,
    refreshGrace: r.refresh_grace,
    requirePkce: r.require_pkce === 1,
    idTokenAlg: r.id_token_alg,
    postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris) as string[],
    backchannelLogoutUri: r.backchannel_logout_uri,
    consent: r.consent === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

async function bindTenants(
  trx: Transaction<Database>,
  clientId: string,
  tenantIds: readonly string[],
): Promise<void> {
  if (tenantIds.length === 0) return;
  await trx
    .insertInto('client_tenants')
    .values([...new Set(tenantIds)].map((tenant_id) => ({ client_id: clientId, tenant_id })))
    .execute();
}

export async function createClient(db: Kysely<Database>, c: NewClient): Promise<void> {
  await mapConstraintErrors(`client ${c.id}`, () =>
    db.transaction().execute(async (trx) => {
      await trx
        .insertInto('clients')
        .values({
          id: c.id,
          name: c.name,
          secret_hash: c.secretHash,
          previous_secret_hash: null,
          previous_secret_expires_at: null,
          dialect: c.dialect,
          grants: JSON.stringify(c.grants),
          redirect_uris: JSON.stringify(c.redirectUris),
          scopes: JSON.stringify(c.scopes),
          audience: c.audience,
          access_token_ttl: c.accessTokenTtl,
          refresh_token_ttl: c.refreshTokenTtl,
          refresh_grace: c.refreshGrace,
          require_pkce: c.requirePkce ? 1 : 0,
          id_token_alg: c.idTokenAlg,
          post_logout_redirect_uris: JSON.stringify(c.postLogoutRedirectUris),
          backchannel_logout_uri: c.backchannelLogoutUri,
          consent: c.consent ? 1 : 0,
          created_at: c.createdAt,
          updated_at: c.updatedAt,
        })
        .execute();
      await bindTenants(trx, c.id, c.tenantIds);
    }),
  );
}

export async function updateClient(
  db: Kysely<Database>,
  id: string,
  p: ClientPatch,
): Promise<Client> {
  const values: Updateable<ClientsTable> = {
    updated_at: p.updatedAt,
    ...(p.name !== undefined && { name: p.name }),
    ...(p.dialect !== undefined && { dialect: p.dialect }),
    ...(p.grants !== undefined && { grants: JSON.stringify(p.grants) }),
    ...(p.redirectUris !== undefined && { redirect_uris: JSON.stringify(p.redirectUris) }),
    ...(p.scopes !== undefined && { scopes: JSON.stringify(p.scopes) }),
    ...(p.audience !== undefined && { audience: p.audience }),
    ...(p.accessTokenTtl !== undefined && { access_token_ttl: p.accessTokenTtl }),
    ...(p.refreshTokenTtl !== undefined && { refresh_token_ttl: p.refreshTokenTtl }),
    ...(p.refreshGrace !== undefined && { refresh_grace: p.refreshGrace }),
    ...(p.requirePkce !== undefined && { require_pkce: p.requirePkce ? 1 : 0 }),
    ...(p.idTokenAlg !== undefined && { id_token_alg: p.idTokenAlg }),
    ...(p.postLogoutRedirectUris !== undefined && {
      post_logout_redirect_uris: JSON.stringify(p.postLogoutRedirectUris),
    }),
    ...(p.backchannelLogoutUri !== undefined && {
      backchannel_logout_uri: p.backchannelLogoutUri,
    }),
    ...(p.consent !== undefined && { consent: p.consent ? 1 : 0 }),
  };
  await mapConstraintErrors(`client ${id}`, () =>
    db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('clients')
        .set(values)
        .where('id', '=', id)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) throw new NotFoundError(`client ${id} not found`);
      if (p.tenantIds !== undefined) {
        await trx.deleteFrom('client_tenants').where('client_id', '=', id).execute();
        await bindTenants(trx, id, p.tenantIds);
      }
    }),
  );
  return (await getClient(db, id)) as Client;
}

export async function getClient(db: Kysely<Database>, id: string): Promise<Client | undefined> {
  if (unstorable(id)) return undefined;
  const rows = await db.selectFrom('clients').selectAll().where('id', '=', id).execute();
  return (await withTenants(db, rows))[0];
}

export async function listClients(db: Kysely<Database>): Promise<Client[]> {
  return withTenants(db, await db.selectFrom('clients').selectAll().orderBy('id').execute());
}

export async function deleteClient(db: Kysely<Database>, id: string): Promise<boolean> {
  const res = await db.deleteFrom('clients').where('id', '=', id).executeTakeFirst();
  return res.numDeletedRows > 0n;
}

export async function rotateClientSecret(
  db: Kysely<Database>,
  id: string,
  secretHash: string,
  previousValidUntil: number | null,
  at: number,
): Promise<Client> {
  // One statement: the new previous secret is the current one as it is in the row, so two
  // concurrent rotations cannot leave a secret nobody holds as "previous".
  const res = await db
    .updateTable('clients')
    .set((eb) => ({
      previous_secret_hash: previousValidUntil === null ? null : eb.ref('secret_hash'),
      previous_secret_expires_at: previousValidUntil,
      secret_hash: secretHash,
      updated_at: at,
    }))
    .where('id', '=', id)
    .executeTakeFirst();
  if (res.numUpdatedRows === 0n) throw new NotFoundError(`client ${id} not found`);
  return (await getClient(db, id)) as Client;
}
