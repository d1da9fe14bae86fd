/**
 * Reading Tessera's pages and answers as a browser would, with no other test machinery (so
 * spawned-server tests and the benchmark can use it without choosing a storage engine): the
 * form fields of a page and the cookies a response sets.
 */
import assert from 'node:assert/strict';

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&apos;': "'",
};

function unescapeHtml(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|apos);/g, (e) => ENTITIES[e] ?? e);
}

/** The `<input>` tags of a page, as attribute maps. */
export function inputs(html: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const tag of html.match(/<input\b[^>]*>/g) ?? []) {
    const attrs: Record<string, string> = {};
    for (const m of tag.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) {
      if (m[1] === 'input') continue;
      attrs[(m[1] as string).toLowerCase()] = unescapeHtml(m[2] ?? '');
    }
    out.push(attrs);
  }
  return out;
}

/** The value of the hidden input `name`; fails the test when the page has none. */
function hiddenField(html: string, name: string): string {
  const input = inputs(html).find((i) => i['type'] === 'hidden' && i['name'] === name);
  assert.ok(input, `page has no hidden input "${name}"`);
  return input['value'] ?? '';
}

/** The form state (`txn`, `csrf`) of a login or tenant-picker page. */
export function formState(html: string): { txn: string; csrf: string } {
  return { txn: hiddenField(html, 'txn'), csrf: hiddenField(html, 'csrf') };
}

/** The `name=value` of the cookie `name` a fetch response sets, if it sets one. */
export function cookieOf(res: Response, name: string): string | undefined {
  return res.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0];
}

/** Every cookie a fetch response sets, as a Cookie header. */
export function cookieHeader(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}
