/**
 * A small SVG bar chart of a bench run: per Tessera scenario, horizontal bars for Tessera,
 * the peer (node-oidc-provider) it is compared with, the minimal token route (bench/minimal.ts)
 * and the ceiling measured in the same run.
 * Each group is scaled to its own largest bar (the numbers are printed on the bars), so an
 * RS256 group (about a thousand per second) is as readable as the bare route (tens of thousands).
 */

export interface ChartRow {
  readonly scenario: string;
  readonly server: 'tessera' | 'peer' | 'ceiling' | 'reference';
  readonly measured?: { readonly rps: number };
  readonly ceiling?: { readonly rps: number };
  readonly peerScenario?: string;
  readonly minimalScenario?: string;
  readonly skipped?: string;
}

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS = {
  tessera: '#2563eb',
  peer: '#f97316',
  reference: '#10b981',
  ceiling: '#9ca3af',
} as const;

export function renderSvg(rows: readonly ChartRow[], when: string): string {
  const width = 960;
  const labelWidth = 320;
  const barMax = width - labelWidth - 120;
  const barHeight = 16;
  const gap = 4;
  const parts: string[] = [];
  let y = 50;
  const bar = (
    label: string,
    value: number | undefined,
    max: number,
    kind: keyof typeof COLORS,
  ) => {
    const w = value === undefined ? 0 : Math.max(1, (value / max) * barMax);
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 12}" text-anchor="end" class="s">${escape(label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${COLORS[kind]}"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 12}" class="s">${
        value === undefined ? 'not run' : `${Math.round(value).toLocaleString('en-US')}/s`
      }</text>`,
    );
    y += barHeight + gap;
  };
  const groups = rows.filter((r) => r.server === 'tessera' || r.server === 'ceiling');
  for (const r of groups) {
    const peer = rows.find((p) => p.server === 'peer' && p.scenario === r.peerScenario);
    const minimal = rows.find((m) => m.server === 'reference' && m.scenario === r.minimalScenario);
    const values = [
      r.measured?.rps,
      peer?.measured?.rps,
      minimal?.measured?.rps,
      r.ceiling?.rps,
    ].filter((v): v is number => v !== undefined);
    const max = Math.max(1, ...values);
    parts.push(`<text x="10" y="${y + 12}" class="h">${escape(r.scenario)}</text>`);
    y += barHeight + gap;
    if (r.server === 'ceiling') {
      bar('bare route (ceiling)', r.measured?.rps, max, 'ceiling');
    } else {
      bar('Tessera', r.skipped ? undefined : r.measured?.rps, max, 'tessera');
      if (peer) {
        // The peer's grant named when it is another (refresh is compared with its opaque
        // client_credentials), and its opaque tokens where Tessera's rows use JWTs.
        const grant = peer.scenario.split(' ')[0] ?? '';
        const opaque = peer.scenario.includes('opaque') ? 'opaque' : '';
        const notes = [r.scenario.startsWith(grant) ? '' : grant, opaque].filter(Boolean);
        const label = notes.length > 0 ? ` (${notes.join(', ')})` : '';
        bar(`node-oidc-provider${label}`, peer.measured?.rps, max, 'peer');
      }
      if (minimal) bar('minimal token route', minimal.measured?.rps, max, 'reference');
      if (r.ceiling) bar('ceiling (bare route ⊕ crypto)', r.ceiling.rps, max, 'ceiling');
    }
    y += 10;
  }
  const height = y + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    '<style>.s{font-size:12px;fill:#111}.h{font-size:13px;font-weight:bold;fill:#111}.t{font-size:15px;font-weight:bold}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="24" class="t">Tessera vs node-oidc-provider, a minimal token route and the measured ceiling, req/s, one server core (${escape(when)})</text>`,
    `<text x="10" y="40" class="s">Each group is scaled to its own largest bar.</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
