import type { OAuthDeps } from '../context.js';
import type { Client } from '../../store/store.js';
import {
  InvalidRequest,
  InvalidScope,
  type OAuthError,
  UnauthorizedClient,
  UnsupportedResponseType,
} from '../../errors.js';
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
  /** `prompt=login`: ask for the password even with a session. */
  readonly forceLogin: boolean;
}

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

/** RFC 6749 §4.1.1 and RFC 7636 §4.3, after the client and redirect URI are trusted. */
export function validateAuthorizationRequest(
  client: Client,
  redirectUri: string,
  query: Readonly<Record<string, string>>,
): AuthorizationRequest {
  const state = query['state'];
  const fail = (error: OAuthError) => new RedirectableError(error, redirectUri, state);
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
  const unknown = scopes.find((s) => !client.scopes.includes(s));
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
  return {
    clientId: client.id,
    redirectUri,
    redirectUriSent: query['redirect_uri'] !== undefined,
    state,
    scopes,
    codeChallenge: challenge,
    codeChallengeMethod: challenge === undefined ? undefined : 'S256',
    forceLogin: (query['prompt'] ?? '').split(' ').includes('login'),
  };
}
