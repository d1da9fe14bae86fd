import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerError, requireBearer } from '../oauth/bearer.js';
import { InsufficientScope, InvalidRequest, InvalidToken } from '../errors.js';
import type { SpacesDeps } from './context.js';

/** The App Info response Cisco Spaces expects (DESIGN §1); telemetry values are strings. */
export interface AppInfoResponse {
  readonly partnerTenantId: string;
  readonly userEmail: string;
  readonly supportEmail?: string;
  readonly telemetry: readonly { type: string; name: string; value: string; units: string }[];
}

const CISCO_SPACES = 'cisco-spaces';

/**
 * GET /spaces/app-info?partnerTenantId=…: only a user token of a cisco-spaces client, for
 * that very tenant, may read it (Cisco's sample lets any token read any tenant).
 */
export async function appInfoEndpoint(
  deps: SpacesDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const claims = await requireBearer(request, deps);
  const query = request.query as Record<string, unknown>;
  const partnerTenantId = query['partnerTenantId'];
  if (typeof partnerTenantId !== 'string' || partnerTenantId.length === 0) {
    throw new InvalidRequest('partnerTenantId is required, once');
  }
  // RFC 9068 §4: a token is accepted only by the resource it was issued for. App Info is
  // Cisco Spaces' resource, so only a user token of a cisco-spaces client may read it.
  const client = await deps.clients.get(claims.client_id);
  if (claims.email === undefined || client?.dialect !== CISCO_SPACES)
    throw bearerError(new InvalidToken('App Info needs a user token of a Cisco Spaces client'));
  if (claims.tenant_id !== partnerTenantId)
    throw bearerError(new InsufficientScope('the token is for another tenant'));
  const tenant = await deps.store.getTenant(partnerTenantId);
  if (!tenant) throw bearerError(new InsufficientScope('the token is for another tenant'));
  const telemetry = await deps.store.listTelemetry(tenant.id);
  const body: AppInfoResponse = {
    partnerTenantId: tenant.id,
    userEmail: claims.email,
    ...(tenant.supportEmail !== null && { supportEmail: tenant.supportEmail }),
    telemetry: telemetry.map((t) => ({
      type: t.type,
      name: t.name,
      value: t.value,
      units: t.units,
    })),
  };
  await reply.send(body);
}
