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
