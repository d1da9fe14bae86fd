/**
 * The simulator's HTTP side: one request at a time over `node:http`/`node:https` with a hard
 * timeout and no automatic redirects (the simulator inspects every `Location` itself), a small
 * cookie jar, and just enough HTML form parsing to find a login form or a tenant picker.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** The URL requested (absolute). */
  readonly url: URL;
}

export class RequestTimeout extends Error {
  override name = 'RequestTimeout';
}

/** A failure of the transport (timeout, refused connection, bad URL), not an HTTP status. */
export class RequestFailed extends Error {
  override name = 'RequestFailed';
}

const MAX_BODY = 1024 * 1024;

/** Where a URL points, without its query (which may carry a code) or credentials. */
export function where(url: URL | string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

/** One HTTP exchange; never follows redirects; rejects with RequestTimeout after `timeoutMs`. */
export function send(target: URL | string, opts: RequestOptions): Promise<HttpResponse> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return Promise.reject(new RequestFailed(`not a URL: ${String(target)}`));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new RequestFailed(`not an http(s) URL: ${where(url)}`));
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { 'user-agent': 'tessera-simulate', ...opts.headers };
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res as HttpResponse);
    };
    const req = request(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          req.destroy();
          finish(new RequestFailed(`response from ${where(url)} is larger than 1 MiB`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(undefined, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          url,
        }),
      );
      res.on('error', (err) => finish(new RequestFailed(`${where(url)}: ${err.message}`)));
    });
    const timer = setTimeout(() => {
      finish(
        new RequestTimeout(`no complete answer from ${where(url)} within ${opts.timeoutMs} ms`),
      );
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err) => finish(new RequestFailed(`${where(url)}: ${err.message}`)));
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** The response body as a JSON object, or undefined when it is not one. */
export function jsonObject(res: HttpResponse): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(res.body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `Location` of a 3xx, resolved against the request URL. */
export function locationOf(res: HttpResponse): URL | undefined {
  if (res.status < 300 || res.status > 399) return undefined;
  const raw = res.headers['location'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  try {
    return new URL(value, res.url);
  } catch {
    return undefined;
  }
}

/** Same site: the same host, or hosts sharing their last two labels (`a.example.com`, `example.com`). */
export function sameSite(a: URL, b: URL): boolean {
  if (a.hostname === b.hostname) return true;
  const site = (h: string) => h.split('.').slice(-2).join('.');
  return !/^[\d.]+$|:/.test(a.hostname) && site(a.hostname) === site(b.hostname);
}

/* ------------------------------------------------------------------------------------------ */
/* Cookies                                                                                     */
/* ------------------------------------------------------------------------------------------ */

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly host: string;
  readonly path: string;
}

/** A minimal cookie store: host-only cookies, path match, expiry by Max-Age / Expires. */
export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  absorb(res: HttpResponse): void {
    const raw = res.headers['set-cookie'];
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const header of list) {
      const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const a of attrs) {
        const i = a.indexOf('=');
        const key = (i === -1 ? a : a.slice(0, i)).toLowerCase();
        const v = i === -1 ? '' : a.slice(i + 1);
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${res.url.host};${path};${name}`;
      if (expired) this.cookies.delete(id);
      else this.cookies.set(id, { name, value, host: res.url.host, path });
    }
  }

  header(url: URL): string | undefined {
    const matching = [...this.cookies.values()].filter(
      (c) =>
        c.host === url.host &&
        (url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)),
    );
    return matching.length === 0
      ? undefined
      : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Forms                                                                                       */
/* ------------------------------------------------------------------------------------------ */

export interface FormInput {
  readonly name: string;
  readonly type: string;
  readonly value: string;
  readonly checked: boolean;
}

export interface HtmlForm {
  readonly action: URL;
  readonly method: 'GET' | 'POST';
  readonly inputs: readonly FormInput[];
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  '#39': "'",
  '#x27': "'",
  '#x2F': '/',
  '#47': '/',
};

function unescapeHtml(value: string): string {
  return value.replace(/&(#?[a-zA-Z0-9]+);/g, (e, name: string) => {
    const known = ENTITIES[name];
    if (known !== undefined) return known;
    const m = /^#(x?)([0-9a-fA-F]+)$/.exec(name);
    if (m) return String.fromCodePoint(parseInt(m[2] as string, m[1] ? 16 : 10));
    return e;
  });
}

function attributes(tag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const body = tag.replace(/^<[a-zA-Z]+/, '').replace(/\/?>$/, '');
  for (const m of body.matchAll(
    /([^\s"'=<>`/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g,
  )) {
    const name = (m[1] as string).toLowerCase();
    if (name in attrs) continue;
    attrs[name] = unescapeHtml(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/** Every `<form>` of a page, with its action resolved against `base`. */
export function parseForms(html: string, base: URL): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form\s*>/gi)) {
    const block = m[0];
    const open = /<form\b[^>]*>/i.exec(block)?.[0] ?? '<form>';
    const attrs = attributes(open);
    let action: URL;
    try {
      action = new URL(attrs['action'] || base.href, base);
    } catch {
      continue;
    }
    action.hash = '';
    const inputs: FormInput[] = [];
    for (const tag of block.match(/<input\b[^>]*>/gi) ?? []) {
      const a = attributes(tag);
      if (!a['name']) continue;
      inputs.push({
        name: a['name'],
        type: (a['type'] ?? 'text').toLowerCase(),
        value: a['value'] ?? '',
        checked: 'checked' in a,
      });
    }
    forms.push({
      action,
      method: (attrs['method'] ?? 'get').toLowerCase() === 'post' ? 'POST' : 'GET',
      inputs,
    });
  }
  return forms;
}

export function hasInput(form: HtmlForm, name: string): boolean {
  return form.inputs.some((i) => i.name === name);
}

/** The login form: the one with inputs named `email` and `password`. */
export function loginForm(forms: readonly HtmlForm[]): HtmlForm | undefined {
  return forms.find((f) => hasInput(f, 'email') && hasInput(f, 'password'));
}

/** A tenant picker: a form with radio inputs named `tenant`. */
export function tenantForm(forms: readonly HtmlForm[]): HtmlForm | undefined {
  return forms.find((f) => f.inputs.some((i) => i.name === 'tenant' && i.type === 'radio'));
}

/** The hidden fields of a form, as a browser would submit them. */
export function hiddenFields(form: HtmlForm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of form.inputs) if (i.type === 'hidden') out[i.name] = i.value;
  return out;
}
