/**
 * The client-credentials platforms: Bright Pattern (`expires_in` as a string of digits) and
 * Setu (camelCase `accessToken`/`refreshToken`, rotating refresh with reuse detection).
 */
import { type HttpResponse, jsonObject, send, where } from './http.js';
import { Checks, fail } from './report.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
const JSON_TYPE = { 'content-type': 'application/json', accept: 'application/json' };

function postForm(url: string, body: Record<string, string>, timeoutMs: number) {
  return send(url, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams(body).toString(),
    timeoutMs,
  });
}

function postJson(url: string, body: Record<string, string>, timeoutMs: number) {
  return send(url, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body), timeoutMs });
}

/** Describes a response without its body's secrets: status, and an OAuth `error` if any. */
export function describe(res: HttpResponse): string {
  const body = jsonObject(res);
  const error = typeof body?.['error'] === 'string' ? ` ${body['error']}` : '';
  return `HTTP ${res.status}${error}`;
}

/** The field names of a JSON object, sorted, for messages (never the values). */
function fieldNames(body: Record<string, unknown>): string {
  return Object.keys(body).sort().join(', ') || '(none)';
}

function expectFields(body: Record<string, unknown>, wanted: readonly string[]): void {
  const got = Object.keys(body).sort();
  const want = [...wanted].sort();
  if (got.length !== want.length || got.some((k, i) => k !== want[i]))
    fail(`fields are {${fieldNames(body)}}, expected exactly {${want.join(', ')}}`);
}

function nonEmptyString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.length === 0) fail(`${field} is not a non-empty string`);
  return v;
}

/** A refused request: 4xx without any token in the body. */
function expectRefused(res: HttpResponse, status: number | 'any4xx', error?: string): void {
  const body = jsonObject(res);
  const tokens = ['access_token', 'accessToken', 'refresh_token', 'refreshToken'].filter(
    (k) => body?.[k] !== undefined,
  );
  if (res.status >= 200 && res.status < 300)
    fail(
      `accepted (HTTP ${res.status}${tokens.length > 0 ? `, issued ${tokens.join(', ')}` : ''})`,
    );
  if (tokens.length > 0) fail(`HTTP ${res.status} but the body carries ${tokens.join(', ')}`);
  if (status === 'any4xx' ? res.status < 400 || res.status > 499 : res.status !== status)
    fail(`${describe(res)}, expected ${status === 'any4xx' ? 'a 4xx' : status}`);
  if (error !== undefined && body?.['error'] !== error)
    fail(
      `HTTP ${res.status} with error ${body === undefined ? '(body is not JSON)' : JSON.stringify(body['error'] ?? null)}, expected "${error}"`,
    );
}

export { expectRefused };

/** A 200 JSON object, or a failure describing what came instead. */
function okJson(res: HttpResponse): Record<string, unknown> {
  const body = jsonObject(res);
  if (res.status !== 200) fail(`${describe(res)} from ${where(res.url)}, expected 200`);
  if (body === undefined) fail('the 200 response is not a JSON object');
  return body;
}

export { okJson };

export interface ClientCredentialsOptions {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly secret: string;
  readonly timeoutMs: number;
}

export async function simulateBrightPattern(
  o: ClientCredentialsOptions & { scope: string },
): Promise<Checks> {
  const checks = new Checks();
  const grant = {
    grant_type: 'client_credentials',
    client_id: o.clientId,
    client_secret: o.secret,
    scope: o.scope,
  };
  const body = await checks.run('token: client_credentials form POST answers 200 JSON', async () =>
    okJson(await postForm(o.tokenUrl, grant, o.timeoutMs)),
  );
  if (body === undefined) {
    for (const name of [
      'token: exactly access_token, token_type, expires_in',
      'token: token_type is "Bearer"',
      'token: expires_in is a string of digits',
    ])
      checks.skipped(name, 'no token response');
  } else {
    await checks.run('token: exactly access_token, token_type, expires_in', async () => {
      expectFields(body, ['access_token', 'token_type', 'expires_in']);
      nonEmptyString(body, 'access_token');
    });
    await checks.run('token: token_type is "Bearer"', async () => {
      if (body['token_type'] !== 'Bearer')
        fail(`token_type is ${JSON.stringify(body['token_type'] ?? null)}`);
    });
    await checks.run('token: expires_in is a string of digits', async () => {
      const v = body['expires_in'];
      if (typeof v !== 'string')
        fail(
          `expires_in is a ${v === null ? 'null' : typeof v} (${JSON.stringify(v ?? null)}), not a string`,
        );
      if (!/^\d+$/.test(v)) fail(`expires_in ${JSON.stringify(v)} is not only digits`);
    });
  }
  await checks.run('negative: wrong client secret → 401 invalid_client', async () => {
    expectRefused(
      await postForm(o.tokenUrl, { ...grant, client_secret: wrongSecret(o.secret) }, o.timeoutMs),
      401,
      'invalid_client',
    );
  });
  return checks;
}

/** A secret that is certainly not the right one (same length, last characters changed). */
export function wrongSecret(secret: string): string {
  const tail = secret.endsWith('x') ? 'y' : 'x';
  return `${secret.slice(0, -2)}${tail}${tail}`;
}

export async function simulateSetu(o: ClientCredentialsOptions): Promise<Checks> {
  const checks = new Checks();
  const pairOf = (body: Record<string, unknown>) => {
    expectFields(body, ['accessToken', 'refreshToken']);
    return {
      accessToken: nonEmptyString(body, 'accessToken'),
      refreshToken: nonEmptyString(body, 'refreshToken'),
    };
  };
  const first = await checks.run(
    'token: client_credentials form POST → exactly accessToken, refreshToken',
    async () =>
      pairOf(
        okJson(
          await postForm(
            o.tokenUrl,
            { grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.secret },
            o.timeoutMs,
          ),
        ),
      ),
  );
  const refresh = (refreshToken: string) =>
    postJson(
      o.tokenUrl,
      {
        grant_type: 'refresh_token',
        client_id: o.clientId,
        client_secret: o.secret,
        refreshToken,
      },
      o.timeoutMs,
    );
  const names = {
    rotate: 'refresh: JSON refresh_token grant → a new accessToken, refreshToken pair',
    reuse: 'refresh: reusing the old refresh token → 400 invalid_grant',
    family: 'refresh: after that reuse, the new refresh token is refused too (family revoked)',
  };
  if (first === undefined) {
    for (const name of Object.values(names)) checks.skipped(name, 'no token pair was issued');
  } else {
    const second = await checks.run(names.rotate, async () => {
      const pair = pairOf(okJson(await refresh(first.refreshToken)));
      if (pair.refreshToken === first.refreshToken) fail('the refresh token was not rotated');
      if (pair.accessToken === first.accessToken) fail('the access token is the same as before');
      return pair;
    });
    if (second === undefined) {
      checks.skipped(names.reuse, 'the refresh did not succeed');
      checks.skipped(names.family, 'the refresh did not succeed');
    } else {
      await checks.run(names.reuse, async () => {
        expectRefused(await refresh(first.refreshToken), 400, 'invalid_grant');
      });
      await checks.run(names.family, async () => {
        expectRefused(await refresh(second.refreshToken), 'any4xx');
      });
    }
  }
  await checks.run('negative: wrong client secret → 401 invalid_client', async () => {
    expectRefused(
      await postForm(
        o.tokenUrl,
        {
          grant_type: 'client_credentials',
          client_id: o.clientId,
          client_secret: wrongSecret(o.secret),
        },
        o.timeoutMs,
      ),
      401,
      'invalid_client',
    );
  });
  return checks;
}
