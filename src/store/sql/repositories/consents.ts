import type { Kysely, Selectable } from 'kysely';
import type { Consent } from '../../store.js';
import type { ConsentsTable, Database } from '../schema.js';

function toConsent(r: Selectable<ConsentsTable>): Consent {
  return {
    userId: r.user_id,
    clientId: r.client_id,
    scopes: r.scope === '' ? [] : r.scope.split(' '),
    grantedAt: r.granted_at,
  };
}

export async function getConsent(
  db: Kysely<Database>,
  userId: string,
  clientId: string,
): Promise<Consent | undefined> {
  const row = await db
    .selectFrom('consents')
    .selectAll()
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return row && toConsent(row);
}

export async function putConsent(db: Kysely<Database>, c: Consent): Promise<void> {
  const values = { scope: c.scopes.join(' '), granted_at: c.grantedAt };
  await db
    .insertInto('consents')
    .values({ user_id: c.userId, client_id: c.clientId, ...values })
    .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet(values))
    .execute();
}

export async function listConsents(db: Kysely<Database>, userId: string): Promise<Consent[]> {
  const rows = await db
    .selectFrom('consents')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('client_id')
    .execute();
  return rows.map(toConsent);
}

export async function deleteConsent(
  db: Kysely<Database>,
  userId: string,
  clientId: string,
): Promise<boolean> {
  const res = await db
    .deleteFrom('consents')
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  return res.numDeletedRows > 0n;
}
