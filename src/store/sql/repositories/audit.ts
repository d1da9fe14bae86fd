import { type Kysely, sql } from 'kysely';
import type { AuditEvent, AuditFilter } from '../../store.js';
import type { Database } from '../schema.js';

/**
 * One statement whose text never changes, with every row in one parameter: a multi-row
 * VALUES list has a different text (and thousands of parameters) for each batch size, so
 * each batch was built, compiled and prepared anew, about 10 µs per event. Here it is
 * prepared once (SQLite's statement cache, PostgreSQL's plan) and costs ~1 µs an event.
 * PostgreSQL (and CockroachDB, YugabyteDB) read parallel arrays with unnest; SQLite reads a
 * JSON array with json_each.
 */
export async function insertAuditEvents(
  db: Kysely<Database>,
  engine: 'sqlite' | 'postgres',
  events: readonly AuditEvent[],
): Promise<void> {
  if (events.length === 0) return;
  if (engine === 'postgres') {
    const column = <T>(f: (e: AuditEvent) => T) => events.map(f);
    await sql`INSERT INTO audit_events
      (id, at, type, tenant_id, client_id, user_id, ip, request_id, reason)
      SELECT * FROM unnest(${column((e) => e.id)}::text[], ${column((e) => e.at)}::bigint[],
        ${column((e) => e.type)}::text[], ${column((e) => e.tenantId ?? null)}::text[],
        ${column((e) => e.clientId ?? null)}::text[], ${column((e) => e.userId ?? null)}::text[],
        ${column((e) => e.ip ?? null)}::text[], ${column((e) => e.requestId ?? null)}::text[],
        ${column((e) => e.reason ?? null)}::text[])`.execute(db);
    return;
  }
  const rows = JSON.stringify(
    events.map((e) => [
      e.id,
      e.at,
      e.type,
      e.tenantId ?? null,
      e.clientId ?? null,
      e.userId ?? null,
      e.ip ?? null,
      e.requestId ?? null,
      e.reason ?? null,
    ]),
  );
  await sql`INSERT INTO audit_events
    (id, at, type, tenant_id, client_id, user_id, ip, request_id, reason)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
      value ->> 6, value ->> 7, value ->> 8
    FROM json_each(${rows})`.execute(db);
}

export async function listAuditEvents(db: Kysely<Database>, f: AuditFilter): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll().orderBy('at').orderBy('id').limit(f.limit);
  if (f.since !== undefined) q = q.where('at', '>=', f.since);
  if (f.type !== undefined) q = q.where('type', '=', f.type);
  if (f.tenantId !== undefined) q = q.where('tenant_id', '=', f.tenantId);
  if (f.clientId !== undefined) q = q.where('client_id', '=', f.clientId);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    type: r.type,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    userId: r.user_id,
    ip: r.ip,
    requestId: r.request_id,
    reason: r.reason,
  }));
}

export async function sweepAuditEvents(db: Kysely<Database>, before: number): Promise<number> {
  const res = await db.deleteFrom('audit_events').where('at', '<', before).executeTakeFirst();
  return Number(res.numDeletedRows);
}
