import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateClient } from '../http/client-auth.js';
import { readParams } from '../http/params.js';
import { requestOrigin } from '../observability/audit.js';
import type { Deps } from '../server/deps.js';
import { InvalidRequest, UnauthorizedClient } from './errors.js';
import { clientDialect } from './token/endpoint.js';
import { familyRevocationExpiry } from './token/issue.js';
import { findToken } from './token-lookup.js';

/**
 * RFC 7009. A refresh token revokes its whole family and every access token of that grant;
 * an access token is refused everywhere until it expires. A token that is unknown or expired
 * gets the same empty 200 (§2.2). Another client's token is refused (§2.1) with 400
 * `unauthorized_client`, as Keycloak and Hydra answer, and left alone; a public client,
 * which anyone can claim to be, gets the empty 200 instead (node-oidc-provider's default),
 * so that an unauthenticated caller cannot learn whether a token it holds is real.
 */
export async function revocationEndpoint(
  deps: Deps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const params = readParams(request);
  const { client, method } = await authenticateClient(request, params, deps);
  const token = params['token'];
  if (token === undefined) throw new InvalidRequest('token is required');
  const found = await findToken(deps, token);
  const owner = found?.kind === 'access_token' ? found.payload.client_id : found?.row.clientId;
  if (owner !== undefined && owner !== client.id && method !== 'none')
    throw new UnauthorizedClient('the token was not issued to this client');
  const now = deps.clock();
  const audit = { type: 'token.revoked' as const, clientId: client.id, ...requestOrigin(request) };
  if (found?.kind === 'access_token' && owner === client.id) {
    await deps.store.revokeAccessToken(found.payload.jti, now, found.payload.exp);
    await deps.audit.record({
      ...audit,
      tenantId: found.payload.tenant_id ?? null,
      reason: `access token ${found.payload.jti}`,
    });
  } else if (found?.kind === 'refresh_token' && owner === client.id) {
    const until = familyRevocationExpiry(
      deps,
      client,
      clientDialect(deps, client.dialect),
      found.row.expiresAt,
    );
    await deps.store.revokeRefreshFamily(found.row.familyId, now, until);
    await deps.audit.record({
      ...audit,
      tenantId: found.row.tenantId,
      reason: `refresh token family ${found.row.familyId}`,
    });
  }
  await reply.code(200).send();
}
