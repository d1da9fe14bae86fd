import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireBearer } from '../oauth/bearer.js';
import { InvalidRequest } from '../errors.js';
import { requestOrigin } from '../observability/audit.js';
import type { OAuthDeps } from '../oauth/context.js';
import { ConflictError, NotFoundError } from '../store/store.js';
import { listAudit } from './audit.js';
import { ADMIN_BODIES, ADMIN_SCOPE } from './bodies.js';
import {
  createClient,
  deleteClient,
  getClient,
  listClients,
  rotateSecret,
  updateClient,
} from './clients.js';
import type { BrandingInput } from './branding.js';
import { type AdminContext, ValidationError } from './context.js';
import { listKeys, rotateKey } from './keys.js';
import { createTenant, listTenants, setTelemetry, updateTenant } from './tenants.js';
import {
  createUser,
  disableUser,
  inviteUser,
  listConsents,
  listUsers,
  resetPasswordLink,
  revokeConsent,
  setPassword,
} from './users.js';

/** Admin bodies are JSON objects (lists and booleans, unlike token requests). */
function body<T extends z.ZodType>(schema: T, request: FastifyRequest): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(
      typeof request.body === 'string' && request.body.length > 0 ? request.body : '{}',
    );
  } catch {
    throw new InvalidRequest('body is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidRequest(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function brandingInput(b: {
  brand_name?: string | undefined;
  brand_color?: string | undefined;
  brand_support_url?: string | undefined;
  brand_logo_base64?: string | undefined;
  brand_logo_url?: string | undefined;
}): BrandingInput | undefined {
  if (b.brand_logo_base64 !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(b.brand_logo_base64))
    throw new InvalidRequest('brand_logo_base64: not base64');
  const input: BrandingInput = {
    name: b.brand_name,
    color: b.brand_color,
    supportUrl: b.brand_support_url,
    logo:
      b.brand_logo_base64 === undefined ? undefined : Buffer.from(b.brand_logo_base64, 'base64'),
    logoUrl: b.brand_logo_url,
  };
  return Object.values(input).some((v) => v !== undefined) ? input : undefined;
}

function clientInput(b: z.output<typeof ADMIN_BODIES.ClientUpdate>) {
  return {
    name: b.name,
    dialect: b.dialect,
    grants: b.grants,
    redirectUris: b.redirect_uris,
    tenants: b.tenants,
    scopes: b.scopes,
    audience: b.audience,
    accessTokenTtl: b.access_token_ttl,
    refreshTokenTtl: b.refresh_token_ttl,
    refreshGrace: b.refresh_grace,
    requirePkce: b.require_pkce,
    idTokenAlg: b.id_token_alg,
    postLogoutRedirectUris: b.post_logout_redirect_uris,
    backchannelLogoutUri: b.backchannel_logout_uri,
    consent: b.consent,
    branding: brandingInput(b),
  };
}

function tenantInput(b: z.output<typeof ADMIN_BODIES.TenantUpdate>) {
  return {
    name: b.name,
    domain: b.domain,
    appUrl: b.app_url,
    supportEmail: b.support_email,
    branding: brandingInput(b),
  };
}

type Params = Record<string, string>;

/**
 * `/admin/v1/…`: the same management services as the CLI (so a rule lives in one place),
 * behind an RFC 6750 bearer check for the `tessera:admin` scope. Service refusals map to
 * 400 `invalid_request`, 404 `not_found` and 409 `conflict`; everything else goes through the
 * one error serializer.
 */
/** The admin API checks bearer tokens as the protocol does and then acts as the CLI would. */
export type AdminApiDeps = OAuthDeps & Omit<AdminContext, 'origin'>;

export function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): void {
  // Changes made over the API are audited with the caller's IP and request id.
  const from = (req: FastifyRequest): AdminContext => ({ ...deps, origin: requestOrigin(req) });
  void app.register(
    async (admin) => {
      admin.addHook('preHandler', async (request) => {
        await requireBearer(request, deps, { scope: ADMIN_SCOPE });
      });
      admin.setErrorHandler(async (err, _request, reply: FastifyReply) => {
        if (err instanceof ValidationError) throw new InvalidRequest(err.message);
        if (err instanceof NotFoundError) {
          return reply.code(404).send({ error: 'not_found', error_description: err.message });
        }
        if (err instanceof ConflictError) {
          return reply.code(409).send({ error: 'conflict', error_description: err.message });
        }
        throw err;
      });

      admin.get('/tenants', () => listTenants(deps));
      admin.post('/tenants', async (req, reply) => {
        const b = body(ADMIN_BODIES.TenantCreate, req);
        return reply.code(201).send(await createTenant(from(req), b.id, tenantInput(b)));
      });
      admin.patch('/tenants/:id', (req) =>
        updateTenant(
          from(req),
          (req.params as Params)['id'] ?? '',
          tenantInput(body(ADMIN_BODIES.TenantUpdate, req)),
        ),
      );
      admin.put('/tenants/:id/telemetry/:name', (req) => {
        const p = req.params as Params;
        const b = body(ADMIN_BODIES.TelemetrySet, req);
        return setTelemetry(from(req), p['id'] ?? '', {
          name: p['name'] ?? '',
          value: b.value,
          units: b.units,
          type: b.type ?? 'metric',
        });
      });

      admin.get('/users', () => listUsers(deps));
      admin.post('/users', async (req, reply) => {
        const b = body(ADMIN_BODIES.UserCreate, req);
        return reply.code(201).send(await createUser(from(req), b));
      });
      admin.put('/users/:email/password', (req) =>
        setPassword(
          from(req),
          (req.params as Params)['email'] ?? '',
          body(ADMIN_BODIES.PasswordSet, req).password,
        ),
      );
      admin.post('/users/:email/invite', (req) => {
        const b = body(ADMIN_BODIES.UserInvite, req);
        return inviteUser(from(req), {
          email: (req.params as Params)['email'] ?? '',
          name: b.name,
          tenants: b.tenants ?? [],
          printLink: b.print_link,
        });
      });
      admin.post('/users/:email/reset-password', (req) =>
        resetPasswordLink(
          from(req),
          (req.params as Params)['email'] ?? '',
          body(ADMIN_BODIES.LinkRequest, req).print_link,
        ),
      );
      admin.post('/users/:email/disable', (req) =>
        disableUser(from(req), (req.params as Params)['email'] ?? ''),
      );
      admin.get('/users/:email/consents', (req) =>
        listConsents(deps, (req.params as Params)['email'] ?? ''),
      );
      // 204 without a body: the consent no longer exists to be shown (GET …/consents lists
      // what is left).
      admin.delete('/users/:email/consents/:clientId', async (req, reply) => {
        const p = req.params as Params;
        await revokeConsent(from(req), p['email'] ?? '', p['clientId'] ?? '');
        return reply.code(204).send();
      });

      admin.get('/clients', () => listClients(deps));
      admin.post('/clients', async (req, reply) => {
        const b = body(ADMIN_BODIES.ClientCreate, req);
        const created = await createClient(from(req), {
          ...clientInput(b),
          clientId: b.client_id,
          secret: b.client_secret,
          public: b.public,
        });
        return reply.code(201).send(created);
      });
      admin.get('/clients/:id', (req) => getClient(deps, (req.params as Params)['id'] ?? ''));
      admin.patch('/clients/:id', (req) =>
        updateClient(
          from(req),
          (req.params as Params)['id'] ?? '',
          clientInput(body(ADMIN_BODIES.ClientUpdate, req)),
        ),
      );
      admin.post('/clients/:id/rotate-secret', (req) => {
        const b = body(ADMIN_BODIES.SecretRotation, req);
        return rotateSecret(from(req), (req.params as Params)['id'] ?? '', {
          graceSeconds: b.grace_seconds ?? 0,
          secret: b.client_secret,
        });
      });
      admin.delete('/clients/:id', (req) =>
        deleteClient(from(req), (req.params as Params)['id'] ?? ''),
      );

      admin.get('/keys', () => listKeys(deps));
      admin.post('/keys/rotate', (req) => {
        const b = body(ADMIN_BODIES.KeyRotation, req);
        return rotateKey(from(req), { alg: b.alg, now: b.now === true });
      });

      admin.get('/audit', (req) => {
        const q = req.query as Record<string, unknown>;
        const text = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
        const limit = text('limit') === undefined ? undefined : Number(text('limit'));
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 10_000)) {
          throw new InvalidRequest('limit must be a whole number from 1 to 10000');
        }
        return listAudit(deps, {
          since: text('since'),
          type: text('type'),
          tenant: text('tenant'),
          client: text('client'),
          limit,
        });
      });
    },
    { prefix: '/admin/v1' },
  );
}
