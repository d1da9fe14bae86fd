/**
 * The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of every body Tessera sends or
 * accepts, as data. Enumerations come from the code that defines them (error classes,
 * grants, signing algorithms, dialects, audit event types), so a new value appears here
 * without an edit; field sets are written out, and test/http/openapi.test.ts validates real
 * responses against them so the two cannot drift apart.
 */
import { ADMIN_SCOPE } from '../admin/api.js';
import { MAX_REFRESH_GRACE } from '../admin/clients.js';
import type { Config } from '../config/options.js';
import { AUDIT_EVENT_TYPES } from '../observability/audit.js';
import { type Dialect, createDialectRegistry } from '../oauth/dialects/index.js';
import { ERROR_CLASSES } from '../errors.js';
import { INTROSPECT_SCOPE } from '../oauth/introspect.js';
import { GRANTS } from '../oauth/token/grants/index.js';
import { GRANT_TYPES, type GrantType } from '../store/store.js';
import { SIGNING_ALGS } from '../tokens/keystore.js';

/** A JSON Schema (or any OpenAPI object): plain JSON data. */
export type Schema = { readonly [keyword: string]: unknown };

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const string = (description?: string): Schema => ({
  type: 'string',
  ...(description !== undefined && { description }),
});
const nullable = (type: string, description: string, extra: Schema = {}): Schema => ({
  type: [type, 'null'],
  description,
  ...extra,
});
const dateTime = (description: string): Schema => ({
  type: 'string',
  format: 'date-time',
  description,
});
const strings = (description: string): Schema => ({
  type: 'array',
  items: { type: 'string' },
  description,
});

/** A closed object: exactly these properties, the `required` ones always present. */
export function object(
  properties: Readonly<Record<string, Schema>>,
  required: readonly string[] = Object.keys(properties),
  extra: Schema = {},
): Schema {
  return {
    type: 'object',
    properties,
    ...(required.length > 0 && { required }),
    additionalProperties: false,
    ...extra,
  };
}

/* ---------------------------------------------------------------------------------------- */
/* Errors                                                                                   */
/* ---------------------------------------------------------------------------------------- */

const ERROR_CODES = ERROR_CLASSES.map((E) => new E('').code);

/** RFC 6749 §5.2 / RFC 6750 §3.1 error body, restricted to `codes` when given. */
export function oauthErrorSchema(codes?: readonly string[]): Schema {
  if (codes === undefined) return ref('OAuthError');
  return {
    allOf: [ref('OAuthError')],
    type: 'object',
    properties: { error: { enum: codes } },
  };
}

const errorSchemas: Record<string, Schema> = {
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

/* ---------------------------------------------------------------------------------------- */
/* Token endpoint: requests per grant, responses per dialect                                */
/* ---------------------------------------------------------------------------------------- */

/**
 * The optional parameters of each grant (its required ones come from the grant itself). A
 * `Record` over every grant type, so a new grant cannot be left out of the document.
 */
const GRANT_PARAMETERS: Readonly<Record<GrantType, Readonly<Record<string, Schema>>>> = {
  client_credentials: {
    scope: string(
      'Space-separated. One entry may name a tenant the client is bound to (by id or domain); the others must be among the client’s scopes. Default: all of them.',
    ),
    tenant: string('Names the tenant instead of a `scope` entry (by id or domain).'),
    resource: string('RFC 8707: must be the client’s audience.'),
  },
  authorization_code: {
    code: string('The code from the authorization redirect (single use, 300 s by default).'),
    redirect_uri: string(
      'Identical to the one the code was issued for. A client whose dialect allows it (cisco-spaces) may send "" or leave it out.',
    ),
    state: string('If sent, equal to the `state` of the authorization request.'),
    code_verifier: string('RFC 7636 verifier, when the code was issued with a challenge.'),
    resource: string('RFC 8707: must be the client’s audience.'),
  },
  refresh_token: {
    refresh_token: string('The refresh token; rotated on every use.'),
    scope: string('A subset of the original grant’s scopes (narrows this access token only).'),
    resource: string('RFC 8707: must be the audience of the grant.'),
  },
};

/** The client authentication parameters of `client_secret_post` (and of public clients). */
const CLIENT_AUTH_PARAMETERS: Readonly<Record<string, Schema>> = {
  client_id: string(
    'Client id, for `client_secret_post` and public clients; with Basic, if sent it must equal the Basic id.',
  ),
  client_secret: string(
    '`client_secret_post`: the secret in the body. Never together with an `Authorization: Basic` header.',
  ),
};

/** Alias → RFC name, over every configured dialect (e.g. setu's `refreshToken`). */
function requestAliases(dialects: readonly Dialect[]): Map<string, { rfc: string; by: string[] }> {
  const out = new Map<string, { rfc: string; by: string[] }>();
  for (const d of dialects) {
    for (const [alias, rfc] of Object.entries(d.requestAliases)) {
      const entry = out.get(alias) ?? { rfc, by: [] };
      entry.by.push(d.name);
      out.set(alias, entry);
    }
  }
  return out;
}

/** One `grant_type`'s request: its parameters, dialect aliases for them, and what is required. */
function grantRequest(grantType: GrantType, dialects: readonly Dialect[]): Schema {
  const own = GRANT_PARAMETERS[grantType];
  const properties: Record<string, Schema> = {
    grant_type: { const: grantType },
    ...CLIENT_AUTH_PARAMETERS,
    ...own,
  };
  const aliases = [...requestAliases(dialects)].filter(([, a]) => a.rfc in own);
  for (const [alias, { rfc, by }] of aliases) {
    properties[alias] = string(`Alias of \`${rfc}\` for clients of the ${by.join(', ')} dialect.`);
  }
  // A required parameter may be sent under any of its aliases instead.
  const namesFor = (rfc: string) => [
    rfc,
    ...aliases.filter(([, a]) => a.rfc === rfc).map(([n]) => n),
  ];
  const required = GRANTS.get(grantType)?.parameters ?? [];
  const alternatives = required
    .map(namesFor)
    .filter((names) => names.length > 1)
    .map((names) => ({ anyOf: names.map((n) => ({ required: [n] })) }));
  return {
    type: 'object',
    properties,
    required: ['grant_type', ...required.filter((r) => namesFor(r).length === 1)],
    ...(alternatives.length > 0 && { allOf: alternatives }),
    // Unknown parameters are ignored (RFC 6749 §3.2); every value is a string.
    additionalProperties: { type: 'string' },
  };
}

/** `TokenResponse.<dialect>` is the component name of each dialect's success body. */
export const tokenResponseName = (dialect: string) => `TokenResponse.${dialect}`;

/** A dialect's success body, from the same data that renders it (src/oauth/dialects). */
function dialectResponse(d: Dialect): Schema {
  const scope =
    d.scopeValue === 'tenant'
      ? 'The tenant id (for Cisco Spaces, the partnerTenantId); absent when the token has no tenant.'
      : 'The granted scope, space-separated, as requested (a tenant named in the request is echoed); absent when empty.';
  const fields = {
    access_token: string('RFC 9068 JWT access token (`typ: at+jwt`).'),
    token_type: { const: 'Bearer' },
    expires_in:
      d.expiresIn === 'string'
        ? { type: 'string', pattern: '^[0-9]+$', description: 'Lifetime in seconds, as a string.' }
        : { type: 'integer', minimum: 1, description: 'Lifetime in seconds.' },
    scope: string(scope),
    refresh_token: string('Opaque refresh token, when the client holds the refresh_token grant.'),
  } satisfies Record<keyof Dialect['fields'], Schema>;
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [field, schema] of Object.entries(fields)) {
    const wire = d.fields[field as keyof Dialect['fields']];
    if (wire === false) continue;
    properties[wire] = schema;
    // scope and refresh_token are left out when there is nothing to send.
    if (field !== 'scope' && field !== 'refresh_token') required.push(wire);
  }
  return object(properties, required, {
    title: `${d.name} dialect`,
    description: `Token response of a client in the \`${d.name}\` dialect.`,
  });
}

/**
 * Whether some object could match both closed dialect schemas: each one's required fields
 * are allowed by the other, and every shared field can hold the same value.
 */
function overlap(a: Schema, b: Schema): boolean {
  const props = (s: Schema) => s['properties'] as Record<string, Schema>;
  const required = (s: Schema) => (s['required'] as string[] | undefined) ?? [];
  if (!required(a).every((f) => f in props(b)) || !required(b).every((f) => f in props(a)))
    return false;
  return Object.keys(props(a))
    .filter((f) => f in props(b))
    .every((f) => props(a)[f]?.['type'] === props(b)[f]?.['type']);
}

function tokenSchemas(dialects: readonly Dialect[]): Record<string, Schema> {
  const responses = Object.fromEntries(
    dialects.map((d) => [tokenResponseName(d.name), dialectResponse(d)]),
  );
  const bodies = Object.values(responses);
  // oneOf says "exactly one": true of the built-in dialects; a custom dialect that differs
  // from another only in optional fields would make it false, and then anyOf is the truth.
  const exclusive = bodies.every((a, i) => bodies.slice(i + 1).every((b) => !overlap(a, b)));
  return {
    TokenRequest: {
      oneOf: GRANT_TYPES.filter((g) => GRANTS.has(g)).map((g) => ref(`TokenRequest.${g}`)),
      description:
        'Form or JSON (an object of string values). A parameter given twice, a non-string value or a body over 16 KiB is `invalid_request`.',
    },
    ...Object.fromEntries(
      GRANT_TYPES.filter((g) => GRANTS.has(g)).map((g) => [
        `TokenRequest.${g}`,
        grantRequest(g, dialects),
      ]),
    ),
    TokenResponse: {
      [exclusive ? 'oneOf' : 'anyOf']: dialects.map((d) => ref(tokenResponseName(d.name))),
      description:
        'The success body is shaped by the dialect of the authenticated client (DESIGN §3 “Dialects”).',
    },
    ...responses,
  };
}

/* ---------------------------------------------------------------------------------------- */
/* Revocation, introspection, protected resources                                           */
/* ---------------------------------------------------------------------------------------- */

const tokenParameter = {
  token: string('The access or refresh token.'),
  token_type_hint: {
    enum: ['access_token', 'refresh_token'],
    description: 'Accepted and not needed: Tessera recognises the token either way.',
  },
};

const protocolSchemas: Record<string, Schema> = {
  TokenOperationRequest: {
    type: 'object',
    properties: { ...tokenParameter, ...CLIENT_AUTH_PARAMETERS },
    required: ['token'],
    additionalProperties: { type: 'string' },
    description: 'RFC 7009 / RFC 7662 request, form or JSON.',
  },
  IntrospectionResponse: {
    oneOf: [
      object({ active: { const: false } }, undefined, {
        title: 'inactive',
        description:
          'Unknown, expired, revoked or rotated — or another client’s token, unless the caller holds `tessera:introspect`.',
      }),
      object(
        {
          active: { const: true },
          token_type: { enum: ['Bearer', 'refresh_token'] },
          client_id: string(),
          scope: string(),
          sub: string(),
          aud: { oneOf: [string(), strings('Audiences.')] },
          iss: string(),
          exp: { type: 'integer', description: 'Seconds since the epoch.' },
          iat: { type: 'integer', description: 'Seconds since the epoch.' },
          jti: string('Access tokens only.'),
          tenant_id: string(),
          email: string('User access tokens only.'),
        },
        ['active', 'token_type', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat'],
        { title: 'active' },
      ),
    ],
    description: 'RFC 7662 §2.2.',
  },
  AccessTokenClaims: object(
    {
      iss: string('The issuer.'),
      sub: string('The user id (a UUID), or the client id for client tokens.'),
      aud: string('The audience.'),
      exp: { type: 'integer' },
      iat: { type: 'integer' },
      jti: string(),
      client_id: string(),
      scope: string('Granted scopes, space-separated; absent when none. Never the tenant.'),
      tenant_id: string('The selected tenant, when there is one.'),
      email: string('The user’s email, for user tokens.'),
      grant_id: string('The refresh-token family or code the token came from.'),
    },
    ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
    { description: 'The claims of the presented RFC 9068 access token.' },
  ),
  ServerMetadata: object(
    {
      issuer: string(),
      authorization_endpoint: string(),
      token_endpoint: string(),
      jwks_uri: string(),
      revocation_endpoint: string(),
      introspection_endpoint: string(),
      userinfo_endpoint: string(),
      grant_types_supported: { type: 'array', items: { enum: [...GRANTS.keys()] } },
      response_types_supported: { type: 'array', items: { const: 'code' } },
      response_modes_supported: { type: 'array', items: { const: 'query' } },
      code_challenge_methods_supported: { type: 'array', items: { const: 'S256' } },
      authorization_response_iss_parameter_supported: { const: true },
      token_endpoint_auth_methods_supported: strings('Includes `none` (public clients).'),
      revocation_endpoint_auth_methods_supported: strings('Includes `none` (public clients).'),
      introspection_endpoint_auth_methods_supported: strings('Public clients may not introspect.'),
    },
    undefined,
    { description: 'RFC 8414 authorization server metadata.' },
  ),
  JsonWebKeySet: object(
    {
      keys: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            kty: { enum: ['RSA', 'EC', 'OKP'] },
            kid: string('RFC 7638 thumbprint.'),
            alg: { enum: [...SIGNING_ALGS] },
            use: { const: 'sig' },
          },
          required: ['kty', 'kid', 'alg', 'use'],
          description:
            'A public signing key (RFC 7517), plus its key-type members (n, e, crv, x, y).',
        },
      },
    },
    undefined,
    {
      description:
        'Keys that sign now, the next key (published before it signs) and retired keys still within the lifetime of a token they signed.',
    },
  ),
  Telemetry: object({
    type: string('e.g. `metric`.'),
    name: string(),
    value: string('Always a string.'),
    units: string(),
  }),
  AppInfo: object(
    {
      partnerTenantId: string(),
      userEmail: string(),
      supportEmail: string('The tenant’s support email, when set.'),
      telemetry: { type: 'array', items: ref('Telemetry') },
    },
    ['partnerTenantId', 'userEmail', 'telemetry'],
    { description: 'Cisco Spaces App Info.' },
  ),
  LaunchRequest: {
    type: 'object',
    properties: {
      token: string('The Cisco-signed RS256 launch JWT.'),
      version: string(
        'The version of the Spaces public key that signed it (optional when the key list has one entry).',
      ),
    },
    required: ['token'],
    additionalProperties: { type: 'string' },
  },
  Health: object({ status: { const: 'ok' } }),
  Ready: object({ status: { const: 'ready' } }),
};

/* ---------------------------------------------------------------------------------------- */
/* Admin API                                                                                */
/* ---------------------------------------------------------------------------------------- */

const brandingInput = {
  brand_name: string('Product name on the login pages ("" clears).'),
  brand_color: string('Accent colour `#rrggbb` ("" clears).'),
  brand_support_url: string('An https: URL or a mailto: address ("" clears).'),
  brand_logo_base64: string(
    'The logo file (PNG, SVG, JPEG or WebP, at most 64 KiB), base64 ("" clears).',
  ),
  brand_logo_url: string(
    'Refused with `invalid_request`: the pages’ CSP allows only images Tessera serves, so upload the file.',
  ),
};

const brandingView = {
  brand_name: nullable('string', 'Present when the object has branding.'),
  brand_color: nullable('string', 'Present when the object has branding.'),
  brand_support_url: nullable('string', 'Present when the object has branding.'),
  brand_logo: nullable('string', 'Path of the uploaded logo (`/branding/logo/…`).'),
};

const tenantFields = {
  name: string(),
  domain: string('Host name; a client_credentials `scope` may name the tenant by it.'),
  app_url: string('Where a Cisco Spaces launch sends the browser (https, or http on loopback).'),
  support_email: string('Sent as App Info `supportEmail`.'),
  ...brandingInput,
};

const refreshGrace: Schema = {
  type: 'integer',
  minimum: 0,
  maximum: MAX_REFRESH_GRACE,
  description:
    'Seconds after a rotation during which the previous refresh token stays valid until its successor is first used; 0: off (the default).',
};

const clientFields = {
  name: string(),
  dialect: string('A built-in or configured dialect (default `standard`).'),
  grants: { type: 'array', items: { enum: [...GRANT_TYPES] } },
  redirect_uris: strings('Exact redirect URIs (https, or http on loopback).'),
  tenants: strings('Tenant ids the client is bound to (none: any of a user’s tenants).'),
  scopes: strings(
    `Scopes the client may request; \`${ADMIN_SCOPE}\` opens this API, \`${INTROSPECT_SCOPE}\` lets it introspect any client’s tokens.`,
  ),
  audience: string('Access-token `aud` override.'),
  access_token_ttl: { type: 'integer', minimum: 1 },
  refresh_token_ttl: { type: 'integer', minimum: 1 },
  refresh_grace: refreshGrace,
  require_pkce: { type: 'boolean' },
  ...brandingInput,
};

const at = dateTime('ISO-8601.');

const adminSchemas: Record<string, Schema> = {
  Tenant: object(
    {
      id: string('The partnerTenantId.'),
      name: string(),
      domain: nullable('string', 'Host name.'),
      app_url: nullable('string', 'Cisco Spaces launch target.'),
      support_email: nullable('string', 'App Info supportEmail.'),
      created_at: at,
      ...brandingView,
    },
    ['id', 'name', 'domain', 'app_url', 'support_email', 'created_at'],
  ),
  TenantCreate: object(
    { id: string('The partnerTenantId: 1-128 of A-Z a-z 0-9 . _ : ~ -.'), ...tenantFields },
    ['id', 'name'],
  ),
  TenantUpdate: object(tenantFields, [], { description: 'Only the fields sent change.' }),
  TelemetrySet: object({ value: string(), units: string(), type: string('Default `metric`.') }, [
    'value',
    'units',
  ]),
  TelemetryEntry: object({
    tenant_id: string(),
    name: string(),
    value: string(),
    units: string(),
    type: string(),
  }),
  User: object({
    id: { type: 'string', format: 'uuid' },
    email: string(),
    name: nullable('string', 'Display name.'),
    tenants: strings('Tenant ids the user belongs to.'),
    disabled: { type: 'boolean' },
    created_at: at,
  }),
  UserCreate: object(
    {
      email: string(),
      name: string(),
      tenants: strings('At least one tenant id.'),
      password: string('8 to 1024 characters; stored as an argon2id hash.'),
    },
    ['email', 'tenants', 'password'],
  ),
  PasswordSet: object({ password: string('8 to 1024 characters.') }),
  Client: object(
    {
      client_id: string(),
      client_secret: string(
        'Only in the answer to create and rotate-secret, and only when Tessera generated it: shown once. An imported secret is never echoed.',
      ),
      name: string(),
      dialect: string(),
      public: { type: 'boolean' },
      grants: { type: 'array', items: { enum: [...GRANT_TYPES] } },
      redirect_uris: strings('Exact redirect URIs.'),
      tenants: strings('Bound tenant ids.'),
      scopes: strings('Scopes the client may request.'),
      audience: nullable('string', 'Access-token `aud` override.'),
      access_token_ttl: nullable('integer', 'Seconds; null: the dialect’s or server default.'),
      refresh_token_ttl: nullable('integer', 'Seconds; null: the server default.'),
      refresh_grace: refreshGrace,
      require_pkce: { type: 'boolean' },
      created_at: at,
      updated_at: at,
      ...brandingView,
    },
    [
      'client_id',
      'name',
      'dialect',
      'public',
      'grants',
      'redirect_uris',
      'tenants',
      'scopes',
      'audience',
      'access_token_ttl',
      'refresh_token_ttl',
      'refresh_grace',
      'require_pkce',
      'created_at',
      'updated_at',
    ],
  ),
  ClientCreate: object(
    {
      client_id: string('Default: 24 generated characters. Not UUID-shaped, not `spaces:…`.'),
      client_secret: string(
        'Import a secret (16-512 printable characters); default: a generated 256-bit one.',
      ),
      public: { type: 'boolean', description: 'No secret; PKCE required.' },
      ...clientFields,
    },
    ['name'],
  ),
  ClientUpdate: object(clientFields, [], { description: 'Only the fields sent change.' }),
  ClientDeleted: object({ client_id: string(), deleted: { const: true } }),
  SecretRotation: object(
    {
      grace_seconds: {
        type: 'integer',
        minimum: 0,
        description: 'How long the previous secret stays valid (default 0).',
      },
      client_secret: string('Import the new secret instead of generating one.'),
    },
    [],
  ),
  SigningKey: object({
    kid: string(),
    alg: { enum: [...SIGNING_ALGS] },
    status: {
      enum: ['active', 'next', 'retired', 'expired'],
      description:
        '`next`: published, not yet signing; `retired`: published until its tokens expire.',
    },
    created_at: at,
    activates_at: at,
    publish_until: nullable('string', 'When a retired key leaves the JWKS.', {
      format: 'date-time',
    }),
  }),
  KeyRotation: object(
    {
      alg: { enum: [...SIGNING_ALGS], description: 'Default: the `signingAlg` option.' },
      now: { type: 'boolean', description: 'Sign with it at once, not after `keyPublishAhead`.' },
    },
    [],
  ),
  AuditEvent: object({
    at,
    type: { enum: Object.keys(AUDIT_EVENT_TYPES) },
    tenant_id: nullable('string', 'Tenant concerned.'),
    client_id: nullable('string', 'Client concerned (as claimed, for refusals).'),
    user_id: nullable('string', 'User concerned.'),
    ip: nullable('string', 'Client IP.'),
    request_id: nullable('string', 'The x-request-id of the request.'),
    reason: nullable('string', 'Why (e.g. the OAuth error and its description); never a secret.'),
  }),
};

/** Every component schema, for the dialects `config` declares as well as the built-in ones. */
export function componentSchemas(config: Pick<Config, 'dialects'>): Record<string, Schema> {
  const registry = createDialectRegistry(config);
  const dialects = registry.names().map((n) => registry.get(n) as Dialect);
  return {
    ...errorSchemas,
    ...tokenSchemas(dialects),
    ...protocolSchemas,
    ...adminSchemas,
  };
}
