import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readParams } from '../../http/params.js';
import type { OAuthDeps } from '../context.js';
import type { Client, Consent, Session, User } from '../../store/store.js';
import { requestOrigin } from '../../observability/audit.js';
import { authorizationCode } from '../../tokens/opaque.js';
import { brandForClient } from '../../branding/service.js';
import { messages as m } from '../../views/messages/index.js';
import {
  type MismatchProblem,
  consentPage,
  errorPage,
  loginPage,
  mismatchPage,
  tenantPickerPage,
} from '../../views/pages.js';
import { sendPage } from '../../views/send.js';
import {
  AccessDenied,
  AccountSelectionRequired,
  ConsentRequired,
  InvalidRequest,
  LoginRequired,
  type OAuthError,
} from '../../errors.js';
import { IdTokenHintInvalid, verifyIdTokenHint } from '../../tokens/id-token.js';
import { isOpenIdRequest, sessionSid } from '../oidc.js';
import { passwordMatches } from '../password.js';
import {
  type AuthorizationRequest,
  ConfigurationMismatch,
  RedirectableError,
  trustedClient,
  validateAuthorizationRequest,
} from './request.js';
import {
  csrfToken,
  csrfValid,
  currentSession,
  endSession,
  keepPending,
  openSession,
  refuseLogout,
} from './session.js';
import { ACCOUNT_PATHS } from '../account/links.js';
import { openTransaction, sealTransaction } from './transaction.js';

/** RFC 6749 §4.1.2 / §4.1.2.1 with RFC 9207 `iss`: a 303 to the validated redirect URI. */
async function redirectTo(
  deps: OAuthDeps,
  reply: FastifyReply,
  redirectUri: string,
  params: Record<string, string | undefined>,
) {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  url.searchParams.set('iss', deps.config.issuer);
  await reply.code(303).header('location', url.href).send();
}

function redirectError(deps: OAuthDeps, reply: FastifyReply, err: RedirectableError) {
  return redirectTo(deps, reply, err.redirectUri, {
    error: err.error.code,
    error_description: err.error.description,
    state: err.state,
  });
}

/** Tenants this session may act for with this client: the user's (or the launch's), narrowed to the client's. */
async function allowedTenants(
  deps: OAuthDeps,
  client: Client,
  session: Session,
): Promise<{ id: string; name: string }[] | undefined> {
  let ids: readonly string[];
  if (session.userId !== null) {
    const user = await deps.store.getUser(session.userId);
    if (!user || user.disabledAt !== null) return undefined;
    ids = user.tenants;
  } else {
    ids = session.tenantId === null ? [] : [session.tenantId];
  }
  const bound = client.tenants.map((t) => t.id);
  const allowed = bound.length > 0 ? ids.filter((id) => bound.includes(id)) : ids;
  const tenants = await Promise.all(allowed.map((id) => deps.store.getTenant(id)));
  return tenants.filter((t) => t !== undefined).map((t) => ({ id: t.id, name: t.name }));
}

async function issueCode(
  deps: OAuthDeps,
  reply: FastifyReply,
  req: AuthorizationRequest,
  session: Session,
  tenantId: string,
) {
  const code = authorizationCode();
  const now = deps.clock();
  await deps.store.insertAuthorizationCode({
    codeHash: deps.crypto.hashSecret(code),
    clientId: req.clientId,
    userId: session.subject,
    tenantId,
    redirectUri: req.redirectUri,
    redirectUriSent: req.redirectUriSent,
    state: req.state ?? null,
    scope: req.scopes.join(' '),
    codeChallenge: req.codeChallenge ?? null,
    codeChallengeMethod: req.codeChallengeMethod ?? null,
    grantId: randomUUID(),
    createdAt: now,
    expiresAt: now + deps.config.codeTtl,
    consumedAt: null,
    nonce: isOpenIdRequest(req.scopes) ? (req.nonce ?? null) : null,
    // Every code: its refresh family is the session's to end (DESIGN §6).
    authTime: session.createdAt,
    sid: sessionSid(session),
  });
  await redirectTo(deps, reply, req.redirectUri, { code, state: req.state });
}

/** Whether a remembered grant holds every scope asked for: a subset needs no prompt. */
function covered(consent: Consent | undefined, scopes: readonly string[]): boolean {
  return consent !== undefined && scopes.every((s) => consent.scopes.includes(s));
}

/**
 * DESIGN §6: a `consent` client gets a code only for scopes the user allowed it, remembered
 * per (user, client); otherwise (or with `prompt=consent`) the consent page asks. A Cisco
 * Spaces launch session has no user to ask: its tenant's app signs in without a prompt, but
 * without `offline_access`, which such a client gets only through consent.
 */
async function consentThenIssue(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  client: Client,
  req: AuthorizationRequest,
  session: Session,
  tenantId: string,
): Promise<void> {
  if (!client.consent) return issueCode(deps, reply, req, session, tenantId);
  if (session.userId === null) {
    const scopes = req.scopes.filter((s) => s !== 'offline_access');
    return issueCode(deps, reply, { ...req, scopes }, session, tenantId);
  }
  const remembered = await deps.store.getConsent(session.userId, client.id);
  if (!req.forceConsent && covered(remembered, req.scopes))
    return issueCode(deps, reply, req, session, tenantId);
  if (req.promptNone)
    throw new RedirectableError(
      new ConsentRequired('the user has not allowed this application these scopes'),
      req.redirectUri,
      req.state,
    );
  const user = await deps.store.getUser(session.userId);
  await sendPage(
    reply,
    200,
    consentPage({
      txn: sealTransaction(deps, { ...req, consentFor: { subject: session.subject, tenantId } }),
      csrf: csrfToken(deps, request, reply),
      clientName: client.name,
      scopes: req.scopes,
      signedInAs: user?.email ?? session.subject,
      brand: await brandForClient(deps.store, client),
    }),
  );
}

/** With a session: pick the tenant (at once when there is one) and issue the code. */
async function continueWithSession(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  client: Client,
  req: AuthorizationRequest,
  session: Session,
  chosenTenant?: string,
): Promise<void> {
  const tenants = await allowedTenants(deps, client, session);
  if (!tenants || tenants.length === 0) {
    throw new RedirectableError(
      new AccessDenied('this account has no access to an organisation this application serves'),
      req.redirectUri,
      req.state,
    );
  }
  if (chosenTenant !== undefined) {
    if (!tenants.some((t) => t.id === chosenTenant))
      throw new RedirectableError(
        new AccessDenied('organisation not available'),
        req.redirectUri,
        req.state,
      );
    return consentThenIssue(deps, request, reply, client, req, session, chosenTenant);
  }
  if (tenants.length === 1 && !req.selectAccount)
    return consentThenIssue(
      deps,
      request,
      reply,
      client,
      req,
      session,
      (tenants[0] as { id: string }).id,
    );
  if (req.promptNone)
    throw new RedirectableError(
      new AccountSelectionRequired('the user must pick an organisation'),
      req.redirectUri,
      req.state,
    );
  await sendPage(
    reply,
    200,
    tenantPickerPage({
      txn: sealTransaction(deps, req),
      csrf: csrfToken(deps, request, reply),
      clientName: client.name,
      tenants,
      brand: await brandForClient(deps.store, client),
    }),
  );
}

async function showLogin(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  client: Client,
  req: AuthorizationRequest,
  status = 200,
  failure?: { email: string; retryAfter?: number },
) {
  if (failure?.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
  const brand = await brandForClient(deps.store, client);
  const txn = sealTransaction(deps, req);
  if (deps.config.smtpUrl !== undefined) keepPending(deps, reply, txn);
  return sendPage(
    reply,
    status,
    loginPage({
      txn,
      forgotUrl: deps.config.smtpUrl === undefined ? undefined : ACCOUNT_PATHS.forgot,
      csrf: csrfToken(deps, request, reply),
      clientName: client.name,
      email: failure?.email ?? req.loginHint,
      brand,
      // Every failed login reads the same: it never tells whether the account exists.
      error:
        failure?.retryAfter !== undefined
          ? m.lockedOut(failure.retryAfter)
          : failure
            ? m.loginFailed
            : undefined,
    }),
  );
}

/**
 * The whole mismatch for the audit trail: what is registered first, so a long hostile value
 * sent cannot push it past the reason's length limit.
 */
function mismatchReason(problem: MismatchProblem): string {
  const list = (uris: readonly string[]) => uris.join(', ') || '(none)';
  switch (problem.kind) {
    case 'missing-client':
      return 'client_id missing';
    case 'unknown-client':
      return 'client_id not registered';
    case 'missing-redirect':
      return `redirect_uri missing; registered: ${list(problem.registered)}`;
    case 'unregistered-redirect': {
      const hint = problem.spaces
        ? `; the request comes from a Cisco Spaces ${problem.spaces.sent} app, but only ${problem.spaces.registered.join('/')} redirect URIs are registered`
        : '';
      return `redirect_uri not registered; registered: ${list(problem.registered)}${hint}; sent: ${problem.sent}`;
    }
    case 'repeated':
      return `${problem.field} given more than once`;
  }
}

/**
 * Wraps both handlers: trust failures become the mismatch page (which anyone may see, so it
 * names only the field; the audit event has the rest), others go back by redirect.
 */
async function guard(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof ConfigurationMismatch) {
      const { problem } = err;
      await deps.audit.record({
        type: 'authorize.mismatch',
        clientId: 'clientId' in problem ? problem.clientId : null,
        reason: mismatchReason(problem),
        ...requestOrigin(request),
      });
      return sendPage(reply, 400, mismatchPage(err.field, problem, request.id));
    }
    if (err instanceof RedirectableError) return redirectError(deps, reply, err);
    throw err;
  }
}

function queryParams(request: FastifyRequest): Record<string, string> {
  const raw = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [k, v] of new URLSearchParams(raw)) {
    // RFC 6749 §3.1: parameters must not repeat. A repeated client_id or redirect_uri cannot be trusted.
    if (seen.has(k)) {
      if (k === 'client_id' || k === 'redirect_uri')
        throw new ConfigurationMismatch(k, { kind: 'repeated', field: k });
      throw new InvalidRequest(`parameter ${k} given more than once`);
    }
    seen.add(k);
    if (v.length > 0) out[k] = v;
  }
  return out;
}

/**
 * Whether the login session may answer this request without a password: not with
 * `prompt=login` (or `max_age=0`) unless it was opened after the request, not when its
 * login is older than `max_age`, not for another subject than the `id_token_hint`'s, and a
 * Cisco Spaces launch session signs in with OpenID Connect only the clients bound to its
 * tenant (DESIGN §6: an ID Token asserts the tenant to the tenant's own apps alone).
 */
function sessionSatisfies(
  req: AuthorizationRequest,
  client: Client,
  session: Session,
  now: number,
): boolean {
  if (
    session.userId === null &&
    isOpenIdRequest(req.scopes) &&
    !client.tenants.some((t) => t.id === session.tenantId)
  )
    return false;
  if (req.forceLogin && (req.requestedAt === undefined || session.createdAt < req.requestedAt))
    return false;
  if (req.maxAge !== undefined && now - session.createdAt > req.maxAge) return false;
  return req.hintSubject === undefined || req.hintSubject === session.subject;
}

/**
 * The request once the password was typed: whoever the `id_token_hint` named, the user has
 * now said who they are, so the tenant picker that may follow must not send them back.
 */
function answeredByLogin(req: AuthorizationRequest): AuthorizationRequest {
  if (req.hintSubject === undefined) return req;
  const answered: { -readonly [K in keyof AuthorizationRequest]: AuthorizationRequest[K] } = {
    ...req,
  };
  delete answered.hintSubject;
  return answered;
}

/** Core §3.1.2.1 `id_token_hint`: its subject, once the hint is shown to be ours and the client's. */
async function withHint(
  deps: OAuthDeps,
  req: AuthorizationRequest,
  hint: string | undefined,
): Promise<AuthorizationRequest> {
  if (hint === undefined) return req;
  try {
    const { sub } = await verifyIdTokenHint(deps.keystore, hint, {
      issuer: deps.config.issuer,
      clientId: req.clientId,
      clock: deps.clock,
    });
    return { ...req, hintSubject: sub };
  } catch (err) {
    if (!(err instanceof IdTokenHintInvalid)) throw err;
    throw new RedirectableError(new InvalidRequest(err.message), req.redirectUri, req.state);
  }
}

/** GET /oauth/authorize: validate, then log in (or reuse the session) and pick a tenant. */
export function authorizeGet(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  return guard(deps, request, reply, async () => {
    let query: Record<string, string>;
    let repeated: OAuthError | undefined;
    try {
      query = queryParams(request);
    } catch (err) {
      if (!(err instanceof InvalidRequest)) throw err;
      // Redirect the error only once client and redirect URI are known to be sound.
      repeated = err;
      query = Object.fromEntries(
        new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1)),
      );
    }
    const { client, redirectUri } = await trustedClient(deps, query);
    if (repeated) throw new RedirectableError(repeated, redirectUri, query['state']);
    const now = deps.clock();
    const req = await withHint(
      deps,
      validateAuthorizationRequest(client, redirectUri, query, now),
      query['id_token_hint'],
    );
    // A password is asked for on this page view: a session never satisfies prompt=login here.
    const session = req.forceLogin ? undefined : await currentSession(deps, request);
    if (session && sessionSatisfies(req, client, session, now))
      return continueWithSession(deps, request, reply, client, req, session);
    if (req.promptNone)
      throw new RedirectableError(
        new LoginRequired('no login session satisfies this request'),
        req.redirectUri,
        req.state,
      );
    await showLogin(deps, request, reply, client, req);
  });
}

/** The user behind an email and password, or why not (for the audit trail only). */
async function checkPassword(
  deps: OAuthDeps,
  email: string,
  password: string,
): Promise<{ user: User } | { reason: string; userId?: string }> {
  const user =
    email.length > 0 && email.length <= 254 ? await deps.store.getUserByEmail(email) : undefined;
  const matches = await passwordMatches(user?.passwordHash, password);
  if (!user) return { reason: 'no account with this email' };
  if (user.passwordHash === '') return { reason: 'invited; no password set yet', userId: user.id };
  if (!matches) return { reason: 'wrong password', userId: user.id };
  if (user.disabledAt !== null) return { reason: 'account disabled', userId: user.id };
  return { user };
}

/**
 * The login form's post, throttled three ways (the email as typed, whether or not such an
 * account exists, so a refusal reveals nothing): hard per (account, IP), so one address
 * cannot lock the owner out from elsewhere; softly per account, a short doubling wait that
 * slows guesses spread over many addresses yet lets the owner in soon; hard per IP. Every
 * outcome is audited. Sends the failure or wait page itself and returns undefined then.
 */
async function logIn(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  client: Client,
  req: AuthorizationRequest,
  form: Readonly<Record<string, string>>,
): Promise<User | undefined> {
  const email = (form['email'] ?? '').trim().toLowerCase();
  const origin = { clientId: client.id, ...requestOrigin(request) };
  // Distinct prefixes: a typed email holding a newline and an IP must not name a pair's key.
  const rules = [
    {
      key: `login-pair:${email}\n${request.ip}`,
      limit: deps.config.loginFailureLimit,
      scope: 'this account from this IP',
    },
    {
      key: `login-account:${email}`,
      limit: deps.config.loginAccountFailureLimit,
      maxWait: deps.config.loginMaxWait,
      scope: 'this account',
    },
    { key: `login-ip:${request.ip}`, limit: deps.config.loginIpFailureLimit, scope: 'this IP' },
  ];
  const locked = deps.throttle.retryAfter(rules.map((r) => r.key));
  if (locked > 0) {
    await showLogin(deps, request, reply, client, req, 429, {
      email: form['email'] ?? '',
      retryAfter: locked,
    });
    return undefined;
  }
  const result = await checkPassword(deps, email, form['password'] ?? '');
  if ('user' in result) {
    deps.metrics.logins.inc({ outcome: 'succeeded' });
    await deps.audit.record({ type: 'login.succeeded', userId: result.user.id, ...origin });
    return result.user;
  }
  await deps.audit.record({
    type: 'login.failed',
    userId: result.userId ?? null,
    reason: result.reason,
    ...origin,
  });
  const wait = await deps.throttle.fail(rules);
  deps.metrics.logins.inc({ outcome: wait > 0 ? 'locked' : 'failed' });
  if (wait > 0) {
    deps.metrics.throttled.inc({ kind: 'login' });
    const over = rules.filter((r) => deps.throttle.retryAfter([r.key]) > 0).map((r) => r.scope);
    await deps.audit.record({
      type: 'login.locked',
      userId: result.userId ?? null,
      reason: `refused for ${wait} s: ${over.join(', ')}`,
      ...origin,
    });
    await showLogin(deps, request, reply, client, req, 429, {
      email: form['email'] ?? '',
      retryAfter: wait,
    });
  } else {
    await showLogin(deps, request, reply, client, req, 401, { email: form['email'] ?? '' });
  }
  return undefined;
}

function expiredPage(reply: FastifyReply) {
  return sendPage(
    reply,
    400,
    errorPage({ title: m.expiredTitle, code: 'login-expired', message: m.expiredMessage }),
  );
}

/**
 * The consent page's answer. It counts only from the session it was shown to; anything else
 * (a login form's transaction, another user's page, an unknown answer) is an expired page.
 * Allow remembers the scopes (with those allowed before) and continues; Deny remembers
 * nothing and sends `access_denied` back.
 */
async function answerConsent(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  client: Client,
  req: AuthorizationRequest,
  answer: string,
): Promise<void> {
  const asked = req.consentFor;
  const session = await currentSession(deps, request);
  if (
    !asked ||
    !session ||
    session.userId === null ||
    session.subject !== asked.subject ||
    (answer !== 'allow' && answer !== 'deny')
  )
    return expiredPage(reply);
  const who = { userId: session.userId, clientId: client.id, ...requestOrigin(request) };
  if (answer === 'deny') {
    await deps.audit.record({ type: 'consent.denied', ...who });
    throw new RedirectableError(
      new AccessDenied('the user denied this application access'),
      req.redirectUri,
      req.state,
    );
  }
  const before = await deps.store.getConsent(session.userId, client.id);
  const scopes = [...new Set([...(before?.scopes ?? []), ...req.scopes])];
  await deps.store.putConsent({
    userId: session.userId,
    clientId: client.id,
    scopes,
    grantedAt: deps.clock(),
  });
  await deps.audit.record({ type: 'consent.granted', reason: scopes.join(' '), ...who });
  const answered: { -readonly [K in keyof AuthorizationRequest]: AuthorizationRequest[K] } = {
    ...req,
  };
  delete answered.consentFor;
  delete answered.forceConsent;
  return continueWithSession(deps, request, reply, client, answered, session, asked.tenantId);
}

/** POST /oauth/authorize: the login form, the tenant picker or the consent page. */
export function authorizePost(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  return guard(deps, request, reply, async () => {
    const form = readParams(request);
    const req = openTransaction(deps, form['txn']);
    if (!req || !csrfValid(deps, request, form['csrf'])) return expiredPage(reply);
    // Re-check the client: it may have been changed or deleted while the page was open.
    const { client, redirectUri } = await trustedClient(deps, {
      client_id: req.clientId,
      redirect_uri: req.redirectUri,
    });
    const checked = { ...req, redirectUri };
    if (form['consent'] !== undefined)
      return answerConsent(deps, request, reply, client, checked, form['consent']);
    if (form['email'] !== undefined || form['password'] !== undefined) {
      const user = await logIn(deps, request, reply, client, checked, form);
      if (!user) return;
      // Signing in as someone else ends the session of whoever was signed in (DESIGN §6).
      const previous = await currentSession(deps, request);
      if (previous && previous.subject !== user.id) await endSession(deps, request, reply);
      const session = await openSession(deps, reply, {
        userId: user.id,
        subject: user.id,
        tenantId: null,
      });
      return continueWithSession(deps, request, reply, client, answeredByLogin(checked), session);
    }
    const session = await currentSession(deps, request);
    if (!session || !sessionSatisfies(checked, client, session, deps.clock()))
      return showLogin(deps, request, reply, client, checked);
    return continueWithSession(deps, request, reply, client, checked, session, form['tenant']);
  });
}

/**
 * DESIGN §7: after a password was set in this browser and `session` opened for it, the
 * authorization this browser left for it (takePending) goes on, checked again as the login
 * form's post would be: the client and redirect URI as registered now, a fresh session, the
 * consent and tenant steps still ahead.
 */
export function resumeAuthorization(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  req: AuthorizationRequest,
  session: Session,
): Promise<void> {
  return guard(deps, request, reply, async () => {
    const { client, redirectUri } = await trustedClient(deps, {
      client_id: req.clientId,
      redirect_uri: req.redirectUri,
    });
    await continueWithSession(
      deps,
      request,
      reply,
      client,
      answeredByLogin({ ...req, redirectUri }),
      session,
    );
  });
}

/** The form's `csrf` field; a body readParams refuses (a repeated field) carries none. */
function postedCsrf(request: FastifyRequest): string | undefined {
  try {
    return readParams(request)['csrf'];
  } catch (err) {
    if (err instanceof InvalidRequest) return undefined;
    throw err;
  }
}

/**
 * POST /oauth/logout: ends the browser's login session, given the CSRF token of one of our
 * pages (the login page's or the tenant picker's). Without it any site could post a form
 * that signs the user out; SameSite=Lax alone does not stop a same-site (sibling
 * subdomain) page.
 */
export async function logoutEndpoint(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  if (!csrfValid(deps, request, postedCsrf(request))) {
    return refuseLogout(reply);
  }
  await endSession(deps, request, reply);
  await sendPage(
    reply,
    200,
    errorPage({ title: m.signedOutTitle, code: 'signed-out', message: m.signedOutMessage }),
  );
}
