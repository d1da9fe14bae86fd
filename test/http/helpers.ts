/**
 * Shared helpers for the in-process HTTP protocol tests (test/http/*.test.ts): request
 * builders for the token, revocation and introspection endpoints, exact error-body checks
 * and access-token verification against the server's own JWKS.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyResult,
  decodeJwt,
  jwtVerify,
} from 'jose';
import type { TestApp } from '../helpers/app.js';

export const ISSUER = 'http://127.0.0.1:8080';

export type Params = Record<string, string>;
export type Json = Record<string, unknown>;

/** RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and Base64-encoded. */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;
}

/** `Basic` with the given raw text Base64-encoded (no form-encoding). */
export function rawBasic(text: string): string {
  return `Basic ${Buffer.from(text).toString('base64')}`;
}

export interface PostOptions {
  /** Send the parameters as a JSON object instead of a form. */
  readonly json?: boolean;
  readonly headers?: Record<string, string>;
}

export function post(
  t: TestApp,
  url: string,
  params: Params,
  opts: PostOptions = {},
): Promise<LightMyRequestResponse> {
  const payload = opts.json ? JSON.stringify(params) : new URLSearchParams(params).toString();
  const type = opts.json ? 'application/json' : 'application/x-www-form-urlencoded';
  return t.app.inject({
    method: 'POST',
    url,
    payload,
    headers: { 'content-type': type, ...opts.headers },
  });
}

/** A raw POST: the body exactly as given, headers exactly as given (no content type added). */
export function postRaw(
  t: TestApp,
  url: string,
  payload: string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url, payload, headers });
}

export function tokenRequest(
  t: TestApp,
  params: Params,
  opts: PostOptions & { path?: string } = {},
): Promise<LightMyRequestResponse> {
  return post(t, opts.path ?? '/oauth/token', params, opts);
}

export interface Creds {
  readonly client_id: string;
  readonly client_secret: string;
}

/** client_credentials with the secret in the form body. */
export function clientCredentials(
  t: TestApp,
  c: Creds,
  extra: Params = {},
  opts: PostOptions & { path?: string } = {},
): Promise<LightMyRequestResponse> {
  return tokenRequest(
    t,
    {
      grant_type: 'client_credentials',
      client_id: c.client_id,
      client_secret: c.client_secret,
      ...extra,
    },
    opts,
  );
}

export function refresh(
  t: TestApp,
  c: Creds,
  refreshToken: string,
  extra: Params = {},
): Promise<LightMyRequestResponse> {
  return tokenRequest(t, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: c.client_id,
    client_secret: c.client_secret,
    ...extra,
  });
}

export function revoke(
  t: TestApp,
  c: Creds,
  token: string,
  extra: Params = {},
): Promise<LightMyRequestResponse> {
  return post(t, '/oauth/revoke', {
    token,
    client_id: c.client_id,
    client_secret: c.client_secret,
    ...extra,
  });
}

export function introspect(t: TestApp, c: Creds, token: string): Promise<LightMyRequestResponse> {
  return post(t, '/oauth/introspect', {
    token,
    client_id: c.client_id,
    client_secret: c.client_secret,
  });
}

export function userinfo(t: TestApp, token?: string): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'GET',
    url: '/oauth/userinfo',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

export function bodyOf(res: LightMyRequestResponse): Json {
  return res.json<Json>();
}

/** A successful JSON answer that must not be cached; returns the body. */
export function ok(res: LightMyRequestResponse): Json {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  return bodyOf(res);
}

/** The access token of a standard-dialect success body. */
export function accessTokenOf(res: LightMyRequestResponse): string {
  const body = ok(res);
  assert.equal(typeof body['access_token'], 'string');
  return body['access_token'] as string;
}

/**
 * An RFC 6749 §5.2 error: exactly `{error, error_description}`, the given status and code,
 * never cached. Returns the body.
 */
export function assertError(
  res: LightMyRequestResponse,
  status: number,
  code: string,
): { error: string; error_description: string } {
  assert.equal(res.statusCode, status, res.body);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = bodyOf(res);
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], res.body);
  assert.equal(body['error'], code, res.body);
  assert.equal(typeof body['error_description'], 'string');
  assert.ok((body['error_description'] as string).length > 0);
  return body as { error: string; error_description: string };
}

export async function fetchJwks(t: TestApp): Promise<JSONWebKeySet> {
  const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
  assert.equal(res.statusCode, 200);
  return res.json<JSONWebKeySet>();
}

/**
 * Verifies an access token as an outside resource server would: against the published
 * JWKS, with `typ: at+jwt`, the issuer and the test clock.
 */
export async function verifyAccessToken(
  t: TestApp,
  token: string,
  opts: { audience?: string; algorithms?: string[] } = {},
): Promise<JWTVerifyResult> {
  const keys = createLocalJWKSet(await fetchJwks(t));
  return jwtVerify(token, keys, {
    issuer: ISSUER,
    typ: 'at+jwt',
    currentDate: new Date(t.clock.now * 1000),
    ...(opts.audience !== undefined && { audience: opts.audience }),
    ...(opts.algorithms !== undefined && { algorithms: opts.algorithms }),
  });
}

export function claims(token: string): JWTPayload & Json {
  return decodeJwt(token) as JWTPayload & Json;
}

/** Builds a compact JWS from raw header and payload objects and a raw signature. */
export function compact(header: object, payload: object, signature = ''): string {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
