import type { Kysely, Selectable } from 'kysely';
import type { User } from '../../store.js';
import { NotFoundError } from '../../store.js';
import type { Database, UsersTable } from '../schema.js';
import { mapConstraintErrors, unstorable } from './errors.js';

async function withTenants(db: Kysely<Database>, rows: Selectable<UsersTable>[]): Promise<User[]> {
  if (rows.length === 0) return [];
  const memberships = await db
    .selectFrom('memberships')
    .select(['user_id', 'tenant_id'])
    .where(
      'user_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('tenant_id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    name: r.name,
    passwordHash: r.password_hash,
    disabledAt: r.disabled_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    emailVerified: r.email_verified === 1,
    tenants: memberships.filter((m) => m.user_id === r.id).map((m) => m.tenant_id),
  }));
}

export async function createUser(
  db: Kysely<Database>,
  u: Omit<User, 'tenants'>,
  tenantIds: readonly string[],
): Promise<void> {
  await mapConstraintErrors(`user ${u.email}`, () =>
    db.transaction().execute(async (trx) => {
      await trx
        .insertInto('users')
        .values({
          id: u.id,
          email: u.email,
          name: u.name,
          password_hash: u.passwordHash,
          disabled_at: u.disabledAt,
          created_at: u.createdAt,
          updated_at: u.updatedAt,
          email_verified: u.emailVerified ? 1 : 0,
        })
        .execute();
      if (tenantIds.length > 0) {
        await trx
          .insertInto('memberships')
          .values([...new Set(tenantIds)].map((tenant_id) => ({ user_id: u.id, tenant_id })))
          .execute();
      }
    }),
  );
}

export async function getUserByEmail(
  db: Kysely<Database>,
  email: string,
): Promise<User | undefined> {
  if (unstorable(email)) return undefined;
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email.toLowerCase())
    .execute();
  return (await withTenants(db, rows))[0];
}

export async function getUser(db: Kysely<Database>, id: string): Promise<User | undefined> {
  if (unstorable(id)) return undefined;
  const rows = await db.selectFrom('users').selectAll().where('id', '=', id).execute();
  return (await withTenants(db, rows))[0];
}

export async function listUsers(db: Kysely<Database>): Promise<User[]> {
  return withTenants(db, await db.selectFrom('users').selectAll().orderBy('email').execute());
}

async function updateByEmail(
  db: Kysely<Database>,
  email: string,
  values: Partial<Pick<UsersTable, 'password_hash' | 'disabled_at'>>,
): Promise<User> {
  const result = await db
    .updateTable('users')
    .set(values)
    .where('email', '=', email.toLowerCase())
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new NotFoundError(`user ${email} not found`);
  return (await getUserByEmail(db, email)) as User;
}

export function setUserPassword(
  db: Kysely<Database>,
  email: string,
  passwordHash: string,
): Promise<User> {
  return updateByEmail(db, email, { password_hash: passwordHash });
}

/** Disables the user and voids the user's account links, in one transaction. */
export function disableUser(db: Kysely<Database>, email: string, at: number): Promise<User> {
  return db.transaction().execute(async (trx) => {
    const user = await updateByEmail(trx, email, { disabled_at: at });
    await trx.deleteFrom('account_links').where('user_id', '=', user.id).execute();
    return user;
  });
}
