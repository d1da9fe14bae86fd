import { randomBytes } from 'node:crypto';
import { type Client, GRANT_TYPES, type GrantType, NotFoundError } from '../store/store.js';
import { opaqueToken } from '../tokens/opaque.js';
import { type BrandingInput, applyBranding, brandingView, validateBranding } from './branding.js';
import { parseScope } from '../oauth/token/issue.js';
import { SIGNING_ALGS, type SigningAlg } from '../tokens/keystore.js';
import { LAUNCH_SUBJECT_PREFIX } from '../oauth/subject.js';
import {
  type AdminContext,
  ValidationError,
  audited,
  checkId,
  checkSeconds,
  checkTenantsExist,
  checkUrl,
  iso,
} from './context.js';

export interface ClientInput {
  readonly name?: string | undefined;
  readonly dialect?: string | undefined;
  readonly grants?: readonly string[] | undefined;
  readonly redirectUris?: readonly string[] | undefined;
  readonly tenants?: readonly string[] | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly audience?: string | undefined;
  readonly accessTokenTtl?: number | undefined;
  readonly refreshTokenTtl?: number | undefined;
  /** Seconds, 0 to MAX_REFRESH_GRACE (0: off). */
  readonly refreshGrace?: number | undefined;
  readonly requirePkce?: boolean | undefined;
  /** The `alg` of its ID Tokens: one of SIGNING_ALGS (default RS256). */
  readonly idTokenAlg?: string | undefined;
  /** RP-Initiated Logout targets, exact match; validated like redirect URIs. */
  readonly postLogoutRedirectUris?: readonly string[] | undefined;
  /** Back-Channel Logout endpoint (https, or http on loopback); "" clears it on update. */
  readonly backchannelLogoutUri?: string | undefined;
  /** Ask the user's consent (DESIGN §6); default false: first-party. */
  readonly consent?: boolean | undefined;
  /** Page branding (name, logo, colour, support link); wins over the tenant's on the login page. */
  readonly branding?: BrandingInput | undefined;
}

/** A bare `--refresh-grace` (DESIGN §3). */
export const DEFAULT_REFRESH_GRACE = 30;
/**
 * The longest grace: a rotated token is a replayable credential while it lasts (Ory Hydra
 * caps its grace period at 5 minutes too).
 */
export const MAX_REFRESH_GRACE = 300;

function checkRefreshGrace(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_REFRESH_GRACE)
    throw new ValidationError(
      `refresh grace must be a whole number of seconds from 0 (off) to ${MAX_REFRESH_GRACE}`,
    );
  return value;
}

/**
 * JSON view of a client; `client_secret` only when Tessera just generated one (an imported
 * secret is never echoed: DESIGN §3).
 */
export function clientView(c: Client, secret?: string) {
  return {
    client_id: c.id,
    ...(secret !== undefined && { client_secret: secret }),
    name: c.name,
    dialect: c.dialect,
    public: c.secretHash === null,
    grants: c.grants,
    redirect_uris: c.redirectUris,
    tenants: c.tenants.map((t) => t.id),
    scopes: c.scopes,
    audience: c.audience,
    access_token_ttl: c.accessTokenTtl,
    refresh_token_ttl: c.refreshTokenTtl,
    refresh_grace: c.refreshGrace,
    require_pkce: c.requirePkce,
    id_token_alg: c.idTokenAlg,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    backchannel_logout_uri: c.backchannelLogoutUri,
    consent: c.consent,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function generatedClientId(): string {
  // 24 base62 characters; never UUID-shaped, so it cannot collide with a user's `sub`.
  return [...randomBytes(24)].map((b) => BASE62[b % 62]).join('');
}

function checkClientId(id: string): string {
  checkId('client id', id);
  // User ids are UUIDs and a client token's `sub` is its client id: keep the two apart.
  if (UUID.test(id)) throw new ValidationError('client ids in UUID form are reserved for users');
  if (id.startsWith(LAUNCH_SUBJECT_PREFIX)) {
    throw new ValidationError(
      `client ids starting with "${LAUNCH_SUBJECT_PREFIX}" are reserved for Cisco Spaces launch sessions`,
    );
  }
  return id;
}

/** An imported secret must be long enough to resist guessing; generated ones carry 256 bits. */
function checkImportedSecret(secret: string): string {
  if (secret.length < 16)
    throw new ValidationError('an imported client secret needs at least 16 characters');
  if (secret.length > 512 || !/^[\x21-\x7e]+$/.test(secret)) {
    throw new ValidationError(
      'a client secret is printable ASCII without spaces, at most 512 characters',
    );
  }
  return secret;
}

function checkIdTokenAlg(alg: string): SigningAlg {
  if (!SIGNING_ALGS.includes(alg as SigningAlg))
    throw new ValidationError(
      `unknown ID Token algorithm "${alg}" (one of ${SIGNING_ALGS.join(', ')})`,
    );
  return alg as SigningAlg;
}

function checkBackchannelUri(uri: string): string | null {
  return uri === '' ? null : checkUrl('back-channel logout URI', uri);
}

function checkGrants(grants: readonly string[]): GrantType[] {
  for (const g of grants) {
    if (!GRANT_TYPES.includes(g as GrantType)) {
      throw new ValidationError(`unknown grant "${g}" (one of ${GRANT_TYPES.join(', ')})`);
    }
  }
  return [...new Set(grants as GrantType[])];
}

function checkScopes(scopes: readonly string[]): string[] {
  try {
    return parseScope(scopes.join(' '));
  } catch {
    throw new ValidationError('scopes are printable ASCII without spaces, quotes or backslashes');
  }
}

function checkDialect(ctx: AdminContext, name: string): string {
  if (!ctx.dialects.get(name))
    throw new ValidationError(
      `unknown dialect "${name}" (one of ${ctx.dialects.names().join(', ')})`,
    );
  return name;
}

/** Rules that span fields, checked on the client as it will be stored. */
function checkConsistency(c: Pick<Client, 'grants' | 'redirectUris' | 'secretHash'>): void {
  if (c.grants.length === 0) throw new ValidationError('a client needs at least one grant');
  if (c.grants.includes('authorization_code') && c.redirectUris.length === 0) {
    throw new ValidationError('the authorization_code grant needs at least one --redirect-uri');
  }
  if (c.secretHash === null && c.grants.includes('client_credentials')) {
    throw new ValidationError('a public client cannot use client_credentials');
  }
}

export async function createClient(
  ctx: AdminContext,
  input: ClientInput & {
    clientId?: string | undefined;
    secret?: string | undefined;
    public?: boolean | undefined;
  },
) {
  if (!input.name?.trim()) throw new ValidationError('a client needs a --name');
  if (input.public && input.secret !== undefined)
    throw new ValidationError('a public client has no secret');
  const dialect = checkDialect(ctx, input.dialect ?? 'standard');
  const secret = input.public
    ? undefined
    : input.secret !== undefined
      ? checkImportedSecret(input.secret)
      : opaqueToken();
  const now = ctx.clock();
  const client = {
    id: checkClientId(input.clientId ?? generatedClientId()),
    name: input.name.trim(),
    secretHash: secret === undefined ? null : ctx.crypto.hashSecret(secret),
    dialect,
    grants: checkGrants(input.grants ?? ctx.dialects.get(dialect)?.defaultGrants ?? []),
    redirectUris: (input.redirectUris ?? []).map((u) => checkUrl('redirect URI', u)),
    scopes: checkScopes(input.scopes ?? []),
    audience: input.audience ?? null,
    accessTokenTtl: checkSeconds('access-token TTL', input.accessTokenTtl) ?? null,
    refreshTokenTtl: checkSeconds('refresh-token TTL', input.refreshTokenTtl) ?? null,
    refreshGrace: checkRefreshGrace(input.refreshGrace ?? 0),
    // RFC 9700 §2.1.1: public clients always use PKCE.
    requirePkce: (input.requirePkce ?? false) || input.public === true,
    idTokenAlg: checkIdTokenAlg(input.idTokenAlg ?? 'RS256'),
    postLogoutRedirectUris: (input.postLogoutRedirectUris ?? []).map((u) =>
      checkUrl('post-logout redirect URI', u),
    ),
    backchannelLogoutUri: checkBackchannelUri(input.backchannelLogoutUri ?? ''),
    consent: input.consent ?? false,
    createdAt: now,
    updatedAt: now,
  };
  checkConsistency(client);
  if (input.branding) validateBranding(input.branding);
  await checkTenantsExist(ctx, input.tenants ?? []);
  await ctx.store.createClient({ ...client, tenantIds: input.tenants ?? [] });
  const branding = input.branding
    ? await applyBranding(ctx, 'client', client.id, input.branding)
    : undefined;
  await audited(ctx, { type: 'client.created', clientId: client.id });
  return {
    ...clientView(
      (await ctx.store.getClient(client.id)) as Client,
      input.secret === undefined ? secret : undefined,
    ),
    ...brandingView(branding),
  };
}

export async function updateClient(ctx: AdminContext, id: string, input: ClientInput) {
  const current = await ctx.store.getClient(id);
  if (!current) throw new NotFoundError(`client ${id} not found`);
  const patch = {
    ...(input.name !== undefined && { name: input.name.trim() }),
    ...(input.dialect !== undefined && { dialect: checkDialect(ctx, input.dialect) }),
    ...(input.grants !== undefined && { grants: checkGrants(input.grants) }),
    ...(input.redirectUris !== undefined && {
      redirectUris: input.redirectUris.map((u) => checkUrl('redirect URI', u)),
    }),
    ...(input.scopes !== undefined && { scopes: checkScopes(input.scopes) }),
    ...(input.audience !== undefined && { audience: input.audience }),
    ...(input.accessTokenTtl !== undefined && {
      accessTokenTtl: checkSeconds('access-token TTL', input.accessTokenTtl) ?? null,
    }),
    ...(input.refreshTokenTtl !== undefined && {
      refreshTokenTtl: checkSeconds('refresh-token TTL', input.refreshTokenTtl) ?? null,
    }),
    ...(input.refreshGrace !== undefined && {
      refreshGrace: checkRefreshGrace(input.refreshGrace),
    }),
    ...(input.requirePkce !== undefined && {
      requirePkce: input.requirePkce || current.secretHash === null,
    }),
    ...(input.idTokenAlg !== undefined && { idTokenAlg: checkIdTokenAlg(input.idTokenAlg) }),
    ...(input.postLogoutRedirectUris !== undefined && {
      postLogoutRedirectUris: input.postLogoutRedirectUris.map((u) =>
        checkUrl('post-logout redirect URI', u),
      ),
    }),
    ...(input.backchannelLogoutUri !== undefined && {
      backchannelLogoutUri: checkBackchannelUri(input.backchannelLogoutUri),
    }),
    ...(input.consent !== undefined && { consent: input.consent }),
    ...(input.tenants !== undefined && { tenantIds: input.tenants }),
  };
  checkConsistency({ ...current, ...patch });
  if (input.branding) validateBranding(input.branding);
  await checkTenantsExist(ctx, input.tenants ?? []);
  const updated = await ctx.store.updateClient(id, { ...patch, updatedAt: ctx.clock() });
  const branding = await applyBranding(ctx, 'client', id, input.branding ?? {});
  const changed = [
    ...Object.keys(patch),
    ...Object.entries(input.branding ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([k]) => `branding.${k}`),
  ];
  await audited(ctx, {
    type: 'client.updated',
    clientId: id,
    reason: `changed: ${changed.join(', ') || 'nothing'}`,
  });
  return { ...clientView(updated), ...brandingView(branding) };
}

export async function getClient(ctx: AdminContext, id: string) {
  const client = await ctx.store.getClient(id);
  if (!client) throw new NotFoundError(`client ${id} not found`);
  return { ...clientView(client), ...brandingView(await ctx.store.getBranding('client', id)) };
}

export async function listClients(ctx: AdminContext) {
  return (await ctx.store.listClients()).map((c) => clientView(c));
}

export async function deleteClient(ctx: AdminContext, id: string) {
  if (!(await ctx.store.deleteClient(id))) throw new NotFoundError(`client ${id} not found`);
  await ctx.store.deleteBranding('client', id);
  await audited(ctx, { type: 'client.deleted', clientId: id });
  return { client_id: id, deleted: true };
}

/**
 * New secret (generated and shown once, or imported and never echoed); the old one keeps
 * working for `graceSeconds` (0: not at all).
 */
export async function rotateSecret(
  ctx: AdminContext,
  id: string,
  opts: { graceSeconds: number; secret?: string | undefined },
) {
  const current = await ctx.store.getClient(id);
  if (!current) throw new NotFoundError(`client ${id} not found`);
  if (current.secretHash === null)
    throw new ValidationError(`client ${id} is public and has no secret`);
  const secret = opts.secret !== undefined ? checkImportedSecret(opts.secret) : opaqueToken();
  const now = ctx.clock();
  const until = opts.graceSeconds > 0 ? now + opts.graceSeconds : null;
  const rotated = await ctx.store.rotateClientSecret(id, ctx.crypto.hashSecret(secret), until, now);
  await audited(ctx, {
    type: 'client.secret_rotated',
    clientId: id,
    reason: `previous secret valid for ${opts.graceSeconds} s`,
  });
  return clientView(rotated, opts.secret === undefined ? secret : undefined);
}
