import { createHash } from 'node:crypto';
import type { Client, Session, User } from '../store/store.js';
import { type IdTokenClaims, signIdToken } from '../tokens/id-token.js';
import type { SigningAlg } from '../tokens/keystore.js';
import type { OAuthDeps } from './context.js';

/**
 * OpenID Connect Core §5.4 scopes (and §11 `offline_access`): allowed to every client with
 * the authorization_code grant, whatever its `--scope` list (DESIGN §6).
 */
export const IDENTITY_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'offline_access'];

/**
 * Core §3.1.2.1 `prompt` values. `consent` asks a `--consent` client's user again; a
 * first-party client (DESIGN §6) has nothing to ask, so it is satisfied at once.
 */
export const PROMPT_VALUES: readonly string[] = ['none', 'login', 'consent', 'select_account'];

/** The claims each identity scope releases (Discovery's `claims_supported` lists them). */
export const SCOPE_CLAIMS = {
  profile: ['name', 'updated_at'],
  email: ['email', 'email_verified'],
} as const;

/** The claims of an ID Token or UserInfo answer beside those of the identity scopes. */
export const BASE_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'sid',
  'at_hash',
  'tenant_id',
] as const;

export function isOpenIdRequest(scopes: readonly string[]): boolean {
  return scopes.includes('openid');
}

/** Core §11: with `openid`, a refresh token only when `offline_access` was granted. */
export function allowsRefreshToken(scopes: readonly string[]): boolean {
  return !isOpenIdRequest(scopes) || scopes.includes('offline_access');
}

/**
 * The session's `sid`: derived from the stored keyed hash of the cookie, never the cookie
 * itself, so it names the session without being able to open it. Stable for the session's
 * life on every node, with nothing more to store.
 */
export function sessionSid(session: Pick<Session, 'idHash'>): string {
  return createHash('sha256').update(`tessera sid\n${session.idHash}`).digest('base64url');
}

/** The `profile` and `email` claims of a user, for the identity scopes granted. */
export function identityClaims(
  user: User | undefined,
  scopes: readonly string[],
): Pick<IdTokenClaims, 'name' | 'updated_at' | 'email' | 'email_verified'> {
  if (!user) return {};
  return {
    ...(scopes.includes('profile') && {
      ...(user.name !== null && { name: user.name }),
      updated_at: user.updatedAt,
    }),
    ...(scopes.includes('email') && { email: user.email, email_verified: user.emailVerified }),
  };
}

/** What an ID Token carries of the login behind the grant. */
export interface LoginContext {
  readonly authTime: number | null;
  readonly sid: string | null;
  /** Only from the authorization code (Core §12.2: a refreshed ID Token has none). */
  readonly nonce?: string | null;
}

/** Core §3.1.3.3: the ID Token for `accessToken`, signed with the client's `id_token_alg`. */
export async function issueIdToken(
  deps: OAuthDeps,
  req: {
    readonly client: Client;
    readonly subject: string;
    readonly tenantId: string | null;
    readonly user: User | undefined;
    readonly scopes: readonly string[];
    readonly login: LoginContext;
    readonly accessToken: string;
  },
): Promise<string> {
  const ttl = deps.config.idTokenTtl;
  const key = await deps.keystore.idTokenKey(req.client.idTokenAlg as SigningAlg, ttl);
  const now = deps.clock();
  const { authTime, sid, nonce } = req.login;
  return signIdToken(
    key,
    {
      iss: deps.config.issuer,
      sub: req.subject,
      aud: req.client.id,
      exp: now + ttl,
      iat: now,
      ...(authTime !== null && { auth_time: authTime }),
      ...(nonce !== undefined && nonce !== null && { nonce }),
      ...(sid !== null && { sid }),
      ...(req.tenantId !== null && { tenant_id: req.tenantId }),
      ...identityClaims(req.user, req.scopes),
    },
    req.accessToken,
  );
}
