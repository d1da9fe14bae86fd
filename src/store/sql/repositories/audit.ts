import type { Kysely } from 'kysely';
import type { AuditEvent, AuditFilter } from '../../store.js';
import type { Database } from '../schema.js';

export async function insertAuditEvents(
  db: Kysely<Database>,
  events: readonly AuditEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('audit_events')
    .values(
      events.map((e) => ({
        id: e.id,
        at: e.at,
        type: e.type,
        tenant_id: e.tenantId ?? null,
        client_id: e.clientId ?? null,
        user_id: e.userId ?? null,
        ip: e.ip ?? null,
        request_id: e.requestId ?? null,
        reason: e.reason ?? null,
      })),
    )
    .execute();
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
