/**
 * The JSON bodies the admin API accepts, as the zod schemas its routes validate with. They
 * are the one source of those shapes: src/openapi generates the document's request-body
 * components from them (`z.toJSONSchema`), so the descriptions here are what the document
 * says. Rules the services check after parsing (a tenant's name, known grants, password
 * length) are in the descriptions, not in the schemas, so a refusal keeps its service
 * message.
 */
import { z } from 'zod';
import { INTROSPECT_SCOPE } from '../oauth/introspect.js';
import { GRANT_TYPES } from '../store/store.js';
import { SIGNING_ALGS } from '../tokens/keystore.js';
import { MAX_REFRESH_GRACE } from './clients.js';

/** Tokens of a client holding this scope (client_credentials) may call the admin API. */
export const ADMIN_SCOPE = 'tessera:admin';

const str = z.string().min(1).max(2048);
const strings = z.array(str).max(100);
const seconds = z.number().int().positive();

/** Branding fields of tenant and client bodies; "" clears one. */
const brandFields = {
  brand_name: z.string().max(2048).describe('Product name on the login pages ("" clears).'),
  brand_color: z.string().max(32).describe('Accent colour `#rrggbb` ("" clears).'),
  brand_support_url: z
    .string()
    .max(2048)
    .describe('An https: URL or a mailto: address ("" clears).'),
  brand_logo_base64: z
    .string()
    .max(100_000)
    .describe('The logo file (PNG, SVG, JPEG or WebP, at most 64 KiB), base64 ("" clears).'),
  brand_logo_url: z
    .string()
    .max(2048)
    .describe(
      'Refused with `invalid_request`: the pages’ CSP allows only images Tessera serves, so upload the file.',
    ),
};

const tenantBody = z
  .object({
    name: str,
    domain: str.describe('Host name; a client_credentials `scope` may name the tenant by it.'),
    app_url: str.describe(
      'Where a Cisco Spaces launch sends the browser (https, or http on loopback).',
    ),
    support_email: str.describe('Sent as App Info `supportEmail`.'),
    ...brandFields,
  })
  .partial()
  .strict();

const clientBody = z
  .object({
    name: str,
    dialect: str.describe('A built-in or configured dialect (default `standard`).'),
    grants: strings.describe(
      `Each one of ${GRANT_TYPES.join(', ')} (another is refused); default: the dialect’s grants.`,
    ),
    redirect_uris: strings.describe('Exact redirect URIs (https, or http on loopback).'),
    tenants: strings.describe('Tenant ids the client is bound to (none: any of a user’s tenants).'),
    scopes: strings.describe(
      `Scopes the client may request; \`${ADMIN_SCOPE}\` opens this API, \`${INTROSPECT_SCOPE}\` lets it introspect any client’s tokens.`,
    ),
    audience: str.describe('Access-token `aud` override.'),
    access_token_ttl: seconds,
    refresh_token_ttl: seconds,
    refresh_grace: z
      .number()
      .int()
      .min(0)
      .max(MAX_REFRESH_GRACE)
      .describe(
        'Seconds after a rotation during which the previous refresh token stays valid until its successor is first used; 0: off (the default).',
      ),
    require_pkce: z.boolean(),
    id_token_alg: z
      .enum(SIGNING_ALGS)
      .describe('The `alg` of its OpenID Connect ID Tokens (default RS256).'),
    post_logout_redirect_uris: strings.describe(
      'Exact `post_logout_redirect_uri` values of RP-Initiated Logout (https, or http on loopback).',
    ),
    backchannel_logout_uri: z
      .string()
      .max(2048)
      .describe(
        'Where Back-Channel Logout POSTs logout tokens (https, or http on loopback; "" clears).',
      ),
    consent: z
      .boolean()
      .describe(
        'Show a consent page listing the scopes before signing a user in (remembered per user); default false: a first-party client.',
      ),
    ...brandFields,
  })
  .partial()
  .strict();

const UPDATE = 'Only the fields sent change.';

/** Each body by the name of its OpenAPI component. */
export const ADMIN_BODIES = {
  TenantCreate: tenantBody
    .extend({ id: str.describe('The partnerTenantId: 1-128 of A-Z a-z 0-9 . _ : ~ -.') })
    .describe('`name` is required too: a tenant without one is refused (`invalid_request`).'),
  TenantUpdate: tenantBody.describe(UPDATE),
  TelemetrySet: z
    .object({
      value: z.string().max(2048),
      units: z.string().max(256),
      type: str.describe('Default `metric`.').optional(),
    })
    .strict(),
  UserCreate: z
    .object({
      email: str,
      name: str.optional(),
      tenants: strings.describe('At least one tenant id.'),
      password: z.string().max(1024).describe('8 to 1024 characters; stored as an argon2id hash.'),
    })
    .strict(),
  UserInvite: z
    .object({
      name: str.optional(),
      tenants: strings
        .describe('Tenant ids; required when the user does not exist yet.')
        .optional(),
      print_link: z
        .boolean()
        .describe(
          'Return the setup link as `link` instead of mailing it (always so without `smtpUrl`).',
        )
        .optional(),
    })
    .strict(),
  LinkRequest: z
    .object({
      print_link: z
        .boolean()
        .describe(
          'Return the reset link as `link` instead of mailing it (always so without `smtpUrl`).',
        )
        .optional(),
    })
    .strict(),
  PasswordSet: z
    .object({ password: z.string().max(1024).describe('8 to 1024 characters.') })
    .strict(),
  ClientCreate: clientBody
    .extend({
      client_id: str.describe('Default: 24 generated characters. Not UUID-shaped, not `spaces:…`.'),
      client_secret: str.describe(
        'Import a secret (16-512 printable characters); default: a generated 256-bit one.',
      ),
      public: z.boolean().describe('No secret; PKCE required.'),
    })
    .partial()
    .strict()
    .describe('`name` is required: a client without one is refused (`invalid_request`).'),
  ClientUpdate: clientBody.describe(UPDATE),
  SecretRotation: z
    .object({
      grace_seconds: z
        .number()
        .int()
        .min(0)
        .describe('How long the previous secret stays valid (default 0).'),
      client_secret: str.describe('Import the new secret instead of generating one.'),
    })
    .partial()
    .strict(),
  KeyRotation: z
    .object({
      alg: z.enum(SIGNING_ALGS).describe('Default: the `signingAlg` option.'),
      now: z.boolean().describe('Sign with it at once, not after `keyPublishAhead`.'),
    })
    .partial()
    .strict(),
} as const;
