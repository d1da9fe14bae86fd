import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireBearer } from './bearer.js';
import type { OAuthDeps } from './context.js';

/** The claims of the presented access token: a generic RFC 6750 protected resource. */
export async function userinfoEndpoint(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const claims = await requireBearer(request, deps, { scope: deps.config.userinfoScope });
  await reply.send(claims);
}
