/**
 * Growth (issue 4): with a million refresh-token rows, every refresh-token lookup stays an
 * index lookup on both engines. The statements checked are the ones the repositories really
 * run (captured from them, not rewritten here): the refresh lookup by token_hash, the
 * rotating UPDATE, the grace retry's reclaim by parent_id, the family revocation by family_id and
 * the sweep by expires_at.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  type CompiledQuery,
  type Dialect,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from 'kysely';
import * as refresh from '../src/store/sql/repositories/refresh-tokens.js';
import { sweepExpired } from '../src/store/sql/repositories/revocations.js';
import type { Database } from '../src/store/sql/schema.js';
import { FILL_FAMILY, fillRefreshTokens, fillerId, fillerTokenHash } from './helpers/bulk.js';
import { type EngineName, type TestDatabase, forEachEngine } from './helpers/engines.js';

const ROWS = 1_000_000;
/** Rows expire one per second from here: `now` below expires 1 % of them. */
const FIRST_EXPIRY = 1_700_000_000;
const NOW = FIRST_EXPIRY + ROWS / 100;

/** A Kysely of the engine's SQL dialect that runs nothing and records every statement. */
function recorder(engine: EngineName): { db: Kysely<Database>; queries: CompiledQuery[] } {
  const queries: CompiledQuery[] = [];
  const dialect: Dialect =
    engine === 'postgres'
      ? {
          createAdapter: () => new PostgresAdapter(),
          createDriver: () => new DummyDriver(),
          createIntrospector: (db) => new PostgresIntrospector(db),
          createQueryCompiler: () => new PostgresQueryCompiler(),
        }
      : {
          createAdapter: () => new SqliteAdapter(),
          createDriver: () => new DummyDriver(),
          createIntrospector: (db) => new SqliteIntrospector(db),
          createQueryCompiler: () => new SqliteQueryCompiler(),
        };
  const db = new Kysely<Database>({
    dialect,
    log: (event) => {
      if (event.level === 'query') queries.push(event.query);
    },
  });
  return { db, queries };
}

/** The statements a repository call runs that touch refresh_tokens. */
async function statements(
  engine: EngineName,
  call: (db: Kysely<Database>) => Promise<unknown>,
): Promise<CompiledQuery[]> {
  const { db, queries } = recorder(engine);
  await call(db);
  await db.destroy();
  const touching = queries.filter((q) => /\brefresh_tokens\b/.test(q.sql));
  assert.ok(touching.length > 0, 'the call runs a statement on refresh_tokens');
  return touching;
}

/** A million rows (see fillRefreshTokens), then the planner's statistics. */
async function fill(t: TestDatabase): Promise<void> {
  assert.equal(await fillRefreshTokens(t.db, t.engine, ROWS, FIRST_EXPIRY), ROWS);
  // The SQL that made the rows and fillerTokenHash, which the lookups below use, agree.
  const sample = [0, 4097, ROWS / 2 + 1, ROWS - 1];
  const rows = await t.db
    .selectFrom('refresh_tokens')
    .select(['id', 'token_hash'])
    .where('id', 'in', sample.map(fillerId))
    .orderBy('id')
    .execute();
  assert.deepEqual(
    rows.map((r) => r.token_hash),
    sample.map(fillerTokenHash),
  );
  // Spread over the key space as random hashes are: every three-character prefix after `v1$`
  // occurs (the old fillers, `v1$hash-…`, were one block that real hashes sorted around).
  const { rows: prefixes } = await sql<{ n: number | string }>`
    SELECT COUNT(DISTINCT substr(token_hash, 1, 6)) AS n FROM refresh_tokens`.execute(t.db);
  assert.equal(Number(prefixes[0]?.n), 64 ** 3);
}

/** The name of the index on exactly `column` of refresh_tokens (created by the migrations). */
async function indexOn(t: TestDatabase, column: string, unique: boolean): Promise<string> {
  if (t.engine === 'postgres') {
    const { rows } = await sql<{ indexname: string; indexdef: string }>`
      SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'refresh_tokens'`.execute(t.db);
    const found = rows.find(
      (r) =>
        r.indexdef.endsWith(`(${column})`) && r.indexdef.startsWith('CREATE UNIQUE') === unique,
    );
    assert.ok(found, `a ${unique ? 'unique ' : ''}index on refresh_tokens(${column})`);
    return found.indexname;
  }
  const { rows: list } = await sql<{ name: string; unique: number }>`
    SELECT name, "unique" FROM pragma_index_list('refresh_tokens')`.execute(t.db);
  for (const index of list) {
    const { rows: cols } = await sql<{ name: string }>`
      SELECT name FROM pragma_index_info(${index.name})`.execute(t.db);
    if (cols.length === 1 && cols[0]?.name === column && (index.unique === 1) === unique)
      return index.name;
  }
  assert.fail(`no ${unique ? 'unique ' : ''}index on refresh_tokens(${column})`);
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** Asserts the statement reads refresh_tokens through `index` and never scans the table. */
async function assertUsesIndex(t: TestDatabase, query: CompiledQuery, index: string) {
  const what = `${query.sql}\n`;
  if (t.engine === 'postgres') {
    const { rows } = await t.db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
      ...query,
      sql: `EXPLAIN (FORMAT JSON) ${query.sql}`,
    });
    const plan = nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
    const shown = JSON.stringify(plan.map((n) => [n['Node Type'], n['Index Name']]));
    assert.ok(
      !plan.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'refresh_tokens'),
      `${what}scans refresh_tokens sequentially: ${shown}`,
    );
    assert.ok(
      plan.some(
        (n) =>
          ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan'].includes(n['Node Type']) &&
          n['Index Name'] === index,
      ),
      `${what}does not use ${index}: ${shown}`,
    );
    return;
  }
  const { rows } = await t.db.executeQuery<{ detail: string }>({
    ...query,
    sql: `EXPLAIN QUERY PLAN ${query.sql}`,
  });
  const details = rows.map((r) => r.detail);
  assert.ok(
    !details.some((d) => /^SCAN (refresh_tokens|"refresh_tokens")\b/.test(d)),
    `${what}scans refresh_tokens: ${details.join(' | ')}`,
  );
  assert.ok(
    details.some((d) =>
      new RegExp(`^SEARCH "?refresh_tokens"? USING (COVERING )?INDEX ${index} \\(`).test(d),
    ),
    `${what}does not use ${index}: ${details.join(' | ')}`,
  );
}

forEachEngine('refresh-token lookups at a million rows', (current) => {
  it('use the token_hash, parent_id, family_id and expires_at indexes, never a table scan', async () => {
    const t = current();
    await fill(t);
    const byHash = await indexOn(t, 'token_hash', true);
    const byParent = await indexOn(t, 'parent_id', false);
    const byFamily = await indexOn(t, 'family_id', false);
    const byExpiry = await indexOn(t, 'expires_at', false);
    const middleId = fillerId(ROWS / 2 + 1);
    const middleHash = fillerTokenHash(ROWS / 2 + 1);

    // The refresh: findRefreshToken's SELECT, then rotateRefreshToken's conditional UPDATE
    // with its successor (on PostgreSQL one INSERT … SELECT from the UPDATE; on SQLite the
    // UPDATE comes first in a transaction).
    const [find] = await statements(t.engine, (db) => refresh.findRefreshToken(db, middleHash));
    await assertUsesIndex(t, find as CompiledQuery, byHash);
    const successor = {
      id: 'rt-successor',
      tokenHash: 'v1$hash-successor',
      familyId: 'fam-successor',
      parentId: middleId,
      clientId: 'c',
      userId: null,
      tenantId: null,
      scope: 'read',
      audience: 'https://api.example.com',
      createdAt: NOW,
      expiresAt: NOW + 3600,
      idleExpiresAt: NOW + 3600,
      rotatedAt: null,
      revokedAt: null,
      authTime: null,
      sid: null,
    };
    const [rotate] = await statements(t.engine, (db) =>
      refresh.rotateRefreshToken(db, t.engine, middleHash, NOW, successor),
    );
    await assertUsesIndex(t, rotate as CompiledQuery, byHash);

    // Grace retry (successors of a parent, then the replacement) and reuse handling (the
    // whole family).
    const [reclaim] = await statements(t.engine, (db) =>
      refresh.replaceUnusedSuccessor(db, t.engine, middleId, NOW - 30, NOW, successor),
    );
    await assertUsesIndex(t, reclaim as CompiledQuery, byParent);
    const [revoke] = await statements(t.engine, (db) =>
      refresh.revokeRefreshFamily(
        db,
        `fam-${String(ROWS / 2 / FILL_FAMILY).padStart(7, '0')}`,
        NOW,
        NOW + 3600,
      ),
    );
    await assertUsesIndex(t, revoke as CompiledQuery, byFamily);

    // The sweeper deletes the expired 1 % by range, not by reading every row.
    const [sweep] = await statements(t.engine, (db) => sweepExpired(db, NOW));
    await assertUsesIndex(t, sweep as CompiledQuery, byExpiry);
  });
});
