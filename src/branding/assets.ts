import type { FastifyReply, FastifyRequest } from 'fastify';
import { BRAND_KINDS, type BrandKind } from '../store/store.js';
import { brandStylesheet } from '../views/brand.js';
import type { BrandingStore } from './service.js';

function isKind(v: string | undefined): v is BrandKind {
  return BRAND_KINDS.includes(v as BrandKind);
}

/** `GET /branding/logo/:kind/:id`: the uploaded image, unable to run anything in our origin. */
export async function logoAsset(
  store: BrandingStore,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const { kind, id } = req.params as Record<string, string | undefined>;
  const b = isKind(kind) && id ? await store.getBranding(kind, id) : undefined;
  if (!b?.logoBase64 || !b.logoType) return reply.code(404).send({ error: 'not_found' });
  await reply
    .header('cache-control', 'public, max-age=3600')
    // An SVG opened directly must not run anything in our origin.
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox")
    .header('cross-origin-resource-policy', 'same-origin')
    .type(b.logoType)
    .send(Buffer.from(b.logoBase64, 'base64'));
}

/** `GET /branding/style/:kind/:id.css`: the accent colour (pages allow no inline styles). */
export async function styleAsset(
  store: BrandingStore,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const { kind, file } = req.params as Record<string, string | undefined>;
  const id = file?.endsWith('.css') ? file.slice(0, -'.css'.length) : undefined;
  const b = isKind(kind) && id ? await store.getBranding(kind, id) : undefined;
  if (!b?.color) return reply.code(404).send({ error: 'not_found' });
  await reply
    .header('cache-control', 'public, max-age=3600')
    .type('text/css; charset=utf-8')
    .send(brandStylesheet(b.color));
}
