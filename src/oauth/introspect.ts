import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateClient } from './client-auth.js';
import { readParams } from '../http/params.js';
import type { OAuthDeps } from './context.js';
import type { Client } from '../store/store.js';
import { InvalidClient, InvalidRequest } from '../errors.js';
import { findToken } from './token-lookup.js';

/** A client that holds this scope may introspect any client's tokens (a resource server). */
export const INTROSPECT_SCOPE = 'tessera:introspect';

/** RFC 7662 §2.2 response. */
export interface IntrospectionResponse {
  readonly active: boolean;
  readonly token_type?: 'Bearer' | 'refresh_token';
  readonly client_id?: string;
  readonly scope?: string;
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly iss?: string;
  readonly exp?: number;
  readonly iat?: number;
  readonly jti?: string;
  readonly tenant_id?: string;
  readonly email?: string;
}

const INACTIVE: IntrospectionResponse = { active: false };

function mayInspect(client: Client, owner: string): boolean {
  return client.id === owner || client.scopes.includes(INTROSPECT_SCOPE);
}

async function introspect(
  deps: OAuthDeps,
  client: Client,
  token: string,
): Promise<IntrospectionResponse> {
  const found = await findToken(deps, token);
  if (!found) return INACTIVE;
  if (found.kind === 'access_token') {
    const p = found.payload;
    if (!mayInspect(client, p.client_id)) return INACTIVE;
    if (await deps.store.isAccessTokenRevoked(p.jti, p.grant_id)) return INACTIVE;
    return {
      active: true,
      token_type: 'Bearer',
      client_id: p.client_id,
      ...(p.scope !== undefined && { scope: p.scope }),
      sub: p.sub,
      aud: p.aud,
      iss: p.iss,
      exp: p.exp,
      iat: p.iat,
      jti: p.jti,
      ...(p.tenant_id !== undefined && { tenant_id: p.tenant_id }),
      ...(p.email !== undefined && { email: p.email }),
    };
  }
  const r = found.row;
  const now = deps.clock();
  const live =
    r.rotatedAt === null && r.revokedAt === null && r.expiresAt > now && r.idleExpiresAt > now;
  if (!live || !mayInspect(client, r.clientId)) return INACTIVE;
  return {
    active: true,
    token_type: 'refresh_token',
    client_id: r.clientId,
    ...(r.scope && { scope: r.scope }),
    sub: r.userId ?? r.clientId,
    aud: r.audience,
    iss: deps.config.issuer,
    exp: Math.min(r.expiresAt, r.idleExpiresAt),
    iat: r.createdAt,
    ...(r.tenantId !== null && { tenant_id: r.tenantId }),
  };
}

/** RFC 7662: answers a client only about its own tokens unless it holds `tessera:introspect`. */
export async function introspectionEndpoint(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const params = readParams(request);
  const { client, method } = await authenticateClient(request, params, deps);
  // Introspection is for resource servers, which authenticate; a public client cannot.
  if (method === 'none') throw new InvalidClient('public clients may not introspect');
  const token = params['token'];
  if (token === undefined) throw new InvalidRequest('token is required');
  await reply.send(await introspect(deps, client, token));
}
