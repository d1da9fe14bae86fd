/**
 * The OpenAPI 3.1 description of every HTTP endpoint Tessera serves, built from the running
 * configuration (issuer, token endpoint aliases, custom dialects, where `/metrics` listens)
 * and served at `GET /openapi.json`. Bodies are in ./schemas.ts; this file is the paths,
 * their parameters, security and responses. test/http/openapi.test.ts checks it against the
 * routes the app registers and the bodies it actually sends.
 */
import { ADMIN_SCOPE } from '../admin/api.js';
import type { Config } from '../config/options.js';
import { REALM } from '../oauth/bearer.js';
import { BODY_LIMIT } from '../http/params.js';
import { CSRF_COOKIE, SESSION_COOKIE } from '../oauth/authorize/session.js';
import { INTROSPECT_SCOPE } from '../oauth/introspect.js';
import { BRAND_KINDS } from '../store/store.js';
import { STYLESHEET_PATH } from '../views/pages.js';
import { type Schema, componentSchemas, oauthErrorSchema, ref } from './schemas.js';

export type OpenApiConfig = Pick<
  Config,
  'issuer' | 'host' | 'metricsPort' | 'tokenEndpointAliases' | 'dialects' | 'userinfoScope'
>;

export const OPENAPI_PATH = '/openapi.json';

/**
 * The version of this description (OpenAPI `info.version`), not of the package: raised when
 * a path, parameter or body changes shape.
 */
export const DOCUMENT_VERSION = '1.0.0';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The HTTP methods of a path item, for walking a document. */
export function operationsOf(item: Schema): string[] {
  return Object.keys(item).filter((k) => HTTP_METHODS.includes(k));
}

/* ---------------------------------------------------------------------------------------- */
/* Building blocks                                                                          */
/* ---------------------------------------------------------------------------------------- */

const component = (kind: string, name: string): Schema => ({
  $ref: `#/components/${kind}/${name}`,
});
const response = (name: string) => component('responses', name);
const header = (name: string) => component('headers', name);
const parameter = (name: string) => component('parameters', name);

const json = (schema: Schema): Schema => ({ 'application/json': { schema } });
/** Form and JSON bodies of one schema: the OAuth and launch endpoints read both (DESIGN §3). */
const formOrJson = (schema: Schema): Schema => ({
  'application/x-www-form-urlencoded': { schema },
  'application/json': { schema },
});

/** The headers of an answer that must not be cached: every one but the public documents. */
const noStore = (headers: Schema = {}): Schema => ({
  'Cache-Control': header('NoStore'),
  Pragma: header('NoCache'),
  ...headers,
});

function ok(description: string, content: Schema, headers: Schema = {}): Schema {
  return { description, headers: noStore(headers), content };
}

/** A public, cacheable answer (discovery, keys, static files, this document). */
function cached(description: string, seconds: number, content: Schema): Schema {
  return {
    description,
    headers: {
      'Cache-Control': {
        description: 'Public: caches and resource servers may keep it this long.',
        schema: { const: `public, max-age=${seconds}` },
      },
    },
    content,
  };
}

const html = { 'text/html': { schema: { type: 'string' } } };
const page = (description: string, headers: Schema = {}): Schema => ok(description, html, headers);

/** A failure the one error serializer sends: `{error, error_description}`. */
function errorResponse(description: string, codes?: readonly string[], headers: Schema = {}) {
  return ok(description, json(oauthErrorSchema(codes)), headers);
}

/** What any endpoint that reads the store may answer besides its own responses. */
const STORE_FAILURES = {
  '500': response('ServerError'),
  '503': response('TemporarilyUnavailable'),
};

/** Token, revocation and introspection: the caller is an OAuth client. */
const CLIENT_FAILURES = {
  '400': response('InvalidRequest'),
  '401': response('InvalidClient'),
  ...STORE_FAILURES,
};

/** RFC 6750 resources: userinfo, App Info, the admin API. */
const BEARER_FAILURES = {
  '400': response('InvalidRequest'),
  '401': response('InvalidToken'),
  '403': response('InsufficientScope'),
  ...STORE_FAILURES,
};

/**
 * `client_secret_basic` is an HTTP scheme; `client_secret_post` and public clients (`none`)
 * put their credentials in the body, which OpenAPI has no scheme for: the empty requirement
 * says "no header", and the body schema carries `client_id` / `client_secret`.
 */
const CLIENT_AUTH = [{ clientSecretBasic: [] }, {}];
const BEARER = [{ bearerToken: [] }];

interface Operation {
  readonly id: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly security?: readonly Schema[];
  readonly parameters?: readonly Schema[];
  readonly body?: Schema;
  readonly responses: Schema;
}

function operation(o: Operation): Schema {
  return {
    operationId: o.id,
    tags: [o.tag],
    summary: o.summary,
    ...(o.description !== undefined && { description: o.description }),
    ...(o.security !== undefined && { security: o.security }),
    ...(o.parameters !== undefined && { parameters: o.parameters }),
    ...(o.body !== undefined && { requestBody: o.body }),
    responses: o.responses,
  };
}

const query = (name: string, description: string, required = false, schema: Schema = {}) => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string', ...schema },
});

/* ---------------------------------------------------------------------------------------- */
/* Components other than schemas                                                            */
/* ---------------------------------------------------------------------------------------- */

function securitySchemes(config: OpenApiConfig): Schema {
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
      description:
        'Tokens from this server. The admin API wants a client_credentials token of a client registered with the `tessera:admin` scope.',
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

const headers: Schema = {
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

const responses: Schema = {
  InvalidRequest: errorResponse(
    `Malformed request: bad body, a parameter given twice, a required parameter missing, a body over ${BODY_LIMIT / 1024} KiB, client authenticated two ways, a malformed \`Authorization\` header (then with a Bearer challenge).`,
    ['invalid_request'],
    { 'WWW-Authenticate': header('WwwAuthenticateBearer') },
  ),
  RevocationError: errorResponse(
    'Malformed request, or a confidential client presented a token issued to another client (RFC 7009 §2.1; nothing is revoked).',
    ['invalid_request', 'unauthorized_client'],
  ),
  TokenError: errorResponse('RFC 6749 §5.2 refusal.', [
    'invalid_request',
    'invalid_grant',
    'unauthorized_client',
    'unsupported_grant_type',
    'invalid_scope',
    'invalid_target',
  ]),
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
    { 'WWW-Authenticate': header('WwwAuthenticateBearer') },
  ),
  InsufficientScope: errorResponse(
    'The token lacks the scope (or tenant) the resource needs.',
    ['insufficient_scope'],
    { 'WWW-Authenticate': header('WwwAuthenticateBearer') },
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

const requestBodies: Schema = {
  TokenRequest: {
    required: true,
    description: `A form or a JSON object of string values; another or no content type is sniffed (\`{\` means JSON). At most ${BODY_LIMIT / 1024} KiB.`,
    content: formOrJson(ref('TokenRequest')),
  },
  TokenOperationRequest: {
    required: true,
    content: formOrJson(ref('TokenOperationRequest')),
  },
};

const parameters: Schema = {
  TenantId: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'Tenant id',
    schema: { type: 'string' },
  },
  ClientId: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'Client id',
    schema: { type: 'string' },
  },
  UserEmail: {
    name: 'email',
    in: 'path',
    required: true,
    description: 'The user’s email',
    schema: { type: 'string' },
  },
  BrandKind: {
    name: 'kind',
    in: 'path',
    required: true,
    description: 'Whose branding',
    schema: { enum: [...BRAND_KINDS] },
  },
  CacheBuster: query('v', 'Ignored; the pages add the branding’s update time so caches refresh.'),
};

/* ---------------------------------------------------------------------------------------- */
/* Paths                                                                                    */
/* ---------------------------------------------------------------------------------------- */

function tokenEndpoint(path: string): Schema {
  const primary = path === '/oauth/token';
  return {
    post: operation({
      id: primary ? 'token' : `token${path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      tag: 'oauth',
      summary: primary ? 'Token endpoint (RFC 6749 §3.2)' : `Token endpoint, at the alias ${path}`,
      description: `${primary ? '' : 'Answers exactly as `/oauth/token` (a configured `tokenEndpointAliases` path). '}Grants: client_credentials, authorization_code (PKCE S256), refresh_token (rotating, reuse revokes the family). The success body is shaped by the client’s dialect; errors are RFC 6749 JSON in every dialect.`,
      security: CLIENT_AUTH,
      body: component('requestBodies', 'TokenRequest'),
      responses: {
        '200': ok('Tokens, in the client’s dialect.', json(ref('TokenResponse'))),
        ...CLIENT_FAILURES,
        '400': response('TokenError'),
      },
    }),
  };
}

const authorizeQuery = [
  query('client_id', 'A registered client id.', true),
  query(
    'redirect_uri',
    'Exactly a registered redirect URI (optional when the client has one). A mismatch shows the `configuration-mismatch` page and never redirects.',
  ),
  query('response_type', '`code`.', true, { enum: ['code'] }),
  query('state', 'Returned verbatim.'),
  query('scope', 'Space-separated scopes, among the client’s.'),
  query('code_challenge', 'RFC 7636 S256 challenge (required for public clients).'),
  query('code_challenge_method', 'Only `S256`.', false, { enum: ['S256'] }),
  query('prompt', '`login` asks for the password even with a session.'),
];

const codeRedirect = {
  description:
    'To the redirect URI with `code`, `state` and `iss` (RFC 9207) — or, for an error after the client and redirect URI are trusted, `error`, `error_description`, `state` and `iss`.',
  headers: { Location: header('Location'), 'Set-Cookie': header('SetSessionCookie') },
};

function browserPaths(): Record<string, Schema> {
  return {
    '/oauth/authorize': {
      get: operation({
        id: 'authorize',
        tag: 'pages',
        summary: 'Authorization endpoint (RFC 6749 §4.1.1)',
        description:
          'Shows the login form (inputs `email` and `password`), or the tenant picker, or — with a login session — redirects at once.',
        parameters: authorizeQuery,
        responses: {
          '200': page('The login page or the tenant picker.', {
            'Set-Cookie': header('SetSessionCookie'),
          }),
          '303': codeRedirect,
          '400': page(
            'Unknown `client_id` or unregistered `redirect_uri`: a page with the code `configuration-mismatch` naming the field; never a redirect.',
          ),
          ...STORE_FAILURES,
        },
      }),
      post: operation({
        id: 'authorizeSubmit',
        tag: 'pages',
        summary: 'The login form and tenant picker post here',
        body: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                properties: {
                  txn: { type: 'string', description: 'Hidden: the sealed authorization request.' },
                  csrf: {
                    type: 'string',
                    description: `Hidden: equals the \`${CSRF_COOKIE}\` cookie.`,
                  },
                  email: { type: 'string' },
                  password: { type: 'string' },
                  tenant: { type: 'string', description: 'The picked tenant id.' },
                },
                required: ['txn', 'csrf'],
              },
            },
          },
        },
        responses: {
          '200': page('The tenant picker (a user in several tenants).'),
          '303': codeRedirect,
          '400': page(
            'The form expired (`login-expired`) or the client changed (`configuration-mismatch`).',
          ),
          '401': page('Sign-in failed; the message never says whether the account exists.'),
          '429': page('Too many failed sign-ins for this account or address.', {
            'Retry-After': header('RetryAfter'),
          }),
          ...STORE_FAILURES,
        },
      }),
    },
    '/oauth/logout': {
      post: operation({
        id: 'logout',
        tag: 'pages',
        summary: 'Ends the browser’s login session',
        body: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                properties: {
                  csrf: {
                    type: 'string',
                    description: `The hidden \`csrf\` field of a login or tenant-picker page; equals the \`${CSRF_COOKIE}\` cookie.`,
                  },
                },
                required: ['csrf'],
              },
            },
          },
        },
        responses: {
          '200': page('The signed-out page; the session cookie is cleared.', {
            'Set-Cookie': header('SetSessionCookie'),
          }),
          '403': page(
            'No CSRF token, or not the one of this browser’s `tessera_csrf` cookie (`logout-refused`): the session stays.',
          ),
          ...STORE_FAILURES,
        },
      }),
    },
    [STYLESHEET_PATH]: {
      get: operation({
        id: 'stylesheet',
        tag: 'pages',
        summary: 'The pages’ stylesheet',
        responses: { '200': cached('CSS.', 86400, { 'text/css': { schema: { type: 'string' } } }) },
      }),
    },
    '/branding/logo/{kind}/{id}': {
      get: operation({
        id: 'brandLogo',
        tag: 'pages',
        summary: 'An uploaded tenant or client logo',
        parameters: [
          parameter('BrandKind'),
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'Tenant or client id',
            schema: { type: 'string' },
          },
          parameter('CacheBuster'),
        ],
        responses: {
          '200': cached('The image, served with a sandboxing CSP.', 3600, {
            'image/png': {},
            'image/jpeg': {},
            'image/webp': {},
            'image/svg+xml': {},
          }),
          '404': response('NotFound'),
          ...STORE_FAILURES,
        },
      }),
    },
    '/branding/style/{kind}/{file}': {
      get: operation({
        id: 'brandStylesheet',
        tag: 'pages',
        summary: 'A tenant’s or client’s accent colour, as CSS',
        parameters: [
          parameter('BrandKind'),
          {
            name: 'file',
            in: 'path',
            required: true,
            description: 'The tenant or client id followed by `.css`',
            schema: { type: 'string', pattern: '\\.css$' },
          },
          parameter('CacheBuster'),
        ],
        responses: {
          '200': cached('CSS.', 3600, { 'text/css': { schema: { type: 'string' } } }),
          '404': response('NotFound'),
          ...STORE_FAILURES,
        },
      }),
    },
  };
}

function oauthPaths(config: OpenApiConfig): Record<string, Schema> {
  const userinfo = (method: string) =>
    operation({
      id: `userinfo${method}`,
      tag: 'oauth',
      summary: 'The claims of the presented access token',
      description: `A generic RFC 6750 protected resource.${config.userinfoScope === undefined ? '' : ` The token must hold the scope \`${config.userinfoScope}\`.`}`,
      security: BEARER,
      responses: {
        '200': ok('The token’s claims.', json(ref('AccessTokenClaims'))),
        ...BEARER_FAILURES,
      },
    });
  return {
    '/.well-known/oauth-authorization-server': {
      get: operation({
        id: 'metadata',
        tag: 'oauth',
        summary: 'Authorization server metadata (RFC 8414)',
        responses: { '200': cached('The metadata.', 300, json(ref('ServerMetadata'))) },
      }),
    },
    '/.well-known/jwks.json': {
      get: operation({
        id: 'jwks',
        tag: 'oauth',
        summary: 'Public signing keys (RFC 7517)',
        responses: {
          '200': cached('The key set.', 300, {
            'application/jwk-set+json': { schema: ref('JsonWebKeySet') },
          }),
          ...STORE_FAILURES,
        },
      }),
    },
    ...Object.fromEntries(
      ['/oauth/token', ...config.tokenEndpointAliases].map((p) => [p, tokenEndpoint(p)]),
    ),
    '/oauth/revoke': {
      post: operation({
        id: 'revoke',
        tag: 'oauth',
        summary: 'Token revocation (RFC 7009)',
        description:
          'A refresh token revokes its whole family and the access tokens of that grant; an access token is refused everywhere until it expires. An unknown, malformed or expired token gets the same empty 200. Another client’s token is refused with 400 `unauthorized_client` and left alone; a public client presenting one gets the empty 200 and revokes nothing.',
        security: CLIENT_AUTH,
        body: component('requestBodies', 'TokenOperationRequest'),
        responses: {
          '200': {
            description: 'Revoked (or nothing to revoke); no body.',
            headers: noStore(),
          },
          ...CLIENT_FAILURES,
          '400': response('RevocationError'),
        },
      }),
    },
    '/oauth/introspect': {
      post: operation({
        id: 'introspect',
        tag: 'oauth',
        summary: 'Token introspection (RFC 7662)',
        description: `Answers a client only about its own tokens, unless it holds the \`${INTROSPECT_SCOPE}\` scope. Public clients may not introspect.`,
        security: CLIENT_AUTH,
        body: component('requestBodies', 'TokenOperationRequest'),
        responses: {
          '200': ok(
            'Whether the token is active, and its claims.',
            json(ref('IntrospectionResponse')),
          ),
          ...CLIENT_FAILURES,
        },
      }),
    },
    '/oauth/userinfo': { get: userinfo('Get'), post: userinfo('Post') },
  };
}

function spacesPaths(): Record<string, Schema> {
  return {
    '/spaces/app-info': {
      get: operation({
        id: 'spacesAppInfo',
        tag: 'cisco-spaces',
        summary: 'Cisco Spaces App Info',
        description:
          'Served only to a user token (from the authorization-code flow) issued to a cisco-spaces client; any other token gets 401 `invalid_token` (RFC 9068 §4), a token of another tenant 403 `insufficient_scope`.',
        security: BEARER,
        parameters: [query('partnerTenantId', 'The tenant id (once).', true)],
        responses: {
          '200': ok('The tenant’s App Info.', json(ref('AppInfo'))),
          ...BEARER_FAILURES,
        },
      }),
    },
    '/spaces/launch': {
      post: operation({
        id: 'spacesLaunch',
        tag: 'cisco-spaces',
        summary: 'Cisco Spaces app launch',
        description:
          'Verifies the Cisco-signed RS256 launch JWT (key fetched only from an allow-listed `baseUrl`, replays refused), opens a login session for the tenant and sends the browser to its `app_url`, where the authorization-code flow completes without a prompt.',
        security: [],
        body: { required: true, content: formOrJson(ref('LaunchRequest')) },
        responses: {
          '303': {
            description: 'To the tenant’s app URL, with a login session for the tenant.',
            headers: { Location: header('Location'), 'Set-Cookie': header('SetSessionCookie') },
          },
          '401': page(
            'Refused (`launch-refused`): the reason is in the audit trail, never on the page.',
          ),
          ...STORE_FAILURES,
        },
      }),
    },
  };
}

/** Admin operations share their security and failure responses. */
function adminOperation(o: {
  readonly id: string;
  readonly summary: string;
  readonly parameters?: readonly Schema[];
  /** The JSON body's schema, when the operation takes one. */
  readonly input?: Schema;
  readonly result: Schema;
  readonly status?: '200' | '201';
  readonly notFound?: boolean;
  readonly conflict?: boolean;
}): Schema {
  return operation({
    id: o.id,
    tag: 'admin',
    summary: o.summary,
    security: [{ oauth2: [ADMIN_SCOPE] }],
    ...(o.parameters !== undefined && { parameters: o.parameters }),
    // Creating needs the body; an update or option body may be left out (`{}`).
    ...(o.input !== undefined && {
      body: { required: o.status === '201', content: json(o.input) },
    }),
    responses: {
      [o.status ?? '200']: ok(o.summary, json(o.result)),
      ...BEARER_FAILURES,
      ...(o.notFound === true && { '404': response('NotFound') }),
      ...(o.conflict === true && { '409': response('Conflict') }),
    },
  });
}

const list = (name: string): Schema => ({ type: 'array', items: ref(name) });

function adminPaths(): Record<string, Schema> {
  const tenantId = parameter('TenantId');
  const clientId = parameter('ClientId');
  const email = parameter('UserEmail');
  return {
    '/admin/v1/tenants': {
      get: adminOperation({ id: 'listTenants', summary: 'Tenants', result: list('Tenant') }),
      post: adminOperation({
        id: 'createTenant',
        summary: 'The new tenant',
        status: '201',
        input: ref('TenantCreate'),
        result: ref('Tenant'),
        conflict: true,
      }),
    },
    '/admin/v1/tenants/{id}': {
      patch: adminOperation({
        id: 'updateTenant',
        summary: 'The updated tenant',
        parameters: [tenantId],
        input: ref('TenantUpdate'),
        result: ref('Tenant'),
        notFound: true,
      }),
    },
    '/admin/v1/tenants/{id}/telemetry/{name}': {
      put: adminOperation({
        id: 'setTelemetry',
        summary: 'The telemetry entry App Info reports',
        parameters: [
          tenantId,
          {
            name: 'name',
            in: 'path',
            required: true,
            description: 'Telemetry name',
            schema: { type: 'string' },
          },
        ],
        input: ref('TelemetrySet'),
        result: ref('TelemetryEntry'),
        notFound: true,
      }),
    },
    '/admin/v1/users': {
      get: adminOperation({ id: 'listUsers', summary: 'Users', result: list('User') }),
      post: adminOperation({
        id: 'createUser',
        summary: 'The new user',
        status: '201',
        input: ref('UserCreate'),
        result: ref('User'),
        conflict: true,
      }),
    },
    '/admin/v1/users/{email}/password': {
      put: adminOperation({
        id: 'setUserPassword',
        summary: 'The user, with a new password',
        parameters: [email],
        input: ref('PasswordSet'),
        result: ref('User'),
        notFound: true,
      }),
    },
    '/admin/v1/users/{email}/disable': {
      post: adminOperation({
        id: 'disableUser',
        summary: 'The disabled user',
        parameters: [email],
        result: ref('User'),
        notFound: true,
      }),
    },
    '/admin/v1/clients': {
      get: adminOperation({ id: 'listClients', summary: 'Clients', result: list('Client') }),
      post: adminOperation({
        id: 'createClient',
        summary: 'The new client, with its secret if Tessera generated it (shown once)',
        status: '201',
        input: ref('ClientCreate'),
        result: ref('Client'),
        conflict: true,
      }),
    },
    '/admin/v1/clients/{id}': {
      get: adminOperation({
        id: 'getClient',
        summary: 'One client, with its branding',
        parameters: [clientId],
        result: ref('Client'),
        notFound: true,
      }),
      patch: adminOperation({
        id: 'updateClient',
        summary: 'The updated client',
        parameters: [clientId],
        input: ref('ClientUpdate'),
        result: ref('Client'),
        notFound: true,
      }),
      delete: adminOperation({
        id: 'deleteClient',
        summary: 'The client is deleted',
        parameters: [clientId],
        result: ref('ClientDeleted'),
        notFound: true,
      }),
    },
    '/admin/v1/clients/{id}/rotate-secret': {
      post: adminOperation({
        id: 'rotateClientSecret',
        summary: 'The client, with its new secret if Tessera generated it (shown once)',
        parameters: [clientId],
        input: ref('SecretRotation'),
        result: ref('Client'),
        notFound: true,
      }),
    },
    '/admin/v1/keys': {
      get: adminOperation({ id: 'listKeys', summary: 'Signing keys', result: list('SigningKey') }),
    },
    '/admin/v1/keys/rotate': {
      post: adminOperation({
        id: 'rotateKey',
        summary: 'The new signing key',
        input: ref('KeyRotation'),
        result: ref('SigningKey'),
      }),
    },
    '/admin/v1/audit': {
      get: adminOperation({
        id: 'listAudit',
        summary: 'Audit events, oldest first',
        parameters: [
          query('since', 'ISO-8601 time.', false, { format: 'date-time' }),
          query('type', 'Event type.'),
          query('tenant', 'Tenant id.'),
          query('client', 'Client id.'),
          {
            ...query('limit', 'At most this many (default 1000).'),
            schema: { type: 'integer', minimum: 1, maximum: 10000 },
          },
        ],
        result: list('AuditEvent'),
      }),
    },
  };
}

function operationsPaths(config: OpenApiConfig): Record<string, Schema> {
  const metrics = operation({
    id: 'metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    responses: {
      '200': ok('The exposition text.', {
        'text/plain': { schema: { type: 'string' } },
      }),
    },
  });
  return {
    '/healthz': {
      get: operation({
        id: 'healthz',
        tag: 'operations',
        summary: 'Liveness',
        responses: { '200': ok('The process serves requests.', json(ref('Health'))) },
      }),
    },
    '/readyz': {
      get: operation({
        id: 'readyz',
        tag: 'operations',
        summary: 'Readiness: the database is reachable',
        responses: { '200': ok('Ready.', json(ref('Ready'))), ...STORE_FAILURES },
      }),
    },
    // With `metricsPort` the main listener does not serve /metrics; a listener of its own on
    // that port (same host) does, and a path-level `servers` says so.
    '/metrics':
      config.metricsPort === undefined
        ? { get: metrics }
        : {
            servers: [
              {
                url: `http://{host}:${config.metricsPort}`,
                description: 'The metrics listener (`metricsPort`), not the main one.',
                variables: { host: { default: config.host } },
              },
            ],
            get: metrics,
          },
    [OPENAPI_PATH]: {
      get: operation({
        id: 'openapi',
        tag: 'operations',
        summary: 'This document',
        responses: {
          '200': cached(
            'OpenAPI 3.1.',
            300,
            json({ type: 'object', required: ['openapi', 'info', 'paths'] }),
          ),
        },
      }),
    },
  };
}

/** The OpenAPI 3.1 document for a server running with `config`. */
export function openApiDocument(config: OpenApiConfig): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version: DOCUMENT_VERSION,
      summary: 'OAuth 2.0 authorization server with per-client wire dialects',
      description:
        'Strict RFC OAuth by default and, per client, the wire dialect a partner platform speaks (`standard`, `cisco-spaces`, `bright-pattern`, `setu`, and any configured). Token, revocation and introspection requests are forms or JSON objects of strings. Errors are RFC 6749 §5.2 JSON in every dialect. docs/api.md has a curl example for every endpoint.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: config.issuer, description: 'The issuer' }],
    tags: [
      {
        name: 'oauth',
        description: 'RFC endpoints: metadata, keys, token, revocation, introspection, userinfo.',
      },
      {
        name: 'pages',
        description: 'Browser pages: sign-in, tenant picker, sign-out, styles and logos.',
      },
      { name: 'cisco-spaces', description: 'Cisco Spaces partner-app App Info and launch.' },
      {
        name: 'admin',
        description: `Management API; a client_credentials token with the \`${ADMIN_SCOPE}\` scope.`,
      },
      { name: 'operations', description: 'Health, readiness, metrics and this document.' },
    ],
    paths: {
      ...oauthPaths(config),
      ...browserPaths(),
      ...spacesPaths(),
      ...adminPaths(),
      ...operationsPaths(config),
    },
    components: {
      schemas: componentSchemas(config),
      responses,
      parameters,
      requestBodies,
      headers,
      securitySchemes: securitySchemes(config),
    },
  };
}
