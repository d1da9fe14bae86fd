import { ConfigError } from '../config/load.js';
import { ValidationError } from '../admin/context.js';
import { ConflictError, NotFoundError } from '../store/store.js';

export interface GlobalOptions {
  readonly database?: string;
  readonly json?: boolean;
  readonly config?: string;
}

type Row = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map(cell).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One result on stdout: JSON (one value) with `--json`, else `key: value` lines. */
export function printItem(opts: GlobalOptions, item: Row): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(item)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(item).map((k) => k.length));
  for (const [k, v] of Object.entries(item))
    process.stdout.write(`${`${k}:`.padEnd(width + 2)}${cell(v)}\n`);
}

/** A list on stdout: a JSON array with `--json`, else an aligned table of `columns`. */
export function printList(
  opts: GlobalOptions,
  items: readonly Row[],
  columns: readonly string[],
): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(items)}\n`);
    return;
  }
  const rows = [
    columns.map((c) => c.toUpperCase()),
    ...items.map((i) => columns.map((c) => cell(i[c]))),
  ];
  const widths = columns.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows)
    process.stdout.write(
      `${r
        .map((v, i) => v.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Errors the operator can act on print their own message; anything else is unexpected. */
export function describeError(err: unknown): string {
  if (
    err instanceof ConfigError ||
    err instanceof ValidationError ||
    err instanceof ConflictError ||
    err instanceof NotFoundError
  ) {
    return err.message;
  }
  return err instanceof Error ? `${err.message}` : String(err);
}

/**
 * Reads one line (a secret or password) from stdin: everything up to the first newline, or
 * to EOF. Secrets are never taken as arguments, where `ps` and shell history would show them.
 */
export async function readStdinLine(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${what}: `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if ((chunk as Buffer).includes(10)) break;
  }
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line.length === 0) throw new ValidationError(`no ${what} on stdin`);
  return line;
}
