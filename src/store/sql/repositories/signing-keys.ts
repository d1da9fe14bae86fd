import { type Kysely, sql } from 'kysely';
import type { SigningKey } from '../../store.js';
import type { Database } from '../schema.js';

export async function insertSigningKey(db: Kysely<Database>, k: SigningKey): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: k.kid,
      alg: k.alg,
      public_jwk: k.publicJwk,
      private_key: k.privateKey,
      created_at: k.createdAt,
      activates_at: k.activatesAt,
      publish_until: k.publishUntil,
      purpose: k.purpose,
    })
    .execute();
}

export async function listSigningKeys(db: Kysely<Database>): Promise<SigningKey[]> {
  const rows = await db
    .selectFrom('signing_keys')
    .selectAll()
    .orderBy('activates_at')
    .orderBy('created_at')
    // Ties (the same second): a retired key before the key that retired it, then by kid, so
    // every engine and every node lists, and so picks the signer, in the same order.
    .orderBy(sql`case when publish_until is null then 1 else 0 end`)
    .orderBy('kid')
    .execute();
  return rows.map((r) => ({
    kid: r.kid,
    alg: r.alg,
    publicJwk: r.public_jwk,
    privateKey: r.private_key,
    createdAt: r.created_at,
    activatesAt: r.activates_at,
    publishUntil: r.publish_until,
    purpose: r.purpose === 'id-token' ? 'id-token' : 'access',
  }));
}

export async function retireSigningKeys(
  db: Kysely<Database>,
  successorKid: string,
  successorActivatesAt: number,
  publishUntil: number,
): Promise<void> {
  await db
    .updateTable('signing_keys')
    .set({ publish_until: publishUntil })
    .where('kid', '!=', successorKid)
    .where('activates_at', '<=', successorActivatesAt)
    .where('publish_until', 'is', null)
    .execute();
}
