/**
 * The admin API's bodies. Request bodies are generated from the zod schemas its routes
 * validate with (src/admin/bodies.ts), so the document cannot say other than the code;
 * response bodies, which have no zod source, are written out, and
 * test/http/openapi.test.ts validates real answers against them.
 */
import { z } from 'zod';
import { ADMIN_BODIES } from '../admin/bodies.js';
import { AUDIT_EVENT_TYPES } from '../observability/audit.js';
import { GRANT_TYPES } from '../store/store.js';
import { SIGNING_ALGS } from '../tokens/keystore.js';
import { type Schema, dateTime, nullable, object, string, strings } from './build.js';

/** The names of the request-body components, one per admin body. */
export type AdminBody = keyof typeof ADMIN_BODIES;

/**
 * A body's JSON Schema as zod generates it: draft 2020-12, the dialect of OpenAPI 3.1
 * schemas, and the `input` side, since it describes what a caller sends.
 */
function generated(schema: z.ZodType): Schema {
  const body: Record<string, unknown> = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
  });
  // The document's `openapi` field already names the dialect of every schema in it.
  delete body['$schema'];
  return body;
}

export const requestSchemas: Record<AdminBody, Schema> = Object.fromEntries(
  Object.entries(ADMIN_BODIES).map(([name, schema]) => [name, generated(schema)]),
) as Record<AdminBody, Schema>;

/** An answer's `refresh_grace` is held to the rule of the request that set it. */
const refreshGrace = (requestSchemas.ClientUpdate['properties'] as Record<string, Schema>)[
  'refresh_grace'
] as Schema;

const brandingView = {
  brand_name: nullable('string', 'Present when the object has branding.'),
  brand_color: nullable('string', 'Present when the object has branding.'),
  brand_support_url: nullable('string', 'Present when the object has branding.'),
  brand_logo: nullable('string', 'Path of the uploaded logo (`/branding/logo/…`).'),
};

const at = dateTime('ISO-8601.');

const responseSchemas: Record<string, Schema> = {
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
    password_set: {
      type: 'boolean',
      description: 'False for an invited user who has not set a password yet.',
    },
    email_verified: {
      type: 'boolean',
      description: 'The user set a password through a mailed or printed link (DESIGN §7).',
    },
    created_at: at,
  }),
  UserLink: object(
    {
      id: { type: 'string', format: 'uuid' },
      email: string(),
      name: nullable('string', 'Display name.'),
      tenants: strings('Tenant ids the user belongs to.'),
      disabled: { type: 'boolean' },
      password_set: { type: 'boolean' },
      email_verified: { type: 'boolean' },
      created_at: at,
      mailed: {
        type: 'boolean',
        description: 'True: queued for the mail worker; false: the link is in `link`.',
      },
      link: string('The single-use link, only when it was not mailed. Show it to nobody else.'),
    },
    [
      'id',
      'email',
      'name',
      'tenants',
      'disabled',
      'password_set',
      'email_verified',
      'created_at',
      'mailed',
    ],
  ),
  Consent: object({
    client_id: string(),
    scopes: strings('The scopes allowed, those of every earlier consent included.'),
    granted_at: dateTime('ISO-8601: when the consent was last given.'),
  }),
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
      id_token_alg: { enum: [...SIGNING_ALGS] },
      post_logout_redirect_uris: strings('Exact RP-Initiated Logout targets.'),
      backchannel_logout_uri: nullable('string', 'Back-Channel Logout endpoint; null: none.'),
      consent: { type: 'boolean', description: 'Asks the user’s consent; false: first-party.' },
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
      'id_token_alg',
      'post_logout_redirect_uris',
      'backchannel_logout_uri',
      'consent',
      'created_at',
      'updated_at',
    ],
  ),
  ClientDeleted: object({ client_id: string(), deleted: { const: true } }),
  SigningKey: object({
    kid: string(),
    alg: { enum: [...SIGNING_ALGS] },
    status: {
      enum: ['active', 'next', 'retired', 'expired'],
      description:
        '`next`: published, not yet signing; `retired`: published until its tokens expire.',
    },
    purpose: {
      enum: ['access', 'id-token'],
      description:
        '`access`: made by rotation, signs access tokens and ID Tokens of its alg; `id-token`: made for a client’s `id_token_alg`, signs ID Tokens only.',
    },
    created_at: at,
    activates_at: at,
    publish_until: nullable('string', 'When a retired key leaves the JWKS.', {
      format: 'date-time',
    }),
  }),
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

export const adminSchemas: Record<string, Schema> = { ...requestSchemas, ...responseSchemas };
