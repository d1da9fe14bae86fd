import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Params, readParams } from '../../http/params.js';
import { attemptedClientId, authenticateClient } from '../client-auth.js';
import { requestOrigin } from '../../observability/audit.js';
import type { Client } from '../../store/store.js';
import type { OAuthDeps } from '../context.js';
import {
  applyRequestAliases,
  type Dialect,
  type TokenResult,
  renderTokenResponse,
} from '../dialects/index.js';
import {
  InvalidRequest,
  OAuthError,
  TemporarilyUnavailable,
  ServerError,
  UnauthorizedClient,
  UnsupportedGrantType,
} from '../../errors.js';
import type { Grant } from './grant.js';
import { GRANTS } from './grants/index.js';

export function clientDialect(deps: OAuthDeps, name: string): Dialect {
  const dialect = deps.dialects.get(name);
  if (!dialect) {
    // A custom dialect was removed from config while clients still use it: an operator error,
    // and answering in some other wire format would break the caller in a subtler way.
    deps.logger.error({ dialect: name }, 'client uses a dialect that is not configured');
    throw new ServerError('server misconfigured');
  }
  return dialect;
}

function supportedGrant(grantType: string | undefined): Grant {
  if (grantType === undefined) throw new InvalidRequest('grant_type is required');
  const grant = GRANTS.get(grantType);
  if (!grant) throw new UnsupportedGrantType(`grant_type ${grantType} is not supported`);
  return grant;
}

/** RFC 6749 §3.2 token endpoint: authenticate the client, pick the grant, shape the response by dialect. */
async function issue(
  deps: OAuthDeps,
  request: FastifyRequest,
  raw: Params,
  seen: { client?: Client },
): Promise<{ body: object; client: Client; result: TokenResult; grantType: string }> {
  const { client } = await authenticateClient(request, raw, deps);
  seen.client = client;
  const dialect = clientDialect(deps, client.dialect);
  const { params, clash } = applyRequestAliases(dialect, raw);
  if (clash) throw new InvalidRequest(`send one of ${clash}, not both`);
  const grant = supportedGrant(params['grant_type']);
  if (!client.grants.includes(grant.grantType)) {
    throw new UnauthorizedClient(`this client may not use grant_type ${grant.grantType}`);
  }
  for (const name of grant.parameters) {
    if (params[name] === undefined) throw new InvalidRequest(`${name} is required`);
  }
  const result = await grant.handle({ deps, request, client, dialect, params });
  return { body: renderTokenResponse(dialect, result), client, result, grantType: grant.grantType };
}

/**
 * The endpoint with its audit trail: a refusal is recorded (durably, before the answer) with
 * the exact reason, so "why was my token request refused at 10:42?" has an answer; an
 * issued token is recorded in the next batch.
 */
export async function tokenEndpoint(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  let raw: Params = {};
  const seen: { client?: Client } = {};
  // Label values come from a closed set, never from the caller's text.
  const labels = (outcome: string) => ({
    grant_type: GRANTS.has(raw['grant_type'] ?? '') ? (raw['grant_type'] as string) : 'other',
    dialect: seen.client?.dialect ?? 'unknown',
    outcome,
  });
  try {
    raw = readParams(request);
    const { body, client, result, grantType } = await issue(deps, request, raw, seen);
    deps.metrics.tokenRequests.inc(labels('issued'));
    deps.audit.enqueue({
      type: 'token.issued',
      clientId: client.id,
      tenantId: result.tenantId,
      reason: `grant_type=${grantType}`,
      ...requestOrigin(request),
    });
    await reply.send(body);
  } catch (err) {
    if (err instanceof OAuthError) deps.metrics.tokenRequests.inc(labels(err.code));
    if (
      err instanceof OAuthError &&
      !(err instanceof TemporarilyUnavailable) &&
      !(err instanceof ServerError)
    ) {
      await deps.audit.record({
        type: 'token.refused',
        clientId: attemptedClientId(request, raw),
        reason: `${err.code}: ${err.description}`,
        ...requestOrigin(request),
      });
    }
    throw err;
  }
}
