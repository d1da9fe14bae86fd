import type { FastifyRequest } from 'fastify';
import { InvalidClient, InvalidRequest } from '../errors.js';
import type { OAuthDeps } from './context.js';
import type { Client } from '../store/store.js';
import type { Params } from '../http/params.js';

export interface AuthenticatedClient {
  readonly client: Client;
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before Base64, so decode them as forms are. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new InvalidRequest('malformed client credentials in Authorization header');
  }
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header);
  if (!match?.[1]) {
    if (/^Basic\b/i.test(header)) throw new InvalidRequest('malformed Basic Authorization header');
    return undefined;
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidRequest('malformed Basic Authorization header');
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

function clientFailure(basic: boolean, description: string): InvalidClient {
  const err = new InvalidClient(description);
  // RFC 6749 §5.2: a client that tried Basic gets a Basic challenge back.
  if (basic) err.headers['www-authenticate'] = 'Basic realm="tessera", charset="UTF-8"';
  return err;
}

/**
 * The client id a request claimed, authenticated or not, for the audit trail: from Basic
 * if it parses, else from the body; bounded in length.
 */
export function attemptedClientId(request: FastifyRequest, params: Params): string | null {
  let id: string | undefined;
  try {
    id = parseBasic(request.headers.authorization)?.id;
  } catch {
    id = undefined;
  }
  id ??= params['client_id'];
  return id === undefined ? null : id.slice(0, 128);
}

function throttled(basic: boolean, seconds: number): InvalidClient {
  const err = clientFailure(
    basic,
    'too many failed client authentications from this address; retry later',
  );
  err.headers['retry-after'] = String(seconds);
  return err;
}

/**
 * Authenticates the client of a token, revocation or introspection request:
 * `client_secret_basic`, the secret in the body (form or JSON), or — for a public client —
 * its `client_id` alone. Using two methods at once is `invalid_request`.
 */
export async function authenticateClient(
  request: FastifyRequest,
  params: Params,
  deps: OAuthDeps,
): Promise<AuthenticatedClient> {
  const basic = parseBasic(request.headers.authorization);
  if (basic && params['client_secret'] !== undefined) {
    throw new InvalidRequest('client authenticated twice (Authorization header and client_secret)');
  }
  if (basic && params['client_id'] !== undefined && params['client_id'] !== basic.id) {
    throw new InvalidRequest(
      'client_id differs from the client authenticated in the Authorization header',
    );
  }
  const id = basic?.id ?? params['client_id'];
  const secret = basic?.secret ?? params['client_secret'];
  if (id === undefined) throw clientFailure(false, 'client authentication required');
  // Throttled per (client_id, IP) and per IP: an attacker who knows a public client id such
  // as `dnaspaces` locks out only their own address, never the platform calling from elsewhere.
  const rules = [
    { key: `client:${id}\n${request.ip}`, limit: deps.config.clientAuthFailureLimit },
    { key: `client-ip:${request.ip}`, limit: deps.config.clientAuthIpFailureLimit },
  ];
  const wait = deps.throttle.retryAfter(rules.map((r) => r.key));
  if (wait > 0) throw throttled(basic !== undefined, wait);
  const client = await deps.clients.get(id);
  if (client && client.secretHash === null) {
    if (secret !== undefined)
      throw clientFailure(basic !== undefined, 'public clients have no secret');
    return { client, method: 'none' };
  }
  const now = deps.clock();
  const ok =
    secret !== undefined &&
    (deps.crypto.verifySecret(secret, client?.secretHash ?? null) ||
      (client?.previousSecretHash != null &&
        (client.previousSecretExpiresAt ?? 0) > now &&
        deps.crypto.verifySecret(secret, client.previousSecretHash)));
  if (!client || !ok) {
    // Counted only after the secret check failed: a caller with the right secret is never slowed.
    const blockedFor = await deps.throttle.fail(rules);
    if (blockedFor > 0) {
      deps.metrics.throttled.inc({ kind: 'client_auth' });
      await deps.audit.record({
        type: 'client.throttled',
        clientId: id.slice(0, 128),
        reason: `too many failed authentications; refused for ${blockedFor} s`,
        ip: request.ip,
        requestId: request.id,
      });
      throw throttled(basic !== undefined, blockedFor);
    }
    throw clientFailure(basic !== undefined, 'client authentication failed');
  }
  return { client, method: basic ? 'client_secret_basic' : 'client_secret_post' };
}
