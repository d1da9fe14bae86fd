/**
 * Bulk rows for growth checks: the EXPLAIN test (test/store.explain.test.ts) and the
 * benchmark's scaling rows (bench/run.ts) fill the same tables the same way.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../../src/store/sql/schema.js';

export type BulkEngine = 'sqlite' | 'postgres';

/** Tokens per family in filled rows: each one's parent is the one before it. */
export const FILL_FAMILY = 4;

/** Zero-padded to seven digits, so keys arrive in index order and sort like numbers. */
function pad(engine: BulkEngine, e: RawBuilder<unknown>): RawBuilder<unknown> {
  return engine === 'postgres' ? sql`lpad((${e})::text, 7, '0')` : sql`printf('%07d', ${e})`;
}

/** `INSERT INTO table columns SELECT values` over i = 0 … rows - 1 (values may use `i`). */
async function insertSeries(
  db: Kysely<Database>,
  engine: BulkEngine,
  into: RawBuilder<unknown>,
  values: RawBuilder<unknown>,
  rows: number,
): Promise<void> {
  if (engine === 'postgres') {
    await sql`INSERT INTO ${into} SELECT ${values} FROM generate_series(0, ${sql.lit(rows - 1)}) AS s(i)`.execute(
      db,
    );
    return;
  }
  await sql`PRAGMA cache_size = -262144`.execute(db); // 256 MiB, this connection only
  await sql`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${sql.lit(rows - 1)})
    INSERT INTO ${into} SELECT ${values} FROM s`.execute(db);
}

/**
 * PostgreSQL loads the way pg_restore does: the table's key constraints and indexes are
 * dropped, the rows inserted, and each is recreated from its own definition (same name, same
 * definition: checked), a third of the time of inserting through every index. SQLite cannot
 * drop the indexes behind its UNIQUE constraints; a larger page cache is enough there.
 */
async function withoutPostgresIndexes(
  db: Kysely<Database>,
  table: string,
  load: () => Promise<void>,
): Promise<void> {
  const definitions = async () => {
    const { rows: constraints } = await sql<{ name: string; def: string }>`
      SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = ${table}::regclass AND contype IN ('p', 'u') ORDER BY conname`.execute(db);
    const { rows: indexes } = await sql<{ name: string; def: string }>`
      SELECT indexname AS name, indexdef AS def FROM pg_indexes
      WHERE tablename = ${table} ORDER BY indexname`.execute(db);
    return { constraints, indexes };
  };
  const before = await definitions();
  const owned = new Set(before.constraints.map((c) => c.name));
  const plainIndexes = before.indexes.filter((x) => !owned.has(x.name));
  // Dropping a key another table referred to would fail here, loudly: none does today.
  for (const c of before.constraints)
    await sql`ALTER TABLE ${sql.id(table)} DROP CONSTRAINT ${sql.id(c.name)}`.execute(db);
  for (const x of plainIndexes) await sql`DROP INDEX ${sql.id(x.name)}`.execute(db);
  await load();
  for (const c of before.constraints)
    await sql`ALTER TABLE ${sql.id(table)} ADD CONSTRAINT ${sql.id(c.name)} ${sql.raw(c.def)}`.execute(
      db,
    );
  for (const x of plainIndexes) await sql.raw(x.def).execute(db);
  if (JSON.stringify(await definitions()) !== JSON.stringify(before))
    throw new Error(`${table}: constraints or indexes differ from the migrated ones after loading`);
}

async function count(db: Kysely<Database>, table: 'refresh_tokens' | 'clients'): Promise<number> {
  const counted = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(counted.n);
}

/** base64url's alphabet: the characters a real keyed hash (`v1$<base64url>`) is made of. */
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The token hash of filler row i: `v1$`, three characters of base64url picked by i, then
 * `-` and i. Real hashes are random, so a rotation's insert into the `token_hash` index lands
 * on a random page of it; filler hashes spread over the same key space (262,144 prefixes),
 * so a real hash lands between fillers as it would in a table of real rows, not beside one
 * block of them.
 */
export function fillerTokenHash(i: number): string {
  const c = (n: number) => BASE64URL.charAt(Math.floor(n) % 64);
  return `v1$${c(i)}${c(i / 64)}${c(i / 4096)}-${seven(i)}`;
}

/** The id of filler row i (`rt-0000042`), as fillRefreshTokens makes it. */
export function fillerId(i: number): string {
  return `rt-${seven(i)}`;
}

/** `pad` in TypeScript. */
function seven(i: number): string {
  return String(i).padStart(7, '0');
}

/**
 * Adds `rows` refresh tokens from one INSERT … SELECT over a generated series: ids
 * `rt-0000000…`, hashes `fillerTokenHash(i)`, families of FILL_FAMILY chained by parent_id
 * (all but each family's newest rotated), for 100 made-up client ids. Row i expires at
 * `firstExpiry + i`. Returns the table's row count afterwards.
 */
export async function fillRefreshTokens(
  db: Kysely<Database>,
  engine: BulkEngine,
  rows: number,
  firstExpiry: number,
): Promise<number> {
  const i = sql<number>`i`;
  const p = (e: RawBuilder<unknown>) => pad(engine, e);
  const into = sql`refresh_tokens (id, token_hash, family_id, parent_id, client_id, user_id,
    tenant_id, scope, audience, created_at, expires_at, idle_expires_at, rotated_at, revoked_at)`;
  // fillerTokenHash in SQL (integer division and substr read alike on both engines).
  const char = (n: RawBuilder<unknown>) => sql`substr(${sql.lit(BASE64URL)}, (${n}) % 64 + 1, 1)`;
  const hash = sql`'v1$' || ${char(i)} || ${char(sql`${i} / 64`)} || ${char(sql`${i} / 4096`)} || '-' || ${p(i)}`;
  const values = sql`'rt-' || ${p(i)}, ${hash}, 'fam-' || ${p(sql`${i} / ${sql.lit(FILL_FAMILY)}`)},
    CASE WHEN ${i} % ${sql.lit(FILL_FAMILY)} = 0 THEN NULL ELSE 'rt-' || ${p(sql`${i} - 1`)} END,
    'client-' || (${i} % 100), NULL, NULL, 'read', 'https://api.example', ${sql.lit(firstExpiry - 86_400)},
    ${sql.lit(firstExpiry)} + ${i}, ${sql.lit(firstExpiry)} + ${i},
    CASE WHEN ${i} % ${sql.lit(FILL_FAMILY)} = ${sql.lit(FILL_FAMILY - 1)} THEN NULL ELSE ${sql.lit(firstExpiry - 3600)} END,
    NULL`;
  const load = () => insertSeries(db, engine, into, values, rows);
  if (engine === 'postgres') await withoutPostgresIndexes(db, 'refresh_tokens', load);
  else await load();
  await sql`ANALYZE refresh_tokens`.execute(db);
  return count(db, 'refresh_tokens');
}

/**
 * Adds `rows` confidential client_credentials clients `bulk-0000000…` whose secret hashes
 * match no secret (they exist to be looked past). Returns the table's row count afterwards.
 */
export async function fillClients(
  db: Kysely<Database>,
  engine: BulkEngine,
  rows: number,
  createdAt: number,
): Promise<number> {
  const i = sql<number>`i`;
  const into = sql`clients (id, name, secret_hash, dialect, grants, redirect_uris, scopes,
    refresh_grace, require_pkce, created_at, updated_at)`;
  const values = sql`'bulk-' || ${pad(engine, i)}, 'bulk client', 'v1$none-' || ${pad(engine, i)},
    'standard', '["client_credentials"]', '[]', '["read"]', 0, 0,
    ${sql.lit(createdAt)}, ${sql.lit(createdAt)}`;
  await insertSeries(db, engine, into, values, rows);
  await sql`ANALYZE clients`.execute(db);
  return count(db, 'clients');
}
