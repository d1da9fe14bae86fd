/**
 * The Cisco Spaces profile: activation against any partner site (login URL → code → JSON
 * token request → App Info), a negative suite, and optionally an app launch signed with a
 * key of the simulator's own, served from a loopback key server.
 */
import { randomBytes } from 'node:crypto';
import { expectRefused, okJson, wrongSecret } from './client-credentials.js';
import {
  CookieJar,
  type HtmlForm,
  type HttpResponse,
  hiddenFields,
  jsonObject,
  locationOf,
  loginForm,
  parseForms,
  sameSite,
  send,
  tenantForm,
  where,
} from './http.js';
import {
  PARTNER_KEY_PATH,
  launchClaims,
  mintLaunchToken,
  rsaKey,
  startFakeKeyServer,
} from './launch-keys.js';
import { CheckFailed, Checks, fail } from './report.js';

export interface CiscoSpacesOptions {
  readonly loginUrl: string;
  readonly tokenUrl: string;
  readonly appInfoUrl: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly email: string;
  readonly secret: string;
  readonly password: string;
  readonly launchUrl?: string | undefined;
  readonly keyBits: 1024 | 2048;
  /** Port of the loopback key server (0: any free port). */
  readonly keyServerPort: number;
  readonly browser: boolean;
  readonly timeoutMs: number;
}

/** Where the wrong-redirect check asks the site to send the browser (never registered). */
export const UNREGISTERED_REDIRECT_URI = 'https://tessera-simulate.invalid/partner/OAuthValidation';

/**
 * The check that presents codes the site never issued. Cisco's own sample partner failed it
 * (it answered 500), and a site that hangs instead leaves the platform's activation waiting.
 */
export const UNKNOWN_CODE_CHECK =
  'negative: an unknown or malformed code is refused (400 invalid_grant)';

/**
 * Codes no site issued: one shaped like a real one (32 characters A–Z0–9), and one made to
 * trip a site that puts the code into a query or a page unescaped, or into a PostgreSQL text
 * parameter (which refuses a NUL byte).
 */
const BAD_CODES = [
  { what: 'an unknown code', code: randomBytes(20).toString('hex').slice(0, 32).toUpperCase() },
  {
    what: 'a malformed code (quotes, <>, a NUL byte, non-ASCII, 300 characters)',
    code: "' OR '1'='1 <script>\u0000\u2603 ".padEnd(300, '%'),
  },
] as const;

/** What a browser run of the login URL ended with. */
export type Outcome = { readonly caught: URL } | { readonly stopped: string };

/** Signs in at an authorization URL and returns where the site finally sends the browser. */
export interface Authorizer {
  run(authorizeUrl: URL, target: URL): Promise<Outcome>;
  close(): Promise<void>;
}

export function hexState(): string {
  return randomBytes(16).toString('hex');
}

/** The redirect target matches `target` (same origin and path; the query is the site's). */
export function isTarget(url: URL, target: URL): boolean {
  return url.origin === target.origin && url.pathname === target.pathname;
}

export function authorizeUrl(o: CiscoSpacesOptions, redirectUri: string, state: string): URL {
  const url = new URL(o.loginUrl);
  url.searchParams.set('client_id', o.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('state', state);
  return url;
}

/** Plays the browser with plain HTTP: forms posted, cookies kept, redirects followed by hand. */
export function httpAuthorizer(
  user: { email: string; password: string },
  timeoutMs: number,
  jar = new CookieJar(),
): Authorizer {
  const go = async (
    url: URL,
    method: 'GET' | 'POST' = 'GET',
    form?: Record<string, string>,
  ): Promise<HttpResponse> => {
    const cookie = jar.header(url);
    const body = form === undefined ? undefined : new URLSearchParams(form).toString();
    const res = await send(url, {
      method,
      timeoutMs,
      headers: {
        accept: 'text/html,application/xhtml+xml',
        ...(cookie !== undefined && { cookie }),
        ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(body !== undefined && { body }),
    });
    jar.absorb(res);
    return res;
  };
  const submit = (form: HtmlForm, fields: Record<string, string>): Promise<HttpResponse> => {
    if (form.method === 'POST') return go(form.action, 'POST', fields);
    const url = new URL(form.action);
    for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
    return go(url);
  };
  return {
    async run(start, target) {
      let res = await go(start);
      let signedIn = false;
      let picked = false;
      for (let step = 0; step < 20; step++) {
        const location = locationOf(res);
        if (location !== undefined) {
          if (isTarget(location, target)) return { caught: location };
          if (!sameSite(location, start))
            return { stopped: `redirected off-site to ${where(location)}` };
          res = await go(location);
          continue;
        }
        if (res.status >= 300 && res.status < 400)
          return { stopped: `HTTP ${res.status} without a Location at ${where(res.url)}` };
        const forms = parseForms(res.body, res.url);
        const login = loginForm(forms);
        if (login !== undefined) {
          if (signedIn)
            return {
              stopped: `the login form came back (HTTP ${res.status}) after signing in as ${user.email}: wrong password, or the sign-in was refused`,
            };
          signedIn = true;
          res = await submit(login, {
            ...hiddenFields(login),
            email: user.email,
            password: user.password,
          });
          continue;
        }
        const picker = tenantForm(forms);
        if (picker !== undefined) {
          const first = picker.inputs.find((i) => i.name === 'tenant' && i.type === 'radio');
          if (picked || first === undefined)
            return { stopped: 'the tenant picker came back after choosing a tenant' };
          picked = true;
          res = await submit(picker, { ...hiddenFields(picker), tenant: first.value });
          continue;
        }
        return {
          stopped: `HTTP ${res.status} at ${where(res.url)}: no redirect, no login form (inputs named email and password) and no tenant picker`,
        };
      }
      return { stopped: 'more than 20 steps without reaching the redirect URI' };
    },
    close: () => Promise.resolve(),
  };
}

/** The code of a caught redirect, after checking `state` came back verbatim. */
function codeFrom(outcome: Outcome, state: string): string {
  if (!('caught' in outcome)) fail(outcome.stopped);
  const q = outcome.caught.searchParams;
  const error = q.get('error');
  if (error !== null) fail(`redirected back with error=${error}`);
  if (q.get('state') !== state)
    fail(q.get('state') === null ? 'the redirect has no state' : 'the state came back changed');
  const code = q.get('code');
  if (code === null || code.length === 0) fail('the redirect has no code');
  return code;
}

function describe(res: HttpResponse): string {
  const body = jsonObject(res);
  return `HTTP ${res.status}${typeof body?.['error'] === 'string' ? ` ${body['error']}` : ''}`;
}

export async function simulateCiscoSpaces(
  o: CiscoSpacesOptions,
  makeBrowser?: () => Promise<Authorizer>,
): Promise<Checks> {
  const checks = new Checks();
  const jar = new CookieJar();
  const user = { email: o.email, password: o.password };
  const http = httpAuthorizer(user, o.timeoutMs, jar);
  const target = new URL(o.redirectUri);
  let authorizer: Authorizer = http;

  const redeem = (code: string, state: string, overrides: Record<string, string> = {}) =>
    send(o.tokenUrl, {
      method: 'POST',
      timeoutMs: o.timeoutMs,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        code,
        grant_type: 'authorization_code',
        state,
        client_id: o.clientId,
        client_secret: o.secret,
        redirect_uri: '',
        ...overrides,
      }),
    });
  const appInfo = (partnerTenantId: string, token: string) => {
    const url = new URL(o.appInfoUrl);
    url.searchParams.set('partnerTenantId', partnerTenantId);
    return send(url, {
      timeoutMs: o.timeoutMs,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  };
  const freshCode = async (): Promise<{ code: string; state: string }> => {
    const state = hexState();
    try {
      return {
        code: codeFrom(await authorizer.run(authorizeUrl(o, o.redirectUri, state), target), state),
        state,
      };
    } catch (err) {
      if (err instanceof CheckFailed) fail(`could not get a fresh code: ${err.message}`);
      throw err;
    }
  };

  const names = {
    authorize: 'authorize: sign in and come back to redirect_uri with a code and the same state',
    token: 'token: JSON authorization_code request → access_token, token_type Bearer, scope',
    appInfo: 'app-info: {partnerTenantId, userEmail, telemetry[{type, name, value, units}]}',
    wrongTenant: 'negative: App Info for another partnerTenantId → 401/403',
    replay: 'negative: a replayed code is refused',
    wrongSecret: 'negative: a wrong client secret is refused (4xx, no token)',
    tamperedState: 'negative: a tampered state at the token endpoint is refused',
    wrongRedirect: 'negative: an unregistered redirect_uri is never redirected to',
  };

  try {
    if (o.browser) {
      const browser = await checks.run('browser: start Chromium', async () => {
        if (makeBrowser === undefined) fail('no browser support');
        return makeBrowser();
      });
      if (browser !== undefined) authorizer = browser;
    }
    // Without a browser (it failed to start: that check failed) the HTTP login stands in.
    const first = await checks.run(
      authorizer === http
        ? names.authorize
        : names.authorize.replace('sign in', 'sign in (Chromium)'),
      freshCode,
    );
    const token =
      first &&
      (await checks.run(names.token, async () => {
        const body = okJson(await redeem(first.code, first.state));
        if (typeof body['access_token'] !== 'string' || body['access_token'].length === 0)
          fail('no access_token string');
        if (typeof body['token_type'] !== 'string' || body['token_type'].toLowerCase() !== 'bearer')
          fail(`token_type is ${JSON.stringify(body['token_type'] ?? null)}, expected "Bearer"`);
        if (typeof body['scope'] !== 'string' || body['scope'].length === 0)
          fail('scope (the partnerTenantId) is missing or empty');
        return { accessToken: body['access_token'], scope: body['scope'] };
      }));
    if (first === undefined)
      checks.skipped(names.token, 'the authorization did not produce a code');

    if (token === undefined) {
      checks.skipped(names.appInfo, 'no access token');
      checks.skipped(names.wrongTenant, 'no access token');
    } else {
      await checks.run(names.appInfo, async () => {
        const body = okJson(await appInfo(token.scope, token.accessToken));
        if (body['partnerTenantId'] !== token.scope)
          fail(
            `partnerTenantId is ${JSON.stringify(body['partnerTenantId'] ?? null)}, expected "${token.scope}"`,
          );
        const email = body['userEmail'];
        if (typeof email !== 'string') fail('userEmail is not a string');
        if (email.toLowerCase() !== o.email.toLowerCase())
          fail(`userEmail is "${email}", expected "${o.email}"`);
        if (body['supportEmail'] !== undefined && typeof body['supportEmail'] !== 'string')
          fail('supportEmail is present but not a string');
        const telemetry = body['telemetry'];
        if (!Array.isArray(telemetry)) fail('telemetry is not an array');
        telemetry.forEach((entry: unknown, i) => {
          if (typeof entry !== 'object' || entry === null) fail(`telemetry[${i}] is not an object`);
          const e = entry as Record<string, unknown>;
          for (const field of ['type', 'name', 'value', 'units'])
            if (typeof e[field] !== 'string')
              fail(
                `telemetry[${i}].${field} is ${e[field] === undefined ? 'missing' : `a ${typeof e[field]}`}, expected a string`,
              );
        });
      });
      await checks.run(names.wrongTenant, async () => {
        const res = await appInfo(`${token.scope}-tessera-simulate-other`, token.accessToken);
        if (res.status !== 401 && res.status !== 403)
          fail(`${describe(res)} for a tenant the token is not for, expected 401 or 403`);
      });
    }

    if (first === undefined || token === undefined)
      checks.skipped(names.replay, 'no code was redeemed');
    else
      await checks.run(names.replay, async () => {
        expectRefused(await redeem(first.code, first.state), 'any4xx');
      });

    // RFC 6749 §5.2: a code the site never issued is 400 invalid_grant, within the timeout.
    await checks.run(UNKNOWN_CODE_CHECK, async () => {
      for (const { what, code } of BAD_CODES) {
        const res = await redeem(code, hexState());
        try {
          expectRefused(res, 400, 'invalid_grant');
        } catch (err) {
          if (err instanceof CheckFailed) fail(`${what}: ${err.message}`);
          throw err;
        }
      }
    });
    await checks.run(names.wrongSecret, async () => {
      const { code, state } = await freshCode();
      expectRefused(await redeem(code, state, { client_secret: wrongSecret(o.secret) }), 'any4xx');
    });
    await checks.run(names.tamperedState, async () => {
      const { code, state } = await freshCode();
      const tampered = `${state.slice(0, -1)}${state.endsWith('0') ? '1' : '0'}`;
      expectRefused(await redeem(code, tampered), 'any4xx');
    });
    await checks.run(names.wrongRedirect, async () => {
      const wrong = new URL(UNREGISTERED_REDIRECT_URI);
      const outcome = await http.run(authorizeUrl(o, wrong.href, hexState()), wrong);
      if ('caught' in outcome)
        fail(`the site redirected to the unregistered redirect_uri ${where(outcome.caught)}`);
    });

    if (o.launchUrl !== undefined) {
      if (token === undefined)
        checks.skipped(
          'launch: POST {token, version} to the launch URL',
          'no partnerTenantId (scope) known',
        );
      else await launch(checks, o, o.launchUrl, token.scope);
    }
  } finally {
    await authorizer.close();
  }
  return checks;
}

async function launch(
  checks: Checks,
  o: CiscoSpacesOptions,
  launchUrl: string,
  tenant: string,
): Promise<void> {
  const key = rsaKey(o.keyBits);
  // A fresh version per run: sites cache keys by (baseUrl, version), and the key is new.
  const now = Math.floor(Date.now() / 1000);
  const version = now;
  let server;
  try {
    server = await startFakeKeyServer([{ version, key }], o.keyServerPort);
  } catch (err) {
    checks.list.push({
      name: 'launch: serve the partner public key on loopback',
      ok: false,
      reason: `could not listen on 127.0.0.1:${o.keyServerPort}: ${(err as Error).message}`,
    });
    return;
  }
  try {
    const jwt = mintLaunchToken(key.privateKey, launchClaims(tenant, server.url, now));
    const base = `launch: RS256 (${o.keyBits}-bit) token with baseUrl ${server.url}`;
    let res: HttpResponse;
    try {
      res = await send(launchUrl, {
        method: 'POST',
        timeoutMs: o.timeoutMs,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams({ token: jwt, version: String(version) }).toString(),
      });
    } catch (err) {
      await checks.run(base, () => Promise.reject(err));
      return;
    }
    const fetched = server.requests.some((p) => p.startsWith(PARTNER_KEY_PATH));
    const location = locationOf(res);
    if (res.status === 303 || (location !== undefined && res.status >= 300)) {
      checks.list.push({
        name: `${base} → accepted (the site trusts this key server)`,
        ok: fetched && res.status === 303 && location !== undefined,
        reason: !fetched
          ? 'accepted without fetching the public key: the signature cannot have been verified'
          : res.status !== 303
            ? `answered ${res.status}, expected 303 to the app`
            : location === undefined
              ? '303 without a Location'
              : null,
      });
      return;
    }
    if (res.status === 401) {
      checks.list.push({
        name: `${base} → refused (the site does not trust this key server)`,
        ok: !fetched,
        reason: fetched
          ? 'refused with 401 after fetching the key from the loopback baseUrl: either it fetches keys from an untrusted baseUrl, or it trusts it and refused a valid token (unknown tenant, or no app URL?)'
          : null,
      });
      return;
    }
    checks.list.push({
      name: base,
      ok: false,
      reason: `HTTP ${res.status}${fetched ? ' after fetching the key' : ''}; expected 303 to the app (trusted key server) or 401 (untrusted)`,
    });
  } finally {
    await server.close();
  }
}
