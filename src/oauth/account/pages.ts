import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { brandForClient } from '../../branding/service.js';
import { readParams } from '../../http/params.js';
import { requestOrigin } from '../../observability/audit.js';
import type { AccountLinkPurpose } from '../../store/store.js';
import { messages as m } from '../../views/messages/index.js';
import {
  type PageBrand,
  errorPage,
  forgotPage,
  noticePage,
  setPasswordPage,
} from '../../views/pages.js';
import { sendPage } from '../../views/send.js';
import { resumeAuthorization } from '../authorize/endpoint.js';
import {
  csrfToken,
  csrfValid,
  currentSession,
  endSession,
  openSession,
  peekPending,
  takePending,
} from '../authorize/session.js';
import type { OAuthDeps } from '../context.js';
import { PASSWORD_MAX, PASSWORD_MIN, hashPassword, passwordProblem } from '../password.js';
import { linkHash } from './links.js';

/**
 * The branding of the app this browser was signing in to, if it left a pending authorization;
 * else the neutral default (a mailed link names no client).
 */
async function pageBrand(deps: OAuthDeps, request: FastifyRequest): Promise<PageBrand | undefined> {
  const pending = peekPending(deps, request);
  const client = pending && (await deps.clients.get(pending.clientId));
  return client ? brandForClient(deps.store, client) : undefined;
}

/** A body readParams refuses (a repeated field, broken JSON) is an empty form here. */
function form(request: FastifyRequest): Readonly<Record<string, string>> {
  try {
    return readParams(request);
  } catch {
    return {};
  }
}

/**
 * 400 for a post without this browser's CSRF token (`page-expired`), or for a link that is
 * unknown, used or expired (`link-invalid`: the page says only that).
 */
function refused(
  reply: FastifyReply,
  brand: PageBrand | undefined,
  why: 'page-expired' | 'link-invalid',
): Promise<void> {
  const expired = why === 'page-expired';
  return sendPage(
    reply,
    400,
    errorPage({
      brand,
      title: expired ? m.accountPageExpiredTitle : m.linkInvalidTitle,
      code: why,
      message: expired ? m.accountPageExpiredMessage : m.linkInvalidMessage,
    }),
  );
}

/** GET /account/forgot: the form, or without mail set up, who to ask instead. */
export async function forgotGet(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  await sendPage(
    reply,
    200,
    forgotPage({
      brand: await pageBrand(deps, request),
      csrf: csrfToken(deps, request, reply),
      available: deps.config.smtpUrl !== undefined,
    }),
  );
}

/**
 * POST /account/forgot (DESIGN §7). Every address takes the same path and gets the same page:
 * the request is queued as typed and the mail worker finds out whether an enabled account has
 * it. Throttled per address as typed (silently: more requests queue nothing, and the page
 * does not say so) and per IP (429, which tells nothing about any account).
 */
export async function forgotPost(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const brand = await pageBrand(deps, request);
  const fields = form(request);
  if (!csrfValid(deps, request, fields['csrf'])) return refused(reply, brand, 'page-expired');
  const csrf = csrfToken(deps, request, reply);
  const page = (status: number, extra: { email?: string; error?: string } = {}) =>
    sendPage(
      reply,
      status,
      forgotPage({ brand, csrf, available: deps.config.smtpUrl !== undefined, ...extra }),
    );
  if (deps.config.smtpUrl === undefined) return page(200);
  const typed = (fields['email'] ?? '').trim();
  // Control characters never reach the outbox (PostgreSQL text cannot hold NUL).
  if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u.test(typed) || typed.length > 254)
    return page(400, { email: typed.slice(0, 254), error: m.forgotInvalidEmail });

  const ipKey = `forgot-ip:${request.ip}`;
  const emailKey = `forgot-email:${typed.toLowerCase()}`;
  const wait = deps.throttle.retryAfter([ipKey]);
  if (wait > 0) {
    deps.metrics.throttled.inc({ kind: 'forgot_password' });
    reply.header('retry-after', String(wait));
    return page(429, { email: typed, error: m.forgotTooMany(wait) });
  }
  const held = deps.throttle.retryAfter([emailKey]) > 0;
  // Every request counts, as a failure counts at the login form: the limits are on asking.
  await deps.throttle.fail([
    { key: emailKey, limit: deps.config.forgotPasswordLimit },
    { key: ipKey, limit: deps.config.forgotPasswordIpLimit },
  ]);
  if (!held)
    await deps.store.queueMail({
      id: randomUUID(),
      purpose: 'reset',
      userId: null,
      address: typed,
      queuedAt: deps.clock(),
    });
  await deps.audit.record({
    type: 'password.reset_requested',
    reason: held ? 'over the per-address limit: nothing queued' : 'queued',
    ...requestOrigin(request),
  });
  await sendPage(
    reply,
    200,
    noticePage({ brand, title: m.forgotSentTitle, message: m.forgotSentMessage }),
  );
}

/** The token of a link as sent; anything not shaped like one of ours finds nothing. */
function tokenOf(value: string | undefined): string | undefined {
  return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/** The live link's user, or undefined (unknown, used, expired, or the user disabled). */
async function linkUser(deps: OAuthDeps, purpose: AccountLinkPurpose, token: string | undefined) {
  if (token === undefined) return undefined;
  const link = await deps.store.findAccountLink(
    linkHash(deps.crypto, token),
    purpose,
    deps.clock(),
  );
  const user = link && (await deps.store.getUser(link.userId));
  return user && user.disabledAt === null ? user : undefined;
}

/** The setup or reset form, with this browser's CSRF token. */
function passwordForm(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  f: {
    brand: PageBrand | undefined;
    purpose: AccountLinkPurpose;
    token: string;
    email: string;
    error?: string;
  },
): Promise<void> {
  return sendPage(
    reply,
    status,
    setPasswordPage({ ...f, csrf: csrfToken(deps, request, reply), minLength: PASSWORD_MIN }),
  );
}

/**
 * GET /account/setup and /account/reset: the form for a live link. Opening it uses nothing
 * up: mail scanners open links before people do.
 */
export async function setPasswordGet(
  deps: OAuthDeps,
  purpose: AccountLinkPurpose,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const brand = await pageBrand(deps, request);
  const token = tokenOf((request.query as Record<string, unknown>)['token'] as string | undefined);
  const user = await linkUser(deps, purpose, token);
  if (!user || token === undefined) return refused(reply, brand, 'link-invalid');
  await passwordForm(deps, request, reply, 200, { brand, purpose, token, email: user.email });
}

/**
 * POST /account/setup and /account/reset. A live link and two equal passwords that pass the
 * rule set the password (the store uses the link up, verifies the address, ends the user's
 * sessions and revokes the refresh tokens, all at once); then this browser is signed in with
 * a fresh session and resumes the authorization it left, or is told it can return to the app.
 */
export async function setPasswordPost(
  deps: OAuthDeps,
  purpose: AccountLinkPurpose,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const brand = await pageBrand(deps, request);
  const fields = form(request);
  const token = tokenOf(fields['token']);
  const user = await linkUser(deps, purpose, token);
  const linkRefused = async () => {
    await deps.audit.record({
      type: 'password.link_refused',
      reason: purpose,
      ...requestOrigin(request),
    });
    return refused(reply, brand, 'link-invalid');
  };
  if (!user || token === undefined) return linkRefused();
  if (!csrfValid(deps, request, fields['csrf'])) return refused(reply, brand, 'page-expired');

  const password = fields['password'] ?? '';
  const problem = passwordProblem(password);
  const error =
    problem === 'short'
      ? m.passwordTooShort(PASSWORD_MIN)
      : problem === 'long'
        ? m.passwordTooLong(PASSWORD_MAX)
        : password !== fields['password_confirm']
          ? m.passwordsDiffer
          : undefined;
  if (error !== undefined)
    return passwordForm(deps, request, reply, 400, {
      brand,
      purpose,
      token,
      email: user.email,
      error,
    });

  const now = deps.clock();
  const updated = await deps.store.redeemAccountLink(
    linkHash(deps.crypto, token),
    purpose,
    await hashPassword(password),
    now,
  );
  // Another tab used the link first, or it expired while the password was hashed.
  if (!updated) return linkRefused();
  await deps.audit.record({
    type: 'password.set',
    userId: updated.id,
    reason: purpose,
    ...requestOrigin(request),
  });
  // Someone else signed in in this browser is signed out (as at the login form).
  if (await currentSession(deps, request)) await endSession(deps, request, reply);
  const session = await openSession(deps, reply, {
    userId: updated.id,
    subject: updated.id,
    tenantId: null,
  });
  const pending = takePending(deps, request, reply);
  if (pending) return resumeAuthorization(deps, request, reply, pending, session);
  await sendPage(
    reply,
    200,
    noticePage({ brand, title: m.passwordSetTitle, message: m.passwordSetMessage }),
  );
}
