import type { AuditEvent } from '../store/store.js';
import { type AdminContext, ValidationError } from './context.js';

/** The audit-list JSON view (DESIGN §3): snake_case, `at` ISO-8601. */
export function auditView(e: AuditEvent) {
  return {
    at: new Date(e.at).toISOString(),
    type: e.type,
    tenant_id: e.tenantId ?? null,
    client_id: e.clientId ?? null,
    user_id: e.userId ?? null,
    ip: e.ip ?? null,
    request_id: e.requestId ?? null,
    reason: e.reason ?? null,
  };
}

export async function listAudit(
  ctx: AdminContext,
  filter: {
    since?: string | undefined;
    type?: string | undefined;
    tenant?: string | undefined;
    client?: string | undefined;
    limit?: number | undefined;
  },
) {
  let since: number | undefined;
  if (filter.since !== undefined) {
    since = Date.parse(filter.since);
    if (Number.isNaN(since))
      throw new ValidationError(`--since "${filter.since}" is not an ISO-8601 time`);
  }
  const events = await ctx.store.listAuditEvents({
    since,
    type: filter.type,
    tenantId: filter.tenant,
    clientId: filter.client,
    limit: filter.limit ?? 1000,
  });
  return events.map(auditView);
}
