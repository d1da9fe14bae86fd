import { randomUUID } from 'node:crypto';
import { signAccessToken } from '../../tokens/access-token.js';
import { opaqueToken } from '../../tokens/opaque.js';
import type { OAuthDeps } from '../context.js';
import type { Client, RefreshToken, User } from '../../store/store.js';
import { type LoginContext, allowsRefreshToken, isOpenIdRequest, issueIdToken } from '../oidc.js';
import { timeOrderedId } from '../../store/uuid.js';
import type { Dialect, TokenResult } from '../dialects/index.js';
import { InvalidScope, InvalidTarget } from '../../errors.js';

/** Only the server default is read, so the management services can bound revocations too. */
type TtlDeps = { readonly config: { readonly accessTokenTtl: number } };

export function accessTokenTtl(deps: TtlDeps, client: Client, dialect: Dialect): number {
  return client.accessTokenTtl ?? dialect.accessTokenTtl ?? deps.config.accessTokenTtl;
}

/**
 * How long a revoked refresh family must be remembered: its access tokens can outlive the
 * family's last refresh (at most its absolute expiry) by one access-token lifetime.
 */
export function familyRevocationExpiry(
  deps: TtlDeps,
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

/** The refresh family a successor continues (refresh grant). */
export interface Family {
  readonly id: string;
  readonly parentId: string;
  readonly expiresAt: number;
  /** The family's scope, which the successor keeps even when its access token was narrowed (RFC 6749 §6). */
  readonly scope: string;
}

export interface IssueRequest {
  readonly client: Client;
  readonly dialect: Dialect;
  readonly userId: string | null;
  /** The user behind `userId` (none for a launch subject): its email and identity claims. */
  readonly user?: User | undefined;
  readonly tenantId: string | null;
  /** Real scopes only (the `scope` claim). */
  readonly scopes: readonly string[];
  /** What the standard response's `scope` says (may name the tenant as the caller did). */
  readonly echoScope: string;
  readonly audience: string;
  /** Continue an existing refresh family (refresh grant) instead of starting one. */
  readonly family?: Family | undefined;
  /**
   * The grant being started (an authorization code's `grant_id`): it becomes the `grant_id`
   * claim and the refresh family's id, so revoking the grant revokes everything issued from it.
   */
  readonly grantId?: string | undefined;
  /**
   * The login behind a user grant (authorization code, refresh): with the `openid` scope an
   * ID Token is issued for it, and a new refresh family keeps its auth_time and sid.
   */
  readonly login?: LoginContext | undefined;
}

/**
 * The access token's `aud`: with `openid` the issuer too, beside the client's audience, so
 * that UserInfo accepts every `openid` token (DESIGN §6).
 */
function accessTokenAudience(
  deps: OAuthDeps,
  audience: string,
  scopes: readonly string[],
): string | string[] {
  return isOpenIdRequest(scopes) && audience !== deps.config.issuer
    ? [audience, deps.config.issuer]
    : audience;
}

/** Signed tokens, not yet handed out. */
export interface Issued {
  readonly result: TokenResult;
  /**
   * The row of `result.refreshToken`, which the grant stores before answering, in the same
   * store operation that uses up what was presented (a code, a refresh token).
   */
  readonly refreshRow: RefreshToken | undefined;
}

/**
 * Signs the access token (and, for an `openid` grant in a dialect that carries one, the ID
 * Token) and, when the client gets one, makes the refresh token (a new family, or the
 * successor in an existing one; with `openid` only when `offline_access` was granted).
 * Nothing is stored here: the access token needs no write at all, and the refresh row is
 * the grant's to store.
 */
export function issueTokens(
  deps: OAuthDeps,
  req: IssueRequest & { readonly family: Family },
): Promise<Issued & { readonly refreshRow: RefreshToken }>;
export function issueTokens(deps: OAuthDeps, req: IssueRequest): Promise<Issued>;
export async function issueTokens(deps: OAuthDeps, req: IssueRequest): Promise<Issued> {
  const now = deps.clock();
  const ttl = accessTokenTtl(deps, req.client, req.dialect);
  const withRefresh =
    req.family !== undefined ||
    (issuesRefreshTokens(req.client, req.dialect) && allowsRefreshToken(req.scopes));
  const grantId = req.family?.id ?? req.grantId ?? (withRefresh ? randomUUID() : undefined);
  const key = await deps.keystore.signingKey();
  const scope = req.scopes.join(' ');
  const { token } = await signAccessToken(key, {
    iss: deps.config.issuer,
    sub: req.userId ?? req.client.id,
    aud: accessTokenAudience(deps, req.audience, req.scopes),
    exp: now + ttl,
    iat: now,
    client_id: req.client.id,
    ...(scope && { scope }),
    ...(req.tenantId !== null && { tenant_id: req.tenantId }),
    ...(req.user !== undefined && { email: req.user.email }),
    ...(grantId !== undefined && { grant_id: grantId }),
  });
  let refreshToken: string | undefined;
  let refreshRow: RefreshToken | undefined;
  if (withRefresh && grantId !== undefined) {
    refreshToken = opaqueToken();
    const expiresAt =
      req.family?.expiresAt ?? now + (req.client.refreshTokenTtl ?? deps.config.refreshTokenTtl);
    refreshRow = {
      // Time-ordered (see timeOrderedId): each new row lands at its indexes' right-hand end.
      id: timeOrderedId(),
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
      authTime: req.login?.authTime ?? null,
      sid: req.login?.sid ?? null,
    };
  }
  const idToken =
    req.login && req.userId !== null && req.dialect.idTokens && isOpenIdRequest(req.scopes)
      ? await issueIdToken(deps, {
          client: req.client,
          subject: req.userId,
          tenantId: req.tenantId,
          user: req.user,
          scopes: req.scopes,
          login: req.login,
          accessToken: token,
        })
      : undefined;
  return {
    result: {
      accessToken: token,
      expiresIn: ttl,
      scope: req.echoScope,
      tenantId: req.tenantId,
      refreshToken,
      idToken,
    },
    refreshRow,
  };
}
