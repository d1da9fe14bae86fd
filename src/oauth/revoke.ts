import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateClient } from './client-auth.js';
import { readParams } from '../http/params.js';
import { requestOrigin } from '../observability/audit.js';
import type { OAuthDeps } from './context.js';
import { InvalidRequest, UnauthorizedClient } from '../errors.js';
import { clientDialect } from './token/endpoint.js';
import { familyRevocationExpiry } from './token/issue.js';
import { type FoundToken, findToken } from './token-lookup.js';

/** The client a found token was issued to, and its tenant. */
function issuedTo(found: FoundToken): { clientId: string; tenantId: string | null } {
  return found.kind === 'access_token'
    ? { clientId: found.payload.client_id, tenantId: found.payload.tenant_id ?? null }
    : { clientId: found.row.clientId, tenantId: found.row.tenantId };
}

/**
 * RFC 7009. A refresh token revokes its whole family and every access token of that grant;
 * an access token is refused everywhere until it expires. A token that is unknown or expired
 * gets the same empty 200 (§2.2). Another client's token is refused (§2.1) with 400
 * `unauthorized_client`, as Keycloak and Hydra answer, audited and left alone; a public
 * client, which anyone can claim to be, gets the empty 200 instead (node-oidc-provider's
 * default), so that an unauthenticated caller cannot learn whether a token it holds is real.
 */
export async function revocationEndpoint(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const params = readParams(request);
  const { client, method } = await authenticateClient(request, params, deps);
  const token = params['token'];
  if (token === undefined) throw new InvalidRequest('token is required');
  const found = await findToken(deps, token);
  if (found) {
    const owner = issuedTo(found);
    const event = { clientId: client.id, tenantId: owner.tenantId, ...requestOrigin(request) };
    if (owner.clientId !== client.id) {
      // A public client's is the empty 200 below: nothing revoked, nothing told.
      if (method !== 'none') {
        await deps.audit.record({
          ...event,
          type: 'revocation.refused',
          reason: `${found.kind} of client ${owner.clientId}`,
        });
        throw new UnauthorizedClient('the token was not issued to this client');
      }
    } else if (found.kind === 'access_token') {
      await deps.store.revokeAccessToken(found.payload.jti, deps.clock(), found.payload.exp);
      await deps.audit.record({
        ...event,
        type: 'token.revoked',
        reason: `access token ${found.payload.jti}`,
      });
    } else {
      const until = familyRevocationExpiry(
        deps,
        client,
        clientDialect(deps, client.dialect),
        found.row.expiresAt,
      );
      await deps.store.revokeRefreshFamily(found.row.familyId, deps.clock(), until);
      await deps.audit.record({
        ...event,
        type: 'token.revoked',
        reason: `refresh token family ${found.row.familyId}`,
      });
    }
  }
  await reply.code(200).send();
}
