/**
 * The components every area refers to: the error bodies and the responses that carry them,
 * the caching and challenge headers, and the security schemes.
 */
import { ADMIN_SCOPE } from '../admin/bodies.js';
import type { Config } from '../config/options.js';
import { REALM } from '../oauth/bearer.js';
import { BODY_LIMIT } from '../http/params.js';
import { CSRF_COOKIE, SESSION_COOKIE } from '../oauth/authorize/session.js';
import { ERROR_CLASSES } from '../errors.js';
import { INTROSPECT_SCOPE } from '../oauth/introspect.js';
import {
  type Area,
  type Schema,
  errorResponse,
  header,
  json,
  object,
  ok,
  ref,
  string,
} from './build.js';

const ERROR_CODES = ERROR_CLASSES.map((E) => new E('').code);

const schemas: Record<string, Schema> = {
  OAuthError: object(
    {
      error: { type: 'string', enum: ERROR_CODES, description: 'The stable code to switch on.' },
      error_description: string('For people; the wording may change.'),
    },
    undefined,
    { description: 'RFC 6749 §5.2 error body, sent by every JSON endpoint in every dialect.' },
  ),
  NotFound: object(
    {
      error: { const: 'not_found' },
      error_description: string(),
    },
    ['error'],
    { description: 'No such endpoint, or no such object.' },
  ),
  Conflict: object({
    error: { const: 'conflict' },
    error_description: string(),
  }),
};

const headers: Record<string, Schema> = {
  NoStore: {
    description: 'Every answer that is not a public document (RFC 6749 §5.1).',
    schema: { const: 'no-store' },
  },
  NoCache: {
    description: 'With `Cache-Control: no-store`, for HTTP/1.0 caches.',
    schema: { const: 'no-cache' },
  },
  RetryAfter: {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'integer' },
  },
  WwwAuthenticateBasic: {
    description: `\`Basic realm="${REALM}", charset="UTF-8"\` when the client used Basic authentication.`,
    schema: { type: 'string' },
  },
  WwwAuthenticateBearer: {
    description: `RFC 6750 §3: \`Bearer realm="${REALM}"\`, plus \`error\` and \`error_description\` when a token was presented, and \`scope\` when one is missing.`,
    schema: { type: 'string' },
  },
  Location: { description: 'Where the browser goes next.', schema: { type: 'string' } },
  SetSessionCookie: {
    description: `\`${SESSION_COOKIE}\`: the login session (HttpOnly, SameSite=Lax, Secure on https); \`${CSRF_COOKIE}\`: the login form's CSRF token.`,
    schema: { type: 'string' },
  },
};

const bearerChallenge = { 'WWW-Authenticate': header('WwwAuthenticateBearer') };

const responses: Record<string, Schema> = {
  InvalidRequest: errorResponse(
    `Malformed request: bad body, a parameter given twice, a required parameter missing, a body over ${BODY_LIMIT / 1024} KiB, client authenticated two ways, a malformed \`Authorization\` header (then with a Bearer challenge).`,
    ['invalid_request'],
    bearerChallenge,
  ),
  InvalidClient: errorResponse(
    'Client authentication failed, or too many failures from this address (then with `Retry-After`).',
    ['invalid_client'],
    {
      'WWW-Authenticate': header('WwwAuthenticateBasic'),
      'Retry-After': header('RetryAfter'),
    },
  ),
  InvalidToken: errorResponse(
    'The bearer token is missing, malformed, expired, revoked or for another audience.',
    ['invalid_token'],
    bearerChallenge,
  ),
  InsufficientScope: errorResponse(
    'The token lacks the scope (or tenant) the resource needs.',
    ['insufficient_scope'],
    bearerChallenge,
  ),
  NotFound: ok('No such object (or endpoint).', json(ref('NotFound'))),
  Conflict: ok('It already exists.', json(ref('Conflict'))),
  ServerError: errorResponse('An unexpected failure; the cause is logged, never shown.', [
    'server_error',
  ]),
  TemporarilyUnavailable: errorResponse(
    'The database cannot be reached; retry after `Retry-After` seconds.',
    ['temporarily_unavailable'],
    { 'Retry-After': header('RetryAfter') },
  ),
};

function securitySchemes(config: Pick<Config, 'issuer'>): Record<string, Schema> {
  return {
    clientSecretBasic: {
      type: 'http',
      scheme: 'basic',
      description:
        '`client_secret_basic` (RFC 6749 §2.3.1): `client_id:client_secret`, each form-encoded, then Base64. The alternative, `client_secret_post`, sends `client_id` and `client_secret` in the (form or JSON) body; using both at once is `invalid_request`. A public client sends only `client_id` (and must use PKCE).',
    },
    bearerToken: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: `An RFC 9068 access token from this server, in \`Authorization: Bearer\` (RFC 6750 §2.1; never in the query). Refusals carry \`WWW-Authenticate: Bearer realm="${REALM}", error=…\`.`,
    },
    oauth2: {
      type: 'oauth2',
      description: `Tokens from this server. The admin API wants a client_credentials token of a client registered with the \`${ADMIN_SCOPE}\` scope.`,
      flows: {
        clientCredentials: {
          tokenUrl: `${config.issuer}/oauth/token`,
          scopes: {
            [ADMIN_SCOPE]: 'The admin API (/admin/v1).',
            [INTROSPECT_SCOPE]: 'Introspect tokens of any client (a resource server).',
          },
        },
        authorizationCode: {
          authorizationUrl: `${config.issuer}/oauth/authorize`,
          tokenUrl: `${config.issuer}/oauth/token`,
          scopes: {},
        },
      },
    },
  };
}

/** The shared components; they have no paths of their own. */
export function sharedArea(config: Pick<Config, 'issuer'>): Area {
  return {
    paths: {},
    components: { schemas, responses, headers, securitySchemes: securitySchemes(config) },
  };
}
