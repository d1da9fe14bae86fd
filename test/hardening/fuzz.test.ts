/**
 * Hostile input, generated: every endpoint answers random and malformed bodies, wrong and
 * missing content types, duplicate and array parameters, odd headers, invalid UTF-8, deep
 * and huge JSON with a 4xx (or its normal answer) — never a 5xx, never a hang — and the
 * server stays healthy. Runs are bounded (a fixed count per property, a fixed seed per run
 * printed on failure by fast-check).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';

const RUNS = 150;
const POST_PATHS = [
  '/oauth/token',
  '/auth/token',
  '/configapi/v2/oauth/token',
  '/oauth/revoke',
  '/oauth/introspect',
  '/oauth/authorize',
  '/spaces/launch',
  '/oauth/logout',
];
const GET_PATHS = [
  '/oauth/authorize',
  '/oauth/userinfo',
  '/spaces/app-info',
  '/.well-known/jwks.json',
  '/admin/v1/clients',
];
const PARAM_NAMES = [
  'grant_type',
  'client_id',
  'client_secret',
  'scope',
  'tenant',
  'refresh_token',
  'refreshToken',
  'code',
  'redirect_uri',
  'state',
  'code_verifier',
  'resource',
  'token',
  'token_type_hint',
  'response_type',
  'code_challenge',
  'code_challenge_method',
  'email',
  'password',
  'csrf',
  'txn',
  'version',
  'partnerTenantId',
  'prompt',
];

/** Percent-encodes what can be; a lone surrogate (not encodable) becomes U+FFFD. */
function enc(s: string): string {
  return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
}

/** Raw query/body pieces sent as they are: invalid percent-escapes and invalid UTF-8 bytes. */
const rawPiece = fc.constantFrom(
  '%',
  '%ZZ',
  '%FF%FE',
  '%E0%A4%A',
  '%C0%AF',
  'a=%00',
  '&&&',
  '==',
  'a=1&a=2',
  'client_id=x&client_id=y',
);

/** Strings a hostile caller sends: control characters, NUL, CRLF (header injection), unicode, long runs. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    '\0',
    '\r\nSet-Cookie: x=1',
    '%00',
    '%E0%A4%A',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    'dnaspaces',
    'client_credentials',
    'authorization_code',
    'refresh_token',
    'Bearer x',
    '{"a":',
    '\uFFFF\uD800',
  ),
  fc.string({ minLength: 3000, maxLength: 9000 }),
);

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    nasty,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('v'), { maxKeys: 3 }),
  ),
})).v;

const params = fc.array(
  fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 12 })), nasty),
  { maxLength: 8 },
);

const body = fc.oneof(
  fc
    .array(rawPiece, { minLength: 1, maxLength: 4 })
    .map((ps) => ({ type: 'application/x-www-form-urlencoded', payload: ps.join('&') })),
  params.map((ps) => ({
    type: 'application/x-www-form-urlencoded',
    payload: ps.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&'),
  })),
  fc
    .dictionary(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 8 })), value, {
      maxKeys: 8,
    })
    .map((o) => ({ type: 'application/json', payload: JSON.stringify(o) })),
  fc
    .tuple(
      fc.constantFrom(
        'application/json',
        'text/plain',
        '',
        'application/x-www-form-urlencoded; charset=latin1',
        'multipart/form-data',
        'application/jwt',
      ),
      fc.oneof(
        nasty,
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
      ),
    )
    .map(([type, payload]) => ({ type, payload })),
  fc
    .nat({ max: 3000 })
    .map((n) => ({ type: 'application/json', payload: `${'['.repeat(n)}${']'.repeat(n)}` })),
  fc.nat({ max: 3000 }).map((n) => ({
    type: 'application/json',
    payload: `{"a":${'{"a":'.repeat(n)}1${'}'.repeat(n + 1)}`,
  })),
);

const headers = fc.record(
  {
    authorization: fc.oneof(
      nasty,
      nasty.map((s) => `Basic ${Buffer.from(s, 'latin1').toString('base64')}`),
      nasty.map((s) => `Bearer ${s}`),
      fc.constantFrom('Basic', 'Basic !!!', 'Bearer', 'Bearer a.b.c', 'Basic Og=='),
    ),
    cookie: nasty.map((s) => `tessera_session=${enc(s)}; tessera_csrf=${enc(s)}`),
    'x-request-id': fc.string({ maxLength: 30 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
  },
  { requiredKeys: [] },
);

function assertSound(res: LightMyRequestResponse, what: string): void {
  assert.ok(res.statusCode < 500, `${what} → ${res.statusCode} ${res.body.slice(0, 200)}`);
}

describe('hostile input never gets a 5xx', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme', 'acme.example.com');
    await createUser(t.deps, {
      email: 'ann@acme.example',
      tenants: ['acme'],
      password: 'ann password 1',
    });
    await t.client({
      clientId: 'dnaspaces',
      secret: '31e08c21136c9102cdee',
      dialect: 'cisco-spaces',
      redirectUris: ['https://partners.dnaspaces.io/partner/OAuthValidation'],
    });
    await t.client({
      clientId: 'setu1',
      secret: 'setu-secret-0123456789',
      dialect: 'setu',
      tenants: ['acme'],
    });
  });
  after(() => t.close());

  test('random bodies, content types and headers on every POST endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...POST_PATHS), body, headers, async (url, b, h) => {
        const res = await t.app.inject({
          method: 'POST',
          url,
          payload: b.payload,
          headers: { ...h, ...(b.type && { 'content-type': b.type }) },
        });
        assertSound(res, `POST ${url}`);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('random query strings, repeated and array parameters on every GET endpoint', async () => {
    const query = fc.array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.constantFrom('client_id[]', 'scope[0]')),
        nasty,
      ),
      { maxLength: 8 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...GET_PATHS),
        query,
        fc.array(rawPiece, { maxLength: 2 }),
        headers,
        async (path, q, raw, h) => {
          const qs = [...q.map(([k, v]) => `${enc(k)}=${enc(v)}`), ...raw].join('&');
          const res = await t.app.inject({ method: 'GET', url: `${path}?${qs}`, headers: h });
          assertSound(res, `GET ${path}?${qs.slice(0, 100)}`);
          // A redirect never carries injected header lines.
          const location = res.headers['location'];
          if (typeof location === 'string') assert.ok(!/[\r\n]/.test(location));
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  test('valid client, random grant parameters: RFC errors only', async () => {
    await fc.assert(
      fc.asyncProperty(params, fc.boolean(), async (ps, json) => {
        const fields = Object.fromEntries(ps);
        const payload = { ...fields, client_id: 'setu1', client_secret: 'setu-secret-0123456789' };
        const res = json
          ? await t.app.inject({ method: 'POST', url: '/auth/token', payload })
          : await t.app.inject({
              method: 'POST',
              url: '/auth/token',
              payload: new URLSearchParams(payload).toString(),
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
            });
        assertSound(res, 'POST /auth/token');
        if (res.statusCode >= 400) {
          const err = res.json() as { error: string };
          assert.match(
            err.error,
            /^(invalid_request|invalid_client|invalid_grant|unauthorized_client|unsupported_grant_type|invalid_scope|invalid_target)$/,
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('the server is still healthy and serving afterwards', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: 'setu1',
        client_secret: 'setu-secret-0123456789',
      },
    });
    assert.equal(ok.statusCode, 200);
  });
});
