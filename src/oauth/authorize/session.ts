import { randomBytes, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthDeps } from '../context.js';
import type { Session } from '../../store/store.js';
import { opaqueToken } from '../../tokens/opaque.js';
import { messages as m } from '../../views/messages/index.js';
import { errorPage } from '../../views/pages.js';
import { sendPage } from '../../views/send.js';
import { sessionSid } from '../oidc.js';
import { familyRevocationExpiry } from '../token/issue.js';
import type { AuthorizationRequest } from './request.js';
import { TRANSACTION_TTL, openTransaction } from './transaction.js';

export const SESSION_COOKIE = 'tessera_session';
export const CSRF_COOKIE = 'tessera_csrf';
/** The sealed authorization a password reset in this browser may resume (DESIGN §7). */
export const PENDING_COOKIE = 'tessera_pending';
/** Sent only to the account pages: nothing else reads it. */
const PENDING_PATH = '/account';

function secure(deps: OAuthDeps): boolean {
  return deps.config.issuer.startsWith('https:');
}

/**
 * The login session's cookie: HttpOnly, SameSite=Lax (a platform's cross-site top-level
 * redirect to /oauth/authorize still carries it; cross-site posts and frames do not),
 * Secure on https. The cookie holds a random id; the store keeps only its keyed hash.
 */
export async function openSession(
  deps: OAuthDeps,
  reply: FastifyReply,
  who: { userId: string | null; subject: string; tenantId: string | null },
): Promise<Session> {
  const id = opaqueToken();
  const now = deps.clock();
  const session: Session = {
    idHash: deps.crypto.hashSecret(id),
    ...who,
    createdAt: now,
    expiresAt: now + deps.config.sessionTtl,
  };
  await deps.store.createSession(session);
  reply.setCookie(SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(deps),
    path: '/',
    maxAge: deps.config.sessionTtl,
  });
  return session;
}

export async function currentSession(
  deps: OAuthDeps,
  request: FastifyRequest,
): Promise<Session | undefined> {
  const id = request.cookies[SESSION_COOKIE];
  if (!id || id.length > 256) return undefined;
  return deps.store.findSession(deps.crypto.hashSecret(id), deps.clock());
}

/**
 * DESIGN §6: the refresh tokens issued in a login session end with it, unless they hold
 * `offline_access` (the grant an RP asked to outlive the session). Each family is revoked
 * as a replay would revoke it, its access tokens with it.
 */
async function revokeSessionGrants(deps: OAuthDeps, idHash: string): Promise<void> {
  const now = deps.clock();
  for (const family of await deps.store.listSessionRefreshFamilies(sessionSid({ idHash }))) {
    if (family.scope.split(' ').includes('offline_access')) continue;
    const client = await deps.clients.get(family.clientId);
    const dialect = client && deps.dialects.get(client.dialect);
    // A deleted client's tokens already fail; there is nothing to bound the revocation by.
    if (!client || !dialect) continue;
    await deps.store.revokeRefreshFamily(
      family.familyId,
      now,
      familyRevocationExpiry(deps, client, dialect, family.expiresAt),
    );
  }
}

/** 403 `logout-refused`: a sign-out without this browser's CSRF token; the session stays. */
export function refuseLogout(reply: FastifyReply): Promise<void> {
  return sendPage(
    reply,
    403,
    errorPage({
      title: m.logoutRefusedTitle,
      code: 'logout-refused',
      message: m.logoutRefusedMessage,
    }),
  );
}

export async function endSession(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const id = request.cookies[SESSION_COOKIE];
  if (id && id.length <= 256) {
    const idHash = deps.crypto.hashSecret(id);
    await deps.store.endSession(idHash, sessionSid({ idHash }), deps.clock());
    await revokeSessionGrants(deps, idHash);
  }
  reply.clearCookie(SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(deps),
  });
}

/**
 * Signed double-submit CSRF token for the login form: the same value in a cookie and in a
 * hidden field. A cross-site page can make the browser post the form but can neither read
 * nor set our cookie, so it cannot supply a matching field. Checked by token, not `Origin`
 * (with `Referrer-Policy: no-referrer` a form post may send `Origin: null`).
 *
 * The value is `<random>.<keyed hash of it>`, so only a value this server made counts: a page
 * that can plant cookies for our host (a sibling subdomain) can no longer pair a value of its
 * own choosing with itself. The hash is `crypto.hashSecret`'s, so there is no second key.
 */
export function csrfToken(deps: OAuthDeps, request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[CSRF_COOKIE];
  if (existing && signedByUs(deps, existing)) return existing;
  const random = randomBytes(24).toString('base64url');
  // hashSecret's `v1$…` with a dot for the `$`, which the cookie would carry percent-encoded:
  // cookie and field stay the same text.
  const token = `${random}.${deps.crypto.hashSecret(csrfTagged(random)).replace('$', '.')}`;
  reply.setCookie(CSRF_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(deps),
    // The account pages (/account/…) post with the same token as the sign-in pages.
    path: '/',
  });
  return token;
}

/** The field equals the cookie (compared in constant time) and the cookie is one we signed. */
export function csrfValid(
  deps: OAuthDeps,
  request: FastifyRequest,
  field: string | undefined,
): boolean {
  const cookie = request.cookies[CSRF_COOKIE];
  if (cookie === undefined || field === undefined) return false;
  const a = Buffer.from(cookie);
  const b = Buffer.from(field);
  return a.length === b.length && timingSafeEqual(a, b) && signedByUs(deps, cookie);
}

/** A tag of its own: a CSRF hash never equals the stored hash of a token, code or secret. */
function csrfTagged(random: string): string {
  return `csrf ${random}`;
}

function signedByUs(deps: OAuthDeps, token: string): boolean {
  const [random, version, hash, ...rest] = token.split('.');
  return (
    random !== undefined &&
    /^[A-Za-z0-9_-]{32}$/.test(random) &&
    hash !== undefined &&
    rest.length === 0 &&
    deps.crypto.verifySecret(csrfTagged(random), `${version}$${hash}`)
  );
}

/**
 * Keeps the login page's sealed authorization in an HttpOnly cookie, so that a password set
 * through a mailed link in this same browser can resume it. It never goes into the link: an
 * attacker could otherwise start an authorization with their own PKCE challenge and mail the
 * victim a reset that ends in the attacker's code.
 */
export function keepPending(deps: OAuthDeps, reply: FastifyReply, sealed: string): void {
  // A cookie over 4 KiB is dropped by browsers; such a request just does not resume.
  if (sealed.length > 3800) return;
  reply.setCookie(PENDING_COOKIE, sealed, {
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(deps),
    path: PENDING_PATH,
    maxAge: TRANSACTION_TTL,
  });
}

/** This browser's pending authorization, if it is ours and unexpired; used up either way. */
export function takePending(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): AuthorizationRequest | undefined {
  const sealed = request.cookies[PENDING_COOKIE];
  if (sealed === undefined) return undefined;
  reply.clearCookie(PENDING_COOKIE, {
    path: PENDING_PATH,
    httpOnly: true,
    sameSite: 'lax',
    secure: secure(deps),
  });
  return openTransaction(deps, sealed);
}

/** Peeks at the pending authorization without using it up (an account page's branding). */
export function peekPending(
  deps: OAuthDeps,
  request: FastifyRequest,
): AuthorizationRequest | undefined {
  return openTransaction(deps, request.cookies[PENDING_COOKIE]);
}
