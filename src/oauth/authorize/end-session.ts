import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Params, readParams, readQuery } from '../../http/params.js';
import type { OAuthDeps } from '../context.js';
import type { Client } from '../../store/store.js';
import { InvalidRequest } from '../../errors.js';
import { requestOrigin } from '../../observability/audit.js';
import { IdTokenHintInvalid, verifyIdTokenHint } from '../../tokens/id-token.js';
import { brandForClient } from '../../branding/service.js';
import { messages as m } from '../../views/messages/index.js';
import { type PageBrand, endSessionPage, errorPage } from '../../views/pages.js';
import { sendPage } from '../../views/send.js';
import { sessionSid } from '../oidc.js';
import { csrfToken, csrfValid, currentSession, endSession, refuseLogout } from './session.js';

/** The RP-Initiated Logout 1.0 §2 parameters Tessera reads, each with its length cap. */
const LIMITS = {
  id_token_hint: 8192,
  client_id: 256,
  post_logout_redirect_uri: 2048,
  state: 2048,
} as const;
type Field = keyof typeof LIMITS;

/** A request that cannot be answered as sent: an error page, nothing changes. */
class EndSessionRefused extends Error {
  constructor(
    readonly code: 'logout-invalid-request' | 'logout-unregistered-redirect',
    reason: string,
  ) {
    super(reason);
  }
}

interface Checked {
  /** The fields as sent (capped), for the confirmation form to post again. */
  readonly fields: Readonly<Partial<Record<Field, string>>>;
  readonly client: Client | undefined;
  /** The validated `post_logout_redirect_uri`, registered for `client`. */
  readonly redirectUri: string | undefined;
  /** The `sid` of a valid `id_token_hint`. */
  readonly hintSid: string | undefined;
}

function pick(params: Params): Partial<Record<Field, string>> {
  const fields: Partial<Record<Field, string>> = {};
  for (const [name, max] of Object.entries(LIMITS) as [Field, number][]) {
    const value = params[name];
    if (value === undefined) continue;
    if (value.length > max)
      throw new EndSessionRefused('logout-invalid-request', `${name} is longer than ${max}`);
    fields[name] = value;
  }
  return fields;
}

/**
 * The client is the one named by `client_id`, or else by the hint's `aud` (a hint Tessera
 * signed, expired or not: RP-Initiated Logout §2); `client_id` must be in the hint's `aud`.
 * A `post_logout_redirect_uri` must be one of that client's, exactly.
 */
async function check(deps: OAuthDeps, fields: Partial<Record<Field, string>>): Promise<Checked> {
  let hint: { aud?: string | string[] | undefined; sid?: unknown } | undefined;
  if (fields.id_token_hint !== undefined) {
    try {
      hint = await verifyIdTokenHint(deps.keystore, fields.id_token_hint, {
        issuer: deps.config.issuer,
        clientId: fields.client_id,
        clock: deps.clock,
      });
    } catch (err) {
      if (!(err instanceof IdTokenHintInvalid)) throw err;
      throw new EndSessionRefused('logout-invalid-request', err.message);
    }
  }
  const hintAud = typeof hint?.aud === 'string' ? hint.aud : hint?.aud?.[0];
  const clientId = fields.client_id ?? hintAud;
  const client = clientId === undefined ? undefined : await deps.clients.get(clientId);
  if (clientId !== undefined && !client)
    throw new EndSessionRefused('logout-invalid-request', `unknown client ${clientId}`);
  const uri = fields.post_logout_redirect_uri;
  if (uri !== undefined && !client?.postLogoutRedirectUris.includes(uri)) {
    throw new EndSessionRefused(
      'logout-unregistered-redirect',
      client
        ? `post_logout_redirect_uri is not registered for client ${client.id}`
        : 'post_logout_redirect_uri needs client_id or id_token_hint',
    );
  }
  return {
    fields,
    client,
    redirectUri: uri,
    hintSid: typeof hint?.sid === 'string' ? hint.sid : undefined,
  };
}

/** The session is over: to the registered URI with `state`, or the signed-out page. */
async function signedOut(deps: OAuthDeps, reply: FastifyReply, req: Checked): Promise<void> {
  if (req.redirectUri === undefined) {
    return sendPage(
      reply,
      200,
      errorPage({
        brand: await brand(deps, req.client),
        title: m.signedOutTitle,
        code: 'signed-out',
        message: m.signedOutMessage,
      }),
    );
  }
  const url = new URL(req.redirectUri);
  if (req.fields.state !== undefined) url.searchParams.set('state', req.fields.state);
  await reply.code(303).header('location', url.href).send();
}

/** The client's branding when the request names a client; the neutral default otherwise. */
async function brand(deps: OAuthDeps, client: Client | undefined): Promise<PageBrand | undefined> {
  return client ? brandForClient(deps.store, client) : undefined;
}

/**
 * GET and POST /oauth/end-session (RP-Initiated Logout 1.0, DESIGN §6). Without a session,
 * or with a hint for the browser's current session, it signs out at once; otherwise the
 * user confirms on a page whose form posts back here with the CSRF token and `confirm`.
 * An unregistered `post_logout_redirect_uri` is never followed.
 */
export async function endSessionEndpoint(
  deps: OAuthDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  let req: Checked;
  let params: Params;
  try {
    params = request.method === 'POST' ? readParams(request) : readQuery(request);
    req = await check(deps, pick(params));
  } catch (err) {
    if (!(err instanceof EndSessionRefused || err instanceof InvalidRequest)) throw err;
    const unregistered =
      err instanceof EndSessionRefused && err.code === 'logout-unregistered-redirect';
    await deps.audit.record({
      type: 'logout.refused',
      clientId: null,
      reason: err.message,
      ...requestOrigin(request),
    });
    return sendPage(
      reply,
      400,
      errorPage({
        title: m.endSessionRefusedTitle,
        code: unregistered ? 'logout-unregistered-redirect' : 'logout-invalid-request',
        message: unregistered ? m.endSessionUnregisteredMessage : m.endSessionInvalidMessage,
      }),
    );
  }
  const session = await currentSession(deps, request);
  const confirmed = request.method === 'POST' && params['confirm'] !== undefined;
  if (confirmed && !csrfValid(deps, request, params['csrf'])) {
    return refuseLogout(reply);
  }
  if (session && !confirmed && req.hintSid !== sessionSid(session)) {
    return sendPage(
      reply,
      200,
      endSessionPage({
        brand: await brand(deps, req.client),
        csrf: csrfToken(deps, request, reply),
        fields: req.fields,
        clientName: req.client?.name,
      }),
    );
  }
  await endSession(deps, request, reply);
  return signedOut(deps, reply, req);
}
