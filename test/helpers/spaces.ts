/**
 * Helpers for the Cisco Spaces activation tests (test/spaces, test/browser, test/e2e):
 *
 * - a loopback fake of Cisco's partner key server (`/client/v1/partner/partnerPublicKey`,
 *   `{status, data:[{version, publicKey}]}` with base64 SPKI DER keys) that counts requests;
 * - RSA keys of 1024 or 2048 bits and RS256 launch JWTs minted with `node:crypto` (jose
 *   refuses 1024-bit keys, which is exactly what Spaces uses);
 * - a cookie jar and small request helpers for `inject`-driven browser flows (login form,
 *   tenant picker, redirects);
 * - a listening in-process server whose issuer is its real URL, and a redirect catcher.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { LightMyRequestResponse } from 'fastify';
import type { OptionName } from '../../src/config/options.js';
import {
  type RsaKey,
  b64url,
  closeServer,
  listenLoopback,
} from '../../src/simulate/launch-keys.js';
import { type TestApp, type TestClock, createTestApp } from './app.js';
import { formState, inputs } from './html.js';

// Moved to src/simulate (the simulator mints launch tokens and serves keys the same way).
export {
  type FakeKeyServer,
  type LaunchClaims,
  PARTNER_KEY_PATH,
  type PublishedKey,
  type RsaKey,
  closeServer,
  launchClaims,
  listenLoopback,
  mintLaunchToken,
  rsaKey,
  startFakeKeyServer,
} from '../../src/simulate/launch-keys.js';

/* ------------------------------------------------------------------------------------------ */
/* Forged launch tokens                                                                        */
/* ------------------------------------------------------------------------------------------ */

/** The classic `alg: none` forgery: no signature at all. */
export function unsignedToken(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/** The algorithm-confusion forgery: HS256 with the RSA public key's bytes as the HMAC secret. */
export function hmacWithPublicKey(claims: Record<string, unknown>, key: RsaKey): string[] {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  // Both encodings a verifier might (wrongly) use as the "secret".
  const secrets = [
    Buffer.from(key.spki, 'base64'),
    Buffer.from(key.publicKey.export({ format: 'pem', type: 'spki' })),
  ];
  return secrets.map(
    (s) => `${input}.${createHmac('sha256', s).update(input).digest('base64url')}`,
  );
}

/** Re-encodes the payload of a signed token, keeping header and signature (a forgery). */
export function tamperPayload(token: string, patch: Record<string, unknown>): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  return `${h}.${b64url({ ...claims, ...patch })}.${s}`;
}

/**
 * The other spellings of a base64url `segment` that a lax decoder (Buffer.from, atob) reads
 * as the same bytes: the last character's unused low bits set differently (RFC 4648 §3.5).
 */
export function trailingBitVariants(segment: string): string[] {
  const bytes = Buffer.from(segment, 'base64url');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return [...alphabet]
    .map((c) => `${segment.slice(0, -1)}${c}`)
    .filter((v) => v !== segment && Buffer.from(v, 'base64url').equals(bytes));
}

/** `token` with its signature (third segment) replaced by `spell(signature)`. */
export function respellSignature(token: string, spell: (signature: string) => string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  return `${h}.${p}.${spell(s)}`;
}

/* ------------------------------------------------------------------------------------------ */
/* Cookies                                                                                     */
/* ------------------------------------------------------------------------------------------ */

export interface SetCookie {
  readonly name: string;
  readonly value: string;
  /** Attribute names lower-cased; flags (HttpOnly, Secure) map to `true`. */
  readonly attributes: Readonly<Record<string, string | true>>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes: Record<string, string | true> = {};
  for (const a of attrs) {
    if (a.length === 0) continue;
    const i = a.indexOf('=');
    if (i === -1) attributes[a.toLowerCase()] = true;
    else attributes[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** Every `Set-Cookie` of a response, parsed. */
export function setCookies(res: { headers: Record<string, unknown> }): SetCookie[] {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [String(raw)];
  return list.map(parseSetCookie);
}

/** The `Set-Cookie` for `name`, if the response sets it. */
export function setCookie(
  res: { headers: Record<string, unknown> },
  name: string,
): SetCookie | undefined {
  return setCookies(res).find((c) => c.name === name);
}

function expired(c: SetCookie): boolean {
  const maxAge = c.attributes['max-age'];
  if (typeof maxAge === 'string' && Number(maxAge) <= 0) return true;
  const expires = c.attributes['expires'];
  return typeof expires === 'string' && Date.parse(expires) <= Date.now();
}

/** A minimal browser cookie store for `inject` flows: name + path, expiry by Max-Age/Expires. */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  /** Takes the cookies a response sets (and drops the ones it clears). */
  absorb(res: { headers: Record<string, unknown> }): this {
    for (const c of setCookies(res)) {
      const path = typeof c.attributes['path'] === 'string' ? c.attributes['path'] : '/';
      const id = `${c.name};${path}`;
      if (expired(c)) this.cookies.delete(id);
      else this.cookies.set(id, { name: c.name, value: c.value, path });
    }
    return this;
  }

  /** The `Cookie` header a browser would send to `url` (path only; one host here). */
  header(url: string): string | undefined {
    const path = new URL(url, 'http://x').pathname;
    const matching = [...this.cookies.values()].filter(
      (c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
    );
    return matching.length === 0
      ? undefined
      : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  get(name: string): string | undefined {
    return [...this.cookies.values()].find((c) => c.name === name)?.value;
  }

  delete(name: string): void {
    for (const [id, c] of this.cookies) if (c.name === name) this.cookies.delete(id);
  }

  set(name: string, value: string, path = '/'): void {
    this.cookies.set(`${name};${path}`, { name, value, path });
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Inject flows                                                                                */
/* ------------------------------------------------------------------------------------------ */

export const SESSION_COOKIE = 'tessera_session';
export const CSRF_COOKIE = 'tessera_csrf';

export function isLoginPage(res: LightMyRequestResponse): boolean {
  const names = inputs(res.body).map((i) => i['name']);
  return (
    res.headers['location'] === undefined && names.includes('email') && names.includes('password')
  );
}

export function isTenantPicker(res: LightMyRequestResponse): boolean {
  return res.statusCode === 200 && inputs(res.body).some((i) => i['name'] === 'tenant');
}

/** The tenant ids a picker offers, in order. */
export function pickerTenants(html: string): string[] {
  return inputs(html)
    .filter((i) => i['name'] === 'tenant')
    .map((i) => i['value'] ?? '');
}

/** GET with the jar's cookies; the response's cookies go back into the jar. */
export async function browserGet(
  t: TestApp,
  jar: CookieJar,
  url: string,
): Promise<LightMyRequestResponse> {
  const cookie = jar.header(url);
  const res = await t.app.inject({
    method: 'GET',
    url,
    headers: cookie === undefined ? {} : { cookie },
  });
  jar.absorb(res);
  return res;
}

/** A form POST with the jar's cookies, as a browser (at `remoteAddress`, if given) submits it. */
export async function browserPost(
  t: TestApp,
  jar: CookieJar,
  url: string,
  form: Record<string, string>,
  remoteAddress?: string,
): Promise<LightMyRequestResponse> {
  const cookie = jar.header(url);
  const res = await t.app.inject({
    method: 'POST',
    url,
    ...(remoteAddress !== undefined && { remoteAddress }),
    payload: new URLSearchParams(form).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(cookie !== undefined && { cookie }),
    },
  });
  jar.absorb(res);
  return res;
}

export function authorizeUrl(query: Record<string, string>): string {
  return `/oauth/authorize?${new URLSearchParams(query).toString()}`;
}

/** Submits the login form of `page` (a login page response), from `remoteAddress` if given. */
export function submitLogin(
  t: TestApp,
  jar: CookieJar,
  page: LightMyRequestResponse,
  email: string,
  password: string,
  remoteAddress?: string,
): Promise<LightMyRequestResponse> {
  return browserPost(
    t,
    jar,
    '/oauth/authorize',
    { ...formState(page.body), email, password },
    remoteAddress,
  );
}

/** Submits the tenant picker of `page` with `tenant` chosen. */
export function submitTenant(
  t: TestApp,
  jar: CookieJar,
  page: LightMyRequestResponse,
  tenant: string,
): Promise<LightMyRequestResponse> {
  return browserPost(t, jar, '/oauth/authorize', { ...formState(page.body), tenant });
}

/** The `Location` of a 303, parsed; fails the test on anything else. */
export function redirectOf(res: LightMyRequestResponse): URL {
  assert.equal(res.statusCode, 303, `expected a 303, got ${res.statusCode}: ${res.body}`);
  const location = res.headers['location'];
  assert.equal(typeof location, 'string');
  return new URL(location as string);
}

/**
 * Drives the whole browser side of an authorization request: the authorize GET, the login
 * form when one is shown, the tenant picker when one is shown (choosing `tenant`, which is
 * then required). Returns the final redirect.
 */
export async function authorize(
  t: TestApp,
  jar: CookieJar,
  query: Record<string, string>,
  user: { email: string; password: string },
  tenant?: string,
): Promise<URL> {
  let res = await browserGet(t, jar, authorizeUrl(query));
  if (isLoginPage(res)) res = await submitLogin(t, jar, res, user.email, user.password);
  if (isTenantPicker(res)) {
    assert.ok(tenant !== undefined, 'a tenant picker was shown but no tenant was given');
    res = await submitTenant(t, jar, res, tenant);
  }
  return redirectOf(res);
}

/** The authorization code of a successful redirect (32 characters A–Z0–9). */
export function codeOf(location: URL): string {
  const code = location.searchParams.get('code');
  assert.ok(code !== null, `no code in ${location.href}`);
  assert.match(code, /^[A-Z0-9]{32}$/);
  return code;
}

/** POSTs a token request as JSON, the body exactly `JSON.stringify(body)`. */
export function jsonTokenRequest(
  t: TestApp,
  body: Record<string, string>,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

/** POSTs a token request as a form. */
export function formTokenRequest(
  t: TestApp,
  body: Record<string, string>,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: new URLSearchParams(body).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/** The exact RFC 6749 §5.2 error: status, `{error, error_description}` and no-store. */
export function assertOAuthError(res: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['cache-control'], 'no-store');
  const body = res.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], res.body);
  assert.equal(body['error'], code, res.body);
  assert.equal(typeof body['error_description'], 'string');
}

/** DESIGN §3: CSP without `form-action`, with `frame-ancestors 'none'`; never cached. */
export function assertPageHeaders(res: LightMyRequestResponse): void {
  assert.match(String(res.headers['content-type']), /^text\/html/);
  const csp = String(res.headers['content-security-policy']);
  assert.ok(csp.includes("frame-ancestors 'none'"), csp);
  assert.ok(!csp.includes('form-action'), csp);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
}

/** A bearer GET. */
export function bearerGet(
  t: TestApp,
  url: string,
  token: string | undefined,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

/* ------------------------------------------------------------------------------------------ */
/* Real listening servers                                                                      */
/* ------------------------------------------------------------------------------------------ */

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenLoopback(probe);
  await closeServer(probe);
  return port;
}

/**
 * createTestApp listening on 127.0.0.1 with the issuer set to its real URL. The port is
 * probed free first and the issuer fixed before the app exists; a lost race is retried.
 */
export async function startListeningApp(
  options: {
    flags?: Partial<Record<OptionName, unknown>>;
    clock?: TestClock;
    database?: string;
  } = {},
): Promise<TestApp & { readonly url: string }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const t = await createTestApp({
      ...options,
      flags: { ...options.flags, issuer: url },
    });
    try {
      await t.app.listen({ port, host: '127.0.0.1' });
      return Object.assign(t, { url });
    } catch (err) {
      await t.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

export interface Catcher {
  /** `http://127.0.0.1:<port>/cb`: register it as the redirect URI. */
  readonly redirectUri: string;
  /** Every URL received (absolute). */
  readonly received: URL[];
  /** Resolves with the next URL received from now on. */
  next(): Promise<URL>;
  close(): Promise<void>;
}

/** A tiny redirect-URI endpoint that records what the browser brings back. */
export async function startCatcher(): Promise<Catcher> {
  const received: URL[] = [];
  let waiting: ((url: URL) => void)[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === '/cb') {
      received.push(url);
      const w = waiting;
      waiting = [];
      for (const resolve of w) resolve(url);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>caught</title><p>caught</p>');
  });
  const port = await listenLoopback(server);
  return {
    redirectUri: `http://127.0.0.1:${port}/cb`,
    received,
    next: () => new Promise<URL>((resolve) => waiting.push(resolve)),
    close: () => closeServer(server),
  };
}
