import type { BrandKind, Branding } from '../store/store.js';
import { type AdminContext, ValidationError } from './context.js';

/** Largest logo accepted, in bytes. */
export const MAX_LOGO_BYTES = 64 * 1024;
const MAX_NAME = 80;

/**
 * Branding as the CLI and the admin API give it. `undefined` leaves a field as it is; an
 * empty string (or, for the logo, empty bytes) clears it.
 */
export interface BrandingInput {
  readonly name?: string | undefined;
  /** Logo bytes (a file read by the CLI, base64-decoded by the API). */
  readonly logo?: Uint8Array | undefined;
  /** Refused: an external logo would break the pages' `img-src 'self' data:` CSP. */
  readonly logoUrl?: string | undefined;
  readonly color?: string | undefined;
  readonly supportUrl?: string | undefined;
}

export function hasBranding(input: BrandingInput): boolean {
  return Object.values(input).some((v) => v !== undefined);
}

/** The image type of `bytes` by its signature: png, jpeg, webp or svg; anything else is refused. */
export function sniffImage(bytes: Uint8Array): string | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (
    b.subarray(0, 4).toString('latin1') === 'RIFF' &&
    b.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'image/webp';
  const text = b
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text))
    return 'image/svg+xml';
  return undefined;
}

export function checkLogo(bytes: Uint8Array): { type: string; base64: string } {
  if (bytes.byteLength > MAX_LOGO_BYTES)
    throw new ValidationError(
      `a logo may be at most ${MAX_LOGO_BYTES / 1024} KiB (got ${Math.ceil(bytes.byteLength / 1024)} KiB)`,
    );
  const type = sniffImage(bytes);
  if (!type) throw new ValidationError('a logo must be a PNG, SVG, JPEG or WebP image');
  if (type === 'image/svg+xml') {
    // Served with a sandboxing CSP anyway; refuse active content outright.
    const text = Buffer.from(bytes).toString('utf8');
    if (/<script|<foreignObject|\son[a-z]+\s*=|javascript:/i.test(text))
      throw new ValidationError('an SVG logo must not contain scripts or event handlers');
  }
  return { type, base64: Buffer.from(bytes).toString('base64') };
}

export function checkColor(value: string): string {
  const color = value.trim().toLowerCase();
  if (!/^#[0-9a-f]{6}$/.test(color))
    throw new ValidationError(`brand colour "${value}" must be #rrggbb (e.g. #0b5cad)`);
  return color;
}

export function checkSupportUrl(value: string): string {
  const v = value.trim();
  if (/^mailto:[^\s@]+@[^\s@]+\.[^\s@]+$/i.test(v)) return v;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ValidationError(`support URL "${value}" is not an https: URL or a mailto: address`);
  }
  if (url.protocol !== 'https:')
    throw new ValidationError(`support URL "${value}" must be an https: URL or a mailto: address`);
  return url.href;
}

function checkName(value: string): string {
  const name = value.trim();
  if (name.length > MAX_NAME || [...name].some((c) => c.charCodeAt(0) < 0x20 || c === '\x7f'))
    throw new ValidationError(
      `a brand name is at most ${MAX_NAME} characters without control characters`,
    );
  return name;
}

const orNull = (v: string): string | null => (v === '' ? null : v);

/** Applies `input` to the stored branding of `kind`/`ownerId` (created when missing). */
export async function applyBranding(
  ctx: AdminContext,
  kind: BrandKind,
  ownerId: string,
  input: BrandingInput,
): Promise<Branding | undefined> {
  if (input.logoUrl !== undefined) {
    throw new ValidationError(
      "logo URLs are not supported: the pages' CSP allows images only from Tessera itself; upload the image file instead (--brand-logo-file, or brand_logo_base64)",
    );
  }
  const current = await ctx.store.getBranding(kind, ownerId);
  if (!hasBranding(input)) return current;
  const logo =
    input.logo === undefined
      ? undefined
      : input.logo.byteLength === 0
        ? { type: null, base64: null }
        : checkLogo(input.logo);
  const next: Branding = {
    kind,
    ownerId,
    productName:
      input.name !== undefined ? orNull(checkName(input.name)) : (current?.productName ?? null),
    color:
      input.color !== undefined
        ? input.color.trim() === ''
          ? null
          : checkColor(input.color)
        : (current?.color ?? null),
    supportUrl:
      input.supportUrl !== undefined
        ? input.supportUrl.trim() === ''
          ? null
          : checkSupportUrl(input.supportUrl)
        : (current?.supportUrl ?? null),
    logoType: logo ? logo.type : (current?.logoType ?? null),
    logoBase64: logo ? logo.base64 : (current?.logoBase64 ?? null),
    updatedAt: ctx.clock(),
  };
  await ctx.store.putBranding(next);
  return next;
}

/** Validates without storing (before the owner exists). */
export function validateBranding(input: BrandingInput): void {
  if (input.logoUrl !== undefined) {
    throw new ValidationError(
      "logo URLs are not supported: the pages' CSP allows images only from Tessera itself; upload the image file instead (--brand-logo-file, or brand_logo_base64)",
    );
  }
  if (input.name !== undefined) checkName(input.name);
  if (input.color !== undefined && input.color.trim() !== '') checkColor(input.color);
  if (input.supportUrl !== undefined && input.supportUrl.trim() !== '')
    checkSupportUrl(input.supportUrl);
  if (input.logo !== undefined && input.logo.byteLength > 0) checkLogo(input.logo);
}

/** JSON view (snake_case), merged into the tenant or client view when branding is set. */
export function brandingView(b: Branding | undefined) {
  if (!b) return {};
  return {
    brand_name: b.productName,
    brand_color: b.color,
    brand_support_url: b.supportUrl,
    brand_logo: b.logoBase64 === null ? null : `/branding/logo/${b.kind}/${b.ownerId}`,
  };
}
