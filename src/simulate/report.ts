/** The simulator's results: checks, and their text, JSON, JUnit and Markdown renderings. */
import { escapeHtml } from '../views/html.js';
import { RequestFailed, RequestTimeout } from './http.js';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed; null when it passed. Never contains a secret, code or token. */
  readonly reason: string | null;
}

/** A check failed for the reason in its message (thrown inside a check body). */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

export function fail(reason: string): never {
  throw new CheckFailed(reason);
}

/** Collects checks in order; each body passes by returning and fails by throwing. */
export class Checks {
  readonly list: Check[] = [];

  /** Runs `body` as the check `name`; its result (or undefined when it failed) is returned. */
  async run<T>(name: string, body: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await body();
      this.list.push({ name, ok: true, reason: null });
      return value;
    } catch (err) {
      this.list.push({ name, ok: false, reason: reasonOf(err) });
      return undefined;
    }
  }

  /** A check that could not run because an earlier step failed. */
  skipped(name: string, because: string): void {
    this.list.push({ name, ok: false, reason: `not run: ${because}` });
  }

  get allPassed(): boolean {
    return this.list.every((c) => c.ok);
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof CheckFailed) return err.message;
  if (err instanceof RequestTimeout) return `timed out: ${err.message}`;
  if (err instanceof RequestFailed) return `request failed: ${err.message}`;
  const message = err instanceof Error ? err.message : String(err);
  return `unexpected error: ${message.split('\n')[0] ?? ''}`;
}

export function textReport(checks: readonly Check[]): string {
  return checks
    .map((c) => (c.ok ? `PASS ${c.name}\n` : `FAIL ${c.name} — ${c.reason ?? 'failed'}\n`))
    .join('');
}

export function jsonReport(checks: readonly Check[]): string {
  return `${JSON.stringify({ checks: checks.map((c) => ({ name: c.name, ok: c.ok, reason: c.reason })) })}\n`;
}

/** Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/F). */
function xmlAllowed(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    c >= 0x10000
  );
}

function xml(value: string): string {
  return escapeHtml([...value].map((ch) => (xmlAllowed(ch) ? ch : '\uFFFD')).join(''));
}

export function junitReport(checks: readonly Check[], suite: string): string {
  const failures = checks.filter((c) => !c.ok).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${xml(suite)}" tests="${checks.length}" failures="${failures}" errors="0" skipped="0">`,
  ];
  for (const c of checks) {
    if (c.ok) lines.push(`  <testcase classname="${xml(suite)}" name="${xml(c.name)}"/>`);
    else {
      const reason = c.reason ?? 'failed';
      lines.push(
        `  <testcase classname="${xml(suite)}" name="${xml(c.name)}">`,
        `    <failure message="${xml(reason)}">${xml(reason)}</failure>`,
        '  </testcase>',
      );
    }
  }
  lines.push('</testsuite>');
  return `${lines.join('\n')}\n`;
}

function cell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function markdownReport(checks: readonly Check[], title: string): string {
  const passed = checks.filter((c) => c.ok).length;
  return [
    `# ${title}`,
    '',
    `${passed} of ${checks.length} checks passed.`,
    '',
    '| check | result | reason |',
    '| --- | --- | --- |',
    ...checks.map(
      (c) => `| ${cell(c.name)} | ${c.ok ? 'PASS' : 'FAIL'} | ${cell(c.reason ?? '')} |`,
    ),
    '',
  ].join('\n');
}

export const REPORT_FORMATS = ['json', 'junit', 'markdown'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** `FORMAT:FILE` → its parts; undefined when the format is unknown or the file missing. */
export function parseReportTarget(
  value: string,
): { format: ReportFormat; file: string } | undefined {
  const i = value.indexOf(':');
  if (i === -1) return undefined;
  const format = value.slice(0, i) as ReportFormat;
  const file = value.slice(i + 1);
  if (!REPORT_FORMATS.includes(format) || file.length === 0) return undefined;
  return { format, file };
}

export function renderReport(
  format: ReportFormat,
  checks: readonly Check[],
  profile: string,
): string {
  if (format === 'json') return jsonReport(checks);
  if (format === 'junit') return junitReport(checks, `tessera simulate ${profile}`);
  return markdownReport(checks, `tessera simulate ${profile}`);
}
