import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidToken } from '../errors.js';
import type { User } from '../store/store.js';
import { bearerError, requireBearer, requireScope, tokenScopes } from './bearer.js';
import type { OAuthDeps } from './context.js';
import { identityClaims, isOpenIdRequest } from './oidc.js';
import { LAUNCH_SUBJECT_PREFIX } from './subject.js';

/**
 * OpenID Connect UserInfo (Core §5.3) for a token carrying `openid`: `sub`, the claims of its
 * identity scopes, read from the account now, and `tenant_id`. Any other token gets its own
 * claims: a generic RFC 6750 protected resource (which may require `userinfoScope`).
 */
export async function userinfoEndpoint(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const claims = await requireBearer(request, deps);
  const scopes = tokenScopes(claims);
  if (!isOpenIdRequest(scopes)) {
    requireScope(claims, deps.config.userinfoScope);
    return reply.send(claims);
  }
  let user: User | undefined;
  if (!claims.sub.startsWith(LAUNCH_SUBJECT_PREFIX)) {
    user = await deps.store.getUser(claims.sub);
    // The account was deleted or disabled since: the token no longer speaks for anyone.
    if (!user || user.disabledAt !== null)
      throw bearerError(new InvalidToken('the user is no longer active'));
  }
  await reply.send({
    sub: claims.sub,
    ...identityClaims(user, scopes),
    ...(claims.tenant_id !== undefined && { tenant_id: claims.tenant_id }),
  });
}
