import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequest } from '../errors.js';

/** DESIGN §3: a body over 16 KiB is refused with `invalid_request`. */
export const BODY_LIMIT = 16 * 1024;

/** Request parameters after parsing: one string per name; empty values are dropped (RFC 6749 §3.1). */
export type Params = Readonly<Record<string, string>>;

/**
 * Every POST body is read as text under the size limit, whatever its content type, and
 * parsed by `readParams` — so a missing or wrong content type can be sniffed instead of
 * being refused with 415 before our rules run.
 */
export function registerRawBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const options = { parseAs: 'string', bodyLimit: BODY_LIMIT } as const;
  const asText = (_req: unknown, body: string | Buffer, done: (e: null, b: unknown) => void) =>
    done(null, body);
  // The same parser, named for the two types nearly every request has: Fastify caches the
  // parser it found for a named type, but parses the header anew on each request for '*'.
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'application/json'],
    options,
    asText,
  );
  app.addContentTypeParser('*', options, asText);
}

function collect(entries: Iterable<[string, unknown]>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (seen.has(name)) throw new InvalidRequest(`parameter "${name}" given more than once`);
    seen.add(name);
    if (typeof value !== 'string') throw new InvalidRequest(`parameter "${name}" must be a string`);
    if (value.length > 0) out[name] = value;
  }
  return out;
}

/**
 * The keys of the top-level object of a JSON text, in order, duplicates kept (`JSON.parse`
 * silently collapses them). Used after `JSON.parse` has accepted the text, so it is known to
 * be well formed: a string literal at depth 1 followed by `:` is a key. Values of any type
 * (and keys of nested values) are skipped.
 */
function jsonKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k] as string)) k++;
        if (text[k] === ':') keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      }
      i = j;
    }
  }
  return keys;
}

function parseJson(text: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequest('body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRequest('JSON body must be an object of string values');
  }
  const entries = Object.entries(value);
  for (const [name, v] of entries) {
    if (typeof v !== 'string') throw new InvalidRequest(`parameter "${name}" must be a string`);
  }
  const keys = jsonKeys(text);
  if (keys.length !== new Set(keys).size) {
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    throw new InvalidRequest(`parameter "${dup ?? ''}" given more than once`);
  }
  return collect(entries);
}

/** The URL's query string, under the same rules as a form body (no repeats, empties dropped). */
export function readQuery(request: FastifyRequest): Params {
  const at = request.url.indexOf('?');
  return collect(new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1)));
}

/**
 * Parses a form (`application/x-www-form-urlencoded`) or JSON (`application/json`) body.
 * With another or no content type the body is sniffed: `{` means JSON, anything else a form.
 */
export function readParams(request: FastifyRequest): Params {
  const body = typeof request.body === 'string' ? request.body : '';
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const isJson =
    type === 'application/json' ||
    type.endsWith('+json') ||
    (type !== 'application/x-www-form-urlencoded' && body.trimStart().startsWith('{'));
  return isJson ? parseJson(body) : collect(new URLSearchParams(body));
}
