import type { Telemetry, Tenant } from '../store/store.js';
import { type BrandingInput, applyBranding, brandingView, validateBranding } from './branding.js';
import {
  type AdminContext,
  ValidationError,
  audited,
  checkDomain,
  checkEmail,
  checkId,
  checkUrl,
  iso,
} from './context.js';

export interface TenantInput {
  readonly name?: string | undefined;
  readonly domain?: string | undefined;
  readonly appUrl?: string | undefined;
  readonly supportEmail?: string | undefined;
  /** Page branding (name, logo, colour, support link). */
  readonly branding?: BrandingInput | undefined;
}

/** Wire/JSON view of a tenant (snake_case, times ISO-8601). */
export function tenantView(t: Tenant, telemetry?: readonly Telemetry[]) {
  return {
    id: t.id,
    name: t.name,
    domain: t.domain,
    app_url: t.appUrl,
    support_email: t.supportEmail,
    ...(telemetry && { telemetry }),
    created_at: iso(t.createdAt),
  };
}

function normalise(input: TenantInput) {
  return {
    ...(input.name !== undefined && { name: input.name.trim() }),
    ...(input.domain !== undefined && { domain: checkDomain(input.domain) }),
    ...(input.appUrl !== undefined && { appUrl: checkUrl('app URL', input.appUrl) }),
    ...(input.supportEmail !== undefined && { supportEmail: checkEmail(input.supportEmail) }),
  };
}

export async function createTenant(ctx: AdminContext, id: string, input: TenantInput) {
  const v = normalise(input);
  if (!v.name) throw new ValidationError('a tenant needs a --name');
  if (input.branding) validateBranding(input.branding);
  const tenant: Tenant = {
    id: checkId('tenant id', id),
    name: v.name,
    domain: v.domain ?? null,
    appUrl: v.appUrl ?? null,
    supportEmail: v.supportEmail ?? null,
    createdAt: ctx.clock(),
  };
  await ctx.store.createTenant(tenant);
  const branding = input.branding
    ? await applyBranding(ctx, 'tenant', tenant.id, input.branding)
    : undefined;
  await audited(ctx, { type: 'tenant.created', tenantId: tenant.id });
  return { ...tenantView(tenant), ...brandingView(branding) };
}

export async function updateTenant(ctx: AdminContext, id: string, input: TenantInput) {
  const v = normalise(input);
  if (v.name === '') throw new ValidationError('a tenant name cannot be empty');
  if (input.branding) validateBranding(input.branding);
  const updated = await ctx.store.updateTenant(id, v);
  const branding = await applyBranding(ctx, 'tenant', id, input.branding ?? {});
  const changed = [
    ...Object.keys(v),
    ...Object.entries(input.branding ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([k]) => `branding.${k}`),
  ];
  await audited(ctx, {
    type: 'tenant.updated',
    tenantId: id,
    reason: `changed: ${changed.join(', ') || 'nothing'}`,
  });
  return { ...tenantView(updated), ...brandingView(branding) };
}

export async function listTenants(ctx: AdminContext) {
  return (await ctx.store.listTenants()).map((t) => tenantView(t));
}

export async function setTelemetry(ctx: AdminContext, tenantId: string, entry: Telemetry) {
  if (!entry.name || !entry.type) throw new ValidationError('telemetry needs a name and a type');
  await ctx.store.setTelemetry(tenantId, entry);
  await audited(ctx, { type: 'tenant.updated', tenantId, reason: `telemetry ${entry.name} set` });
  return { tenant_id: tenantId, ...entry };
}
