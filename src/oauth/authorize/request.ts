import type { OAuthDeps } from '../context.js';
import type { Client } from '../../store/store.js';
import {
  InvalidRequest,
  InvalidScope,
  type OAuthError,
  RequestNotSupported,
  RequestUriNotSupported,
  UnauthorizedClient,
  UnsupportedResponseType,
} from '../../errors.js';
import { IDENTITY_SCOPES, PROMPT_VALUES } from '../oidc.js';
import type { MismatchProblem } from '../../views/pages.js';
import { redirectUriMatches } from '../redirect-uri.js';
import { parseScope } from '../token/issue.js';

/**
 * The client or redirect URI cannot be trusted, so the user is shown a page and never
 * redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.1). `field` names what did not match.
 */
export class ConfigurationMismatch extends Error {
  override name = 'ConfigurationMismatch';
  constructor(
    readonly field: 'client_id' | 'redirect_uri',
    readonly problem: MismatchProblem,
  ) {
    super(`configuration mismatch (${problem.kind}) on ${field}`);
  }
}

/** A validated authorization request: what the login form carries sealed, and the code binds. */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  /** Whether `redirect_uri` was sent (else the one registered was used; RFC 6749 §4.1.3). */
  readonly redirectUriSent: boolean;
  readonly state: string | undefined;
  readonly scopes: readonly string[];
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | undefined;
  /** `prompt=login` or `max_age=0`: ask for the password even with a session. */
  readonly forceLogin: boolean;
  /** When the request was validated: `forceLogin` wants a session opened after it. */
  readonly requestedAt?: number;
  /** OpenID Connect `nonce`, bound to the code and returned in the ID Token. */
  readonly nonce?: string;
  /** `prompt=none`: never show a page; errors go to the redirect URI. */
  readonly promptNone?: boolean;
  /** `prompt=select_account`: show the tenant picker even when one tenant is possible. */
  readonly selectAccount?: boolean;
  /** `prompt=consent`: a `consent` client asks again even for scopes allowed before. */
  readonly forceConsent?: boolean;
  /**
   * Sealed in the consent page only: the subject it was shown to and the tenant picked, so
   * its answer counts for them alone.
   */
  readonly consentFor?: { readonly subject: string; readonly tenantId: string };
  /** `max_age`: the session's login must be at most this many seconds old. */
  readonly maxAge?: number;
  /** `login_hint`: pre-fills the email field. */
  readonly loginHint?: string;
  /** The `sub` of a verified `id_token_hint`: a session of another subject will not do. */
  readonly hintSubject?: string;
}

/** Longest `nonce` and `login_hint` kept: both travel in the sealed login form. */
const MAX_NONCE = 512;
const MAX_LOGIN_HINT = 254;

/** An error that goes back to the (validated) redirect URI. */
export class RedirectableError extends Error {
  override name = 'RedirectableError';
  constructor(
    readonly error: OAuthError,
    readonly redirectUri: string,
    readonly state: string | undefined,
  ) {
    super(error.description);
  }
}

const SPACES_HOSTS: Record<string, string> = {
  'partners.dnaspaces.io': 'sandbox',
  'dnaspaces.io': 'live',
  'partners.dnaspaces.eu': 'sandbox',
  'dnaspaces.eu': 'live',
};

/** The common Spaces mistake: a live app pointed at a sandbox configuration, or back. */
function spacesMixUp(
  sent: string,
  registered: readonly string[],
): { sent: string; registered: string[] } | undefined {
  const host = (u: string) => {
    try {
      return new URL(u).hostname;
    } catch {
      return '';
    }
  };
  const sentKind = SPACES_HOSTS[host(sent)];
  const registeredKinds = new Set(
    registered.map((u) => SPACES_HOSTS[host(u)]).filter((k) => k !== undefined),
  );
  if (sentKind && registeredKinds.size > 0 && !registeredKinds.has(sentKind)) {
    return { sent: sentKind, registered: [...registeredKinds] };
  }
  return undefined;
}

/** Client and redirect URI first: until both are trusted, nothing may redirect. */
export async function trustedClient(
  deps: OAuthDeps,
  query: Readonly<Record<string, string>>,
): Promise<{ client: Client; redirectUri: string }> {
  const clientId = query['client_id'];
  if (clientId === undefined)
    throw new ConfigurationMismatch('client_id', { kind: 'missing-client' });
  const client = await deps.clients.get(clientId);
  if (!client) {
    throw new ConfigurationMismatch('client_id', { kind: 'unknown-client', clientId });
  }
  const sent = query['redirect_uri'];
  if (sent === undefined) {
    if (client.redirectUris.length === 1)
      return { client, redirectUri: client.redirectUris[0] as string };
    throw new ConfigurationMismatch('redirect_uri', {
      kind: 'missing-redirect',
      clientId: client.id,
      registered: client.redirectUris,
    });
  }
  if (!client.redirectUris.some((registered) => redirectUriMatches(registered, sent))) {
    throw new ConfigurationMismatch('redirect_uri', {
      kind: 'unregistered-redirect',
      clientId: client.id,
      sent,
      registered: client.redirectUris,
      spaces: spacesMixUp(sent, client.redirectUris),
    });
  }
  return { client, redirectUri: sent };
}

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Core §3.1.2.1 `prompt`: known values only, and `none` alone. */
function parsePrompt(value: string | undefined): Set<string> {
  const values = new Set((value ?? '').split(' ').filter((v) => v.length > 0));
  for (const v of values) {
    if (!PROMPT_VALUES.includes(v)) throw new InvalidRequest(`prompt value ${v} is not supported`);
  }
  if (values.has('none') && values.size > 1)
    throw new InvalidRequest('prompt=none cannot be combined with another value');
  return values;
}

/** Core §3.1.2.1 `max_age`: whole seconds. */
function parseMaxAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) throw new InvalidRequest('max_age must be whole seconds');
  return Number(value);
}

/** The OpenID Connect parameters (Core §3.1.2.1) of a request already sound in OAuth terms. */
function openIdParameters(query: Readonly<Record<string, string>>) {
  const nonce = query['nonce'];
  if (nonce !== undefined && nonce.length > MAX_NONCE)
    throw new InvalidRequest(`nonce is longer than ${MAX_NONCE} characters`);
  const loginHint = query['login_hint'];
  const prompt = parsePrompt(query['prompt']);
  const maxAge = parseMaxAge(query['max_age']);
  return {
    // max_age=0 asks for a login as fresh as prompt=login does (Core §3.1.2.1).
    forceLogin: prompt.has('login') || maxAge === 0,
    ...(nonce !== undefined && { nonce }),
    ...(prompt.has('none') && { promptNone: true }),
    ...(prompt.has('select_account') && { selectAccount: true }),
    ...(prompt.has('consent') && { forceConsent: true }),
    ...(maxAge !== undefined && maxAge > 0 && { maxAge }),
    // A hint too long to be an address is ignored, as a hint may be.
    ...(loginHint !== undefined && loginHint.length <= MAX_LOGIN_HINT && { loginHint }),
  };
}

/** RFC 6749 §4.1.1, RFC 7636 §4.3 and OpenID Connect Core §3.1.2.1, after the client and redirect URI are trusted. */
export function validateAuthorizationRequest(
  client: Client,
  redirectUri: string,
  query: Readonly<Record<string, string>>,
  now: number,
): AuthorizationRequest {
  const state = query['state'];
  const fail = (error: OAuthError) => new RedirectableError(error, redirectUri, state);
  // Core §6: request objects are not supported; said first, as nothing else can be trusted.
  if (query['request'] !== undefined)
    throw fail(new RequestNotSupported('request objects are not supported'));
  if (query['request_uri'] !== undefined)
    throw fail(new RequestUriNotSupported('request_uri is not supported'));
  const responseType = query['response_type'];
  if (responseType === undefined) throw fail(new InvalidRequest('response_type is required'));
  if (responseType !== 'code')
    throw fail(new UnsupportedResponseType('only response_type=code is supported'));
  if (!client.grants.includes('authorization_code')) {
    throw fail(new UnauthorizedClient('this client may not use the authorization code flow'));
  }
  let scopes: string[];
  try {
    scopes = parseScope(query['scope']);
  } catch (err) {
    throw fail(err as OAuthError);
  }
  const unknown = scopes.find((s) => !client.scopes.includes(s) && !IDENTITY_SCOPES.includes(s));
  if (unknown !== undefined)
    throw fail(new InvalidScope(`scope ${unknown} is not available to this client`));

  const challenge = query['code_challenge'];
  const method = query['code_challenge_method'];
  if (challenge === undefined) {
    if (method !== undefined)
      throw fail(new InvalidRequest('code_challenge_method without code_challenge'));
    if (client.requirePkce || client.secretHash === null)
      throw fail(new InvalidRequest('PKCE (code_challenge, S256) is required'));
  } else {
    // RFC 9700 §2.1.1: `plain` offers no protection against a leaked request; S256 only.
    if (method !== 'S256') throw fail(new InvalidRequest('code_challenge_method must be S256'));
    if (!PKCE_CHALLENGE.test(challenge))
      throw fail(new InvalidRequest('code_challenge must be a base64url SHA-256 hash'));
  }
  let oidc: ReturnType<typeof openIdParameters>;
  try {
    oidc = openIdParameters(query);
  } catch (err) {
    throw fail(err as OAuthError);
  }
  return {
    clientId: client.id,
    redirectUri,
    redirectUriSent: query['redirect_uri'] !== undefined,
    state,
    scopes,
    codeChallenge: challenge,
    codeChallengeMethod: challenge === undefined ? undefined : 'S256',
    requestedAt: now,
    ...oidc,
  };
}
