import { randomUUID } from 'node:crypto';
import { signAccessToken } from '../../tokens/access-token.js';
import { opaqueToken } from '../../tokens/opaque.js';
import type { OAuthDeps } from '../context.js';
import type { Client, RefreshToken } from '../../store/store.js';
import { MonotonicUuid } from '../../store/uuid.js';
import type { Dialect, TokenResult } from '../dialects/index.js';
import { InvalidScope, InvalidTarget } from '../../errors.js';

export function accessTokenTtl(deps: OAuthDeps, client: Client, dialect: Dialect): number {
  return client.accessTokenTtl ?? dialect.accessTokenTtl ?? deps.config.accessTokenTtl;
}

/**
 * How long a revoked refresh family must be remembered: its access tokens can outlive the
 * family's last refresh (at most its absolute expiry) by one access-token lifetime.
 */
export function familyRevocationExpiry(
  deps: OAuthDeps,
  client: Client,
  dialect: Dialect,
  familyExpiresAt: number,
): number {
  return familyExpiresAt + accessTokenTtl(deps, client, dialect);
}

/** A refresh token is issued only to a client holding the grant, in a dialect that can carry it. */
export function issuesRefreshTokens(client: Client, dialect: Dialect): boolean {
  return client.grants.includes('refresh_token') && dialect.fields.refresh_token !== false;
}

/** RFC 6749 §3.3: `scope` is space-delimited NQCHAR tokens. */
export function parseScope(value: string | undefined): string[] {
  if (value === undefined) return [];
  const entries = value.split(' ').filter((s) => s.length > 0);
  for (const entry of entries) {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(entry))
      throw new InvalidScope('scope contains a character RFC 6749 §3.3 forbids');
  }
  return [...new Set(entries)];
}

/**
 * RFC 8707: `resource` must be one of the client's allowed audiences (its own audience, or
 * the server default); without it the token gets that audience.
 */
export function resolveAudience(
  deps: OAuthDeps,
  client: Client,
  resource: string | undefined,
): string {
  const audience = client.audience ?? deps.config.audience;
  if (resource !== undefined && resource !== audience) {
    throw new InvalidTarget('resource is not an audience this client may request');
  }
  return audience;
}

export interface IssueRequest {
  readonly client: Client;
  readonly dialect: Dialect;
  readonly userId: string | null;
  readonly email?: string | undefined;
  readonly tenantId: string | null;
  /** Real scopes only (the `scope` claim). */
  readonly scopes: readonly string[];
  /** What the standard response's `scope` says (may name the tenant as the caller did). */
  readonly echoScope: string;
  readonly audience: string;
  /**
   * Continue an existing refresh family (refresh grant) instead of starting one. The successor
   * keeps the family's `scope` even when this access token was narrowed (RFC 6749 §6).
   */
  readonly family?:
    | {
        readonly id: string;
        readonly parentId: string;
        readonly expiresAt: number;
        readonly scope: string;
      }
    | undefined;
  /**
   * The grant being started (an authorization code's `grant_id`): it becomes the `grant_id`
   * claim and the refresh family's id, so revoking the grant revokes everything issued from it.
   */
  readonly grantId?: string | undefined;
  /**
   * Writes the new refresh token's row; by default a plain insert. The refresh grant consumes
   * the presented token (in a grace retry, its unused successor) in the same transaction, and
   * refuses (throws) if it was already used.
   */
  readonly storeRefreshToken?: ((row: RefreshToken) => Promise<void>) | undefined;
}

/**
 * Refresh token row ids, time-ordered (see MonotonicUuid). The wall clock, not `deps.clock`:
 * the id only orders rows, and a test's frozen clock would run the counter into the future.
 */
const rowIds = new MonotonicUuid();

/**
 * Signs the access token and, when the client gets one, stores the refresh token (a new
 * family, or the successor in an existing one). The refresh row is durable before the
 * response leaves; the access token needs no write at all.
 */
export async function issueTokens(deps: OAuthDeps, req: IssueRequest): Promise<TokenResult> {
  const now = deps.clock();
  const ttl = accessTokenTtl(deps, req.client, req.dialect);
  const withRefresh = req.family !== undefined || issuesRefreshTokens(req.client, req.dialect);
  const grantId = req.family?.id ?? req.grantId ?? (withRefresh ? randomUUID() : undefined);
  const key = await deps.keystore.signingKey();
  const scope = req.scopes.join(' ');
  const { token } = await signAccessToken(key, {
    iss: deps.config.issuer,
    sub: req.userId ?? req.client.id,
    aud: req.audience,
    exp: now + ttl,
    iat: now,
    client_id: req.client.id,
    ...(scope && { scope }),
    ...(req.tenantId !== null && { tenant_id: req.tenantId }),
    ...(req.email !== undefined && { email: req.email }),
    ...(grantId !== undefined && { grant_id: grantId }),
  });
  let refreshToken: string | undefined;
  if (withRefresh && grantId !== undefined) {
    refreshToken = opaqueToken();
    const expiresAt =
      req.family?.expiresAt ?? now + (req.client.refreshTokenTtl ?? deps.config.refreshTokenTtl);
    const row: RefreshToken = {
      id: rowIds.next(Date.now()),
      tokenHash: deps.crypto.hashSecret(refreshToken),
      familyId: grantId,
      parentId: req.family?.parentId ?? null,
      clientId: req.client.id,
      userId: req.userId,
      tenantId: req.tenantId,
      scope: req.family?.scope ?? scope,
      audience: req.audience,
      createdAt: now,
      expiresAt,
      idleExpiresAt: Math.min(expiresAt, now + deps.config.refreshTokenIdleTtl),
      rotatedAt: null,
      revokedAt: null,
    };
    if (req.storeRefreshToken) await req.storeRefreshToken(row);
    else await deps.store.insertRefreshToken(row);
  }
  return {
    accessToken: token,
    expiresIn: ttl,
    scope: req.echoScope,
    tenantId: req.tenantId,
    refreshToken,
  };
}
