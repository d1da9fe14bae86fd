import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { type BrandingInput, MAX_LOGO_BYTES } from '../admin/branding.js';
import { ValidationError } from '../admin/context.js';

export interface BrandFlags {
  brandName?: string;
  brandLogoFile?: string;
  brandLogoUrl?: string;
  brandColor?: string;
  brandSupportUrl?: string;
}

/** The `--brand-*` options of `tenant create/update` and `client create/update`. */
export function brandOptions(cmd: Command): Command {
  return cmd
    .option('--brand-name <name>', 'product name shown on the pages ("" clears)')
    .option(
      '--brand-logo-file <file>',
      `logo image: PNG, SVG, JPEG or WebP, at most ${MAX_LOGO_BYTES / 1024} KiB ("" clears)`,
    )
    .option('--brand-logo-url <url>', 'not supported (the CSP serves images only from Tessera)')
    .option('--brand-color <#rrggbb>', 'accent colour of the pages ("" clears)')
    .option('--brand-support-url <url>', 'https: URL or mailto: shown as a help link ("" clears)');
}

function readLogo(file: string): Uint8Array {
  if (file === '') return new Uint8Array();
  try {
    // Checked before reading, so a huge file is refused without loading it.
    if (statSync(file).size > MAX_LOGO_BYTES)
      throw new ValidationError(`a logo may be at most ${MAX_LOGO_BYTES / 1024} KiB (${file})`);
    return readFileSync(file);
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`cannot read logo file ${file}: ${(err as Error).message}`);
  }
}

export function brandInput(f: BrandFlags): BrandingInput | undefined {
  const input: BrandingInput = {
    name: f.brandName,
    logo: f.brandLogoFile === undefined ? undefined : readLogo(f.brandLogoFile),
    logoUrl: f.brandLogoUrl,
    color: f.brandColor,
    supportUrl: f.brandSupportUrl,
  };
  return Object.values(input).some((v) => v !== undefined) ? input : undefined;
}
