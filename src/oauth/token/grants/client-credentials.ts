import type { Client, ClientTenant } from '../../../store/store.js';
import { InvalidScope, UnauthorizedClient } from '../../../errors.js';
import type { Grant, GrantContext } from '../grant.js';
import { issueTokens, parseScope, resolveAudience } from '../issue.js';

function matchesTenant(t: ClientTenant, entry: string): boolean {
  return t.id === entry || (t.domain !== null && t.domain === entry.toLowerCase());
}

/**
 * DESIGN §3: one `scope` entry (or the `tenant` parameter) may name a tenant the client is
 * bound to, by id or domain; every other entry must be one of the client's scopes. A client
 * bound to one tenant gets it by default; one bound to several must name one.
 */
export function selectTenantAndScopes(
  client: Client,
  scopeParam: string | undefined,
  tenantParam: string | undefined,
): { tenantId: string | null; scopes: string[]; echo: string } {
  const requested = parseScope(scopeParam);
  let tenant =
    tenantParam === undefined
      ? undefined
      : client.tenants.find((t) => matchesTenant(t, tenantParam));
  if (tenantParam !== undefined && !tenant)
    throw new InvalidScope(`tenant ${tenantParam} is not available to this client`);
  const scopes: string[] = [];
  const echo: string[] = [];
  for (const entry of requested) {
    const named = client.tenants.find((t) => matchesTenant(t, entry));
    if (named) {
      if (tenant && tenant.id !== named.id)
        throw new InvalidScope('more than one tenant requested');
      tenant = named;
      echo.push(entry);
    } else if (client.scopes.includes(entry)) {
      scopes.push(entry);
      echo.push(entry);
    } else {
      throw new InvalidScope(`scope ${entry} is not available to this client`);
    }
  }
  if (requested.length === 0) {
    // RFC 6749 §3.3: with no scope requested the server applies a default: all of the client's.
    scopes.push(...client.scopes);
    echo.push(...client.scopes);
  }
  if (!tenant && client.tenants.length === 1) tenant = client.tenants[0];
  if (!tenant && client.tenants.length > 1) {
    throw new InvalidScope('this client serves several tenants: name one in scope (or tenant)');
  }
  return { tenantId: tenant?.id ?? null, scopes, echo: echo.join(' ') };
}

export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  parameters: [],
  async handle({ deps, client, dialect, params }: GrantContext) {
    if (client.secretHash === null)
      throw new UnauthorizedClient('public clients cannot use client_credentials');
    const { tenantId, scopes, echo } = selectTenantAndScopes(
      client,
      params['scope'],
      params['tenant'],
    );
    const { result, refreshRow } = await issueTokens(deps, {
      client,
      dialect,
      userId: null,
      tenantId,
      scopes,
      echoScope: echo,
      audience: resolveAudience(deps, client, params['resource']),
    });
    if (refreshRow) await deps.store.insertRefreshToken(refreshRow);
    return result;
  },
};
