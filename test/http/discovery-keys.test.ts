/**
 * RFC 8414 metadata and the JWKS, including staged signing-key rotation: a new key is
 * published before it signs, and a retired key stays published until every token it signed
 * has expired.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import { rotateKey } from '../../src/admin/keys.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  type Creds,
  ISSUER,
  accessTokenOf,
  bodyOf,
  clientCredentials,
  fetchJwks,
  ok,
  tokenRequest,
  userinfo,
  verifyAccessToken,
} from './helpers.js';

/** RFC 8414 §2 metadata names; anything else in the document would be a typo. */
const RFC8414_FIELDS = new Set([
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'registration_endpoint',
  'scopes_supported',
  'response_types_supported',
  'response_modes_supported',
  'grant_types_supported',
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'service_documentation',
  'ui_locales_supported',
  'op_policy_uri',
  'op_tos_uri',
  'revocation_endpoint',
  'revocation_endpoint_auth_methods_supported',
  'revocation_endpoint_auth_signing_alg_values_supported',
  'introspection_endpoint',
  'introspection_endpoint_auth_methods_supported',
  'introspection_endpoint_auth_signing_alg_values_supported',
  'code_challenge_methods_supported',
  'userinfo_endpoint',
  'authorization_response_iss_parameter_supported',
]);

describe('discovery metadata (RFC 8414)', () => {
  let t: TestApp;
  let meta: Record<string, unknown>;

  before(async () => {
    t = await createTestApp();
    const res = await t.app.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    meta = bodyOf(res);
  });
  after(() => t.close());

  test('issuer and endpoints, exactly', () => {
    assert.deepEqual(
      {
        issuer: meta['issuer'],
        token_endpoint: meta['token_endpoint'],
        jwks_uri: meta['jwks_uri'],
        revocation_endpoint: meta['revocation_endpoint'],
        introspection_endpoint: meta['introspection_endpoint'],
        userinfo_endpoint: meta['userinfo_endpoint'],
      },
      {
        issuer: ISSUER,
        token_endpoint: `${ISSUER}/oauth/token`,
        jwks_uri: `${ISSUER}/.well-known/jwks.json`,
        revocation_endpoint: `${ISSUER}/oauth/revoke`,
        introspection_endpoint: `${ISSUER}/oauth/introspect`,
        userinfo_endpoint: `${ISSUER}/oauth/userinfo`,
      },
    );
  });

  test('client authentication methods', () => {
    const secretMethods = ['client_secret_basic', 'client_secret_post'];
    // Introspection is for confidential clients only.
    assert.deepEqual(meta['introspection_endpoint_auth_methods_supported'], secretMethods);
    // The token and revocation endpoints offer both secret methods, and may add `none` for
    // public clients (client_id only) — nothing else (no private_key_jwt, no mTLS).
    for (const field of [
      'token_endpoint_auth_methods_supported',
      'revocation_endpoint_auth_methods_supported',
    ]) {
      const methods = meta[field] as string[];
      assert.ok(Array.isArray(methods), field);
      assert.deepEqual(methods.slice(0, 2), secretMethods, field);
      assert.deepEqual(
        methods.filter((m) => !secretMethods.includes(m)),
        methods.length > 2 ? ['none'] : [],
        field,
      );
    }
  });

  test('only RFC 8414 field names', () => {
    for (const key of Object.keys(meta))
      assert.ok(RFC8414_FIELDS.has(key), `unexpected metadata field ${key}`);
    assert.ok(Array.isArray(meta['response_types_supported']));
  });

  test('grant types: client_credentials and refresh_token, each one actually served', async () => {
    const grants = meta['grant_types_supported'] as string[];
    assert.ok(Array.isArray(grants));
    assert.ok(grants.includes('client_credentials'));
    assert.ok(grants.includes('refresh_token'));
    assert.ok(!grants.includes('password'));
    assert.ok(!grants.includes('implicit'));
    assert.equal(new Set(grants).size, grants.length);
    const c = await t.client({});
    for (const g of grants) {
      const res = await tokenRequest(t, { grant_type: g, ...c });
      assert.notEqual(bodyOf(res)['error'], 'unsupported_grant_type', g);
    }
  });

  test('the endpoints it names answer', async () => {
    const c = await t.client({});
    const path = (url: unknown) => new URL(String(url)).pathname;
    ok(await clientCredentials(t, c, {}, { path: path(meta['token_endpoint']) }));
    assert.equal(
      (await t.app.inject({ method: 'GET', url: path(meta['jwks_uri']) })).statusCode,
      200,
    );
    assert.equal((await userinfo(t)).statusCode, 401);
    assert.equal(path(meta['userinfo_endpoint']), '/oauth/userinfo');
  });
});

describe('JWKS', () => {
  let t: TestApp;
  let c: Creds;
  before(async () => {
    t = await createTestApp();
    c = await t.client({});
  });
  after(() => t.close());

  test('served as application/jwk-set+json, cacheable', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/jwk-set\+json/);
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
  });

  test('one RSA public key: exactly kty, n, e, kid, alg, use; kid is its RFC 7638 thumbprint', async () => {
    const { keys } = await fetchJwks(t);
    assert.equal(keys.length, 1);
    const key = keys[0];
    assert.ok(key);
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(key.kty, 'RSA');
    assert.equal(key.alg, 'RS256');
    assert.equal(key.use, 'sig');
    assert.equal(key.e, 'AQAB');
    assert.equal(Buffer.from(key.n ?? '', 'base64url').length, 256);
    assert.equal(key.kid, await calculateJwkThumbprint(key));
    const token = accessTokenOf(await clientCredentials(t, c));
    assert.equal(decodeProtectedHeader(token).kid, key.kid);
  });
});

describe('signing key rotation', () => {
  test('staged: published at once, signs after keyPublishAhead, old key published until publish_until', async () => {
    const t = await createTestApp();
    try {
      const c = await t.client({});
      const start = t.clock.now;
      const k0 = decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid;
      assert.ok(k0);

      const rotated = await rotateKey(t.deps, { now: false });
      const k1 = rotated.kid;
      assert.notEqual(k1, k0);
      assert.equal(rotated.status, 'next');
      assert.equal(rotated.activates_at, new Date((start + 3600) * 1000).toISOString());

      // Published immediately, newest first…
      assert.deepEqual(
        (await fetchJwks(t)).keys.map((k) => k.kid),
        [k1, k0],
      );
      // …but the old key keeps signing until the publish-ahead delay has passed.
      assert.equal(decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid, k0);
      t.clock.advance(3599);
      const lastOld = accessTokenOf(await clientCredentials(t, c));
      assert.equal(decodeProtectedHeader(lastOld).kid, k0);

      t.clock.advance(1);
      const firstNew = accessTokenOf(await clientCredentials(t, c));
      assert.equal(decodeProtectedHeader(firstNew).kid, k1);
      // Both verify against the published set, and the server accepts both.
      await verifyAccessToken(t, lastOld);
      await verifyAccessToken(t, firstNew);
      ok(await userinfo(t, lastOld));
      ok(await userinfo(t, firstNew));

      // The retired key stays published for at least the longest token lifetime (24 h for
      // cisco-spaces), then disappears.
      const rows = await t.deps.store.listSigningKeys();
      const oldRow = rows.find((r) => r.kid === k0);
      const newRow = rows.find((r) => r.kid === k1);
      assert.ok(oldRow?.publishUntil && newRow);
      assert.equal(newRow.publishUntil, null);
      assert.equal(newRow.activatesAt, start + 3600);
      assert.ok(oldRow.publishUntil >= newRow.activatesAt + 86400, String(oldRow.publishUntil));

      t.clock.now = oldRow.publishUntil - 1;
      assert.deepEqual(
        (await fetchJwks(t)).keys.map((k) => k.kid),
        [k1, k0],
      );
      assert.equal(decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid, k1);
      t.clock.now = oldRow.publishUntil;
      assert.deepEqual(
        (await fetchJwks(t)).keys.map((k) => k.kid),
        [k1],
      );
      assert.equal(decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid, k1);
    } finally {
      await t.close();
    }
  });

  test('a retired key stays published as long as the longest client token lifetime', async () => {
    const t = await createTestApp();
    try {
      const long = await t.client({ accessTokenTtl: 200_000 });
      const token = accessTokenOf(await clientCredentials(t, long));
      await rotateKey(t.deps, { now: true });
      const k0 = decodeProtectedHeader(token).kid;
      t.clock.advance(199_999);
      ok(await userinfo(t, token));
      assert.ok((await fetchJwks(t)).keys.some((k) => k.kid === k0));
    } finally {
      await t.close();
    }
  });

  test('keyPublishAhead is configurable', async () => {
    const t = await createTestApp({ flags: { keyPublishAhead: 60 } });
    try {
      const c = await t.client({});
      const k0 = decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid;
      const { kid: k1 } = await rotateKey(t.deps, { now: false });
      t.clock.advance(59);
      assert.equal(decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid, k0);
      t.clock.advance(1);
      assert.equal(decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid, k1);
    } finally {
      await t.close();
    }
  });

  test('now: true switches at once; tokens of the old key stay valid', async () => {
    const t = await createTestApp();
    try {
      const c = await t.client({});
      const old = accessTokenOf(await clientCredentials(t, c));
      const k0 = decodeProtectedHeader(old).kid;
      const rotated = await rotateKey(t.deps, { now: true });
      assert.equal(rotated.status, 'active');
      const fresh = accessTokenOf(await clientCredentials(t, c));
      assert.equal(decodeProtectedHeader(fresh).kid, rotated.kid);
      assert.notEqual(rotated.kid, k0);
      assert.deepEqual(
        (await fetchJwks(t)).keys.map((k) => k.kid),
        [rotated.kid, k0],
      );
      ok(await userinfo(t, old));
      ok(await userinfo(t, fresh));
      await verifyAccessToken(t, old);
      await verifyAccessToken(t, fresh);
    } finally {
      await t.close();
    }
  });

  test('rotating to another algorithm (ES256)', async () => {
    const t = await createTestApp();
    try {
      const c = await t.client({});
      const old = accessTokenOf(await clientCredentials(t, c));
      const rotated = await rotateKey(t.deps, { now: true, alg: 'ES256' });
      const fresh = accessTokenOf(await clientCredentials(t, c));
      const header = decodeProtectedHeader(fresh);
      assert.equal(header.alg, 'ES256');
      assert.equal(header.kid, rotated.kid);
      const { keys } = await fetchJwks(t);
      const ec = keys.find((k) => k.kid === rotated.kid);
      assert.deepEqual(Object.keys(ec ?? {}).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      assert.equal(ec?.crv, 'P-256');
      await verifyAccessToken(t, fresh, { algorithms: ['ES256'] });
      await verifyAccessToken(t, old, { algorithms: ['RS256'] });
      ok(await userinfo(t, fresh));
      ok(await userinfo(t, old));
    } finally {
      await t.close();
    }
  });
});

describe('other paths', () => {
  test('an unknown path → 404 JSON, never cached', async () => {
    const t = await createTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/nope' });
      assert.equal(res.statusCode, 404);
      assert.equal(bodyOf(res)['error'], 'not_found');
      assert.equal(res.headers['cache-control'], 'no-store');
    } finally {
      await t.close();
    }
  });
});
