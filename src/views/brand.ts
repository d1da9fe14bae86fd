import type { FastifyInstance } from 'fastify';
import type { Deps } from '../server/deps.js';
import { BRAND_KINDS, type BrandKind, type Branding, type Client } from '../store/store.js';
import { type PageBrand, defaultBrand } from './pages.js';
import { type Messages, messages } from './messages/index.js';

const logoPath = (b: Branding) =>
  `/branding/logo/${b.kind}/${encodeURIComponent(b.ownerId)}?v=${b.updatedAt}`;
const stylePath = (b: Branding) =>
  `/branding/style/${b.kind}/${encodeURIComponent(b.ownerId)}.css?v=${b.updatedAt}`;

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
    logoUrl: logo ? logoPath(logo) : undefined,
    styleUrl: color ? stylePath(color) : undefined,
    supportUrl: support ?? undefined,
  };
}

/**
 * The branding of the pages shown for `client`: the client's own wins; a client bound to
 * exactly one tenant falls back to that tenant's (before login the tenant is not otherwise
 * known); then `tenantId`'s when given (pages after a tenant is chosen).
 */
export async function brandForClient(
  deps: Pick<Deps, 'store'>,
  client: Pick<Client, 'id' | 'tenants'>,
  tenantId?: string,
): Promise<PageBrand> {
  const bound = client.tenants.length === 1 ? client.tenants[0]?.id : undefined;
  const tenant = tenantId ?? bound;
  return pageBrand([
    await deps.store.getBranding('client', client.id),
    tenant === undefined ? undefined : await deps.store.getBranding('tenant', tenant),
  ]);
}

/** WCAG relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** White or near-black text on `accent`, whichever contrasts more. */
export function textOn(accent: string): string {
  const l = luminance(accent);
  const dark = luminance('#111111');
  return 1.05 / (l + 0.05) >= (l + 0.05) / (dark + 0.05) ? '#ffffff' : '#111111';
}

/** The per-brand stylesheet: the accent colour (pages allow no inline styles). */
export function brandStylesheet(color: string): string {
  return `:root { --accent: ${color}; --on-accent: ${textOn(color)}; }\n`;
}

function isKind(v: string | undefined): v is BrandKind {
  return BRAND_KINDS.includes(v as BrandKind);
}

/** `GET /branding/logo/:kind/:id` and `GET /branding/style/:kind/:id.css`. */
export function registerBrandingRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/branding/logo/:kind/:id', async (req, reply) => {
    const { kind, id } = req.params as Record<string, string | undefined>;
    const b = isKind(kind) && id ? await deps.store.getBranding(kind, id) : undefined;
    if (!b?.logoBase64 || !b.logoType) return reply.code(404).send({ error: 'not_found' });
    await reply
      .header('cache-control', 'public, max-age=3600')
      // An SVG opened directly must not run anything in our origin.
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
      .header('cross-origin-resource-policy', 'same-origin')
      .type(b.logoType)
      .send(Buffer.from(b.logoBase64, 'base64'));
  });
  app.get('/branding/style/:kind/:file', async (req, reply) => {
    const { kind, file } = req.params as Record<string, string | undefined>;
    const id = file?.endsWith('.css') ? file.slice(0, -'.css'.length) : undefined;
    const b = isKind(kind) && id ? await deps.store.getBranding(kind, id) : undefined;
    if (!b?.color) return reply.code(404).send({ error: 'not_found' });
    await reply
      .header('cache-control', 'public, max-age=3600')
      .type('text/css; charset=utf-8')
      .send(brandStylesheet(b.color));
  });
}
