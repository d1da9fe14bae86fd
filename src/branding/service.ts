import type { Branding, Client, Store } from '../store/store.js';
import { type Messages, messages } from '../views/messages/index.js';
import { type PageBrand, defaultBrand } from '../views/pages.js';

/** The store operation branding reads: the service needs nothing else. */
export type BrandingStore = Pick<Store, 'getBranding'>;

/** Where a branding's logo and stylesheet are served; `?v=` changes with each update. */
export const BRANDING_PATHS = {
  logoRoute: '/branding/logo/:kind/:id',
  styleRoute: '/branding/style/:kind/:file',
  logo: (b: Branding) =>
    `/branding/logo/${b.kind}/${encodeURIComponent(b.ownerId)}?v=${b.updatedAt}`,
  style: (b: Branding) =>
    `/branding/style/${b.kind}/${encodeURIComponent(b.ownerId)}.css?v=${b.updatedAt}`,
} as const;

/**
 * Merges brandings field by field, the first that sets a field winning; anything unset
 * falls back to the neutral default.
 */
export function pageBrand(
  brandings: readonly (Branding | undefined)[],
  m: Messages = messages,
): PageBrand {
  const set = brandings.filter((b): b is Branding => b !== undefined);
  const name = set.find((b) => b.productName !== null)?.productName;
  const logo = set.find((b) => b.logoBase64 !== null);
  const color = set.find((b) => b.color !== null);
  const support = set.find((b) => b.supportUrl !== null)?.supportUrl;
  return {
    name: name ?? defaultBrand(m).name,
    logoUrl: logo ? BRANDING_PATHS.logo(logo) : undefined,
    styleUrl: color ? BRANDING_PATHS.style(color) : undefined,
    supportUrl: support ?? undefined,
  };
}

/**
 * The branding of the pages shown for `client`: the client's own wins; a client bound to
 * exactly one tenant falls back to that tenant's (before login the tenant is not otherwise
 * known); then `tenantId`'s when given (pages after a tenant is chosen). The pages get the
 * result as a value and render it; they never read the store.
 */
export async function brandForClient(
  store: BrandingStore,
  client: Pick<Client, 'id' | 'tenants'>,
  tenantId?: string,
): Promise<PageBrand> {
  const bound = client.tenants.length === 1 ? client.tenants[0]?.id : undefined;
  const tenant = tenantId ?? bound;
  return pageBrand([
    await store.getBranding('client', client.id),
    tenant === undefined ? undefined : await store.getBranding('tenant', tenant),
  ]);
}
