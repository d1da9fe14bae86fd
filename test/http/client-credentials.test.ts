/**
 * client_credentials (DESIGN §3): tenant selection by id, domain or `tenant=`, scope rules,
 * what the token and the standard response carry, RFC 8707 `resource`, audience overrides,
 * refresh tokens for clients holding that grant, and the RFC 9068 access-token format under
 * every signing algorithm.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  type Creds,
  ISSUER,
  UUID,
  accessTokenOf,
  assertError,
  claims,
  clientCredentials,
  fetchJwks,
  ok,
  verifyAccessToken,
} from './helpers.js';

describe('client_credentials: tenants and scopes', () => {
  let t: TestApp;
  let single: Creds;
  let multi: Creds;
  let unbound: Creds;
  let bare: Creds;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme', 'acme.example.com');
    await t.tenant('globex', 'globex.example.com');
    await t.tenant('initech', 'initech.example.com');
    single = await t.client({ tenants: ['acme'], scopes: ['read', 'write'] });
    multi = await t.client({ tenants: ['acme', 'globex'], scopes: ['read', 'write'] });
    unbound = await t.client({ scopes: ['read', 'write'] });
    bare = await t.client({});
  });
  after(() => t.close());

  async function issue(c: Creds, extra: Record<string, string> = {}) {
    const body = ok(await clientCredentials(t, c, extra));
    return { body, claims: claims(body['access_token'] as string) };
  }

  test('a tenant named by id in scope', async () => {
    const { body, claims: p } = await issue(multi, { scope: 'globex read' });
    assert.deepEqual(body, {
      access_token: body['access_token'],
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'globex read',
    });
    assert.equal(p['tenant_id'], 'globex');
    assert.equal(p['scope'], 'read');
  });

  test('the tenant entry may come anywhere in scope', async () => {
    const { body, claims: p } = await issue(multi, { scope: 'write acme read' });
    assert.equal(body['scope'], 'write acme read');
    assert.equal(p['tenant_id'], 'acme');
    assert.equal(p['scope'], 'write read');
  });

  test('a tenant named by domain, case-insensitively', async () => {
    for (const name of ['globex.example.com', 'GLOBEX.Example.COM']) {
      const { body, claims: p } = await issue(multi, { scope: `${name} write` });
      assert.equal(p['tenant_id'], 'globex');
      assert.equal(p['scope'], 'write');
      assert.equal(body['scope'], `${name} write`);
    }
  });

  test('a tenant id is matched exactly (not case-insensitively)', async () => {
    assertError(await clientCredentials(t, multi, { scope: 'GLOBEX' }), 400, 'invalid_scope');
  });

  test('naming only the tenant grants no other scope', async () => {
    const { body, claims: p } = await issue(multi, { scope: 'acme' });
    assert.equal(body['scope'], 'acme');
    assert.equal(p['tenant_id'], 'acme');
    assert.equal('scope' in p, false);
  });

  test('the tenant= parameter, by id or domain; it is not echoed in scope', async () => {
    const byId = await issue(multi, { tenant: 'globex', scope: 'read' });
    assert.equal(byId.claims['tenant_id'], 'globex');
    assert.equal(byId.claims['scope'], 'read');
    assert.equal(byId.body['scope'], 'read');
    const byDomain = await issue(multi, { tenant: 'Acme.Example.Com' });
    assert.equal(byDomain.claims['tenant_id'], 'acme');
    assert.equal(byDomain.claims['scope'], 'read write');
    assert.equal(byDomain.body['scope'], 'read write');
  });

  test('tenant= and scope may name the same tenant', async () => {
    const { claims: p } = await issue(multi, {
      tenant: 'globex',
      scope: 'globex.example.com read',
    });
    assert.equal(p['tenant_id'], 'globex');
  });

  test('two different tenants → invalid_scope', async () => {
    assertError(await clientCredentials(t, multi, { scope: 'acme globex' }), 400, 'invalid_scope');
    assertError(
      await clientCredentials(t, multi, { tenant: 'acme', scope: 'globex' }),
      400,
      'invalid_scope',
    );
  });

  test('a single bound tenant is the default', async () => {
    const { body, claims: p } = await issue(single);
    assert.equal(p['tenant_id'], 'acme');
    assert.equal(p['scope'], 'read write');
    assert.equal(body['scope'], 'read write');
    const narrowed = await issue(single, { scope: 'read' });
    assert.equal(narrowed.claims['tenant_id'], 'acme');
    assert.equal(narrowed.claims['scope'], 'read');
  });

  test('several bound tenants and none named → invalid_scope', async () => {
    assertError(await clientCredentials(t, multi), 400, 'invalid_scope');
    assertError(await clientCredentials(t, multi, { scope: 'read' }), 400, 'invalid_scope');
  });

  test('a tenant that exists but is not bound to the client → 400 invalid_scope', async () => {
    assertError(await clientCredentials(t, single, { scope: 'globex' }), 400, 'invalid_scope');
    assertError(
      await clientCredentials(t, single, { scope: 'initech.example.com read' }),
      400,
      'invalid_scope',
    );
    assertError(await clientCredentials(t, single, { tenant: 'initech' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, multi, { tenant: 'initech' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, unbound, { scope: 'acme' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, unbound, { tenant: 'acme' }), 400, 'invalid_scope');
  });

  test('an unknown tenant → invalid_scope', async () => {
    assertError(
      await clientCredentials(t, single, { tenant: 'no-such-tenant' }),
      400,
      'invalid_scope',
    );
  });

  test('an unknown scope → invalid_scope', async () => {
    assertError(await clientCredentials(t, single, { scope: 'admin' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, single, { scope: 'read admin' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, bare, { scope: 'read' }), 400, 'invalid_scope');
  });

  test('a scope another client has but this one does not → invalid_scope', async () => {
    const other = await t.client({ scopes: ['billing'] });
    ok(await clientCredentials(t, other, { scope: 'billing' }));
    assertError(await clientCredentials(t, unbound, { scope: 'billing' }), 400, 'invalid_scope');
  });

  test('no scope requested → all of the client scopes', async () => {
    const { body, claims: p } = await issue(unbound);
    assert.equal(p['scope'], 'read write');
    assert.equal(body['scope'], 'read write');
    assert.equal('tenant_id' in p, false);
  });

  test('a repeated scope entry is granted once', async () => {
    const { body, claims: p } = await issue(unbound, { scope: 'read  read' });
    assert.equal(p['scope'], 'read');
    assert.equal(body['scope'], 'read');
  });

  test('a client with no scopes and no tenants: no scope anywhere', async () => {
    const { body, claims: p } = await issue(bare);
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal('scope' in p, false);
    assert.equal('tenant_id' in p, false);
  });

  test('RFC 8707 resource equal to the audience is accepted; any other → 400 invalid_target', async () => {
    const { claims: p } = await issue(single, { resource: ISSUER });
    assert.equal(p['aud'], ISSUER);
    assertError(
      await clientCredentials(t, single, { resource: 'https://other.example.com' }),
      400,
      'invalid_target',
    );
    assertError(
      await clientCredentials(t, single, { resource: `${ISSUER}/` }),
      400,
      'invalid_target',
    );
  });

  test('a per-client audience appears in aud, and resource must then name it', async () => {
    const api = await t.client({ audience: 'https://api.example.com', scopes: ['read'] });
    assert.equal((await issue(api)).claims['aud'], 'https://api.example.com');
    assert.equal(
      (await issue(api, { resource: 'https://api.example.com' })).claims['aud'],
      'https://api.example.com',
    );
    assertError(await clientCredentials(t, api, { resource: ISSUER }), 400, 'invalid_target');
  });

  test('a per-client access-token lifetime', async () => {
    const short = await t.client({ accessTokenTtl: 120 });
    const { body, claims: p } = await issue(short);
    assert.equal(body['expires_in'], 120);
    assert.equal((p.exp ?? 0) - (p.iat ?? 0), 120);
  });

  test('no refresh token for a client without the refresh_token grant', async () => {
    const { body, claims: p } = await issue(single);
    assert.equal('refresh_token' in body, false);
    assert.equal('grant_id' in p, false);
  });

  test('a refresh token (stored, bound to the tenant and scope) for a client with the refresh_token grant', async () => {
    const r = await t.client({
      tenants: ['acme'],
      scopes: ['read', 'write'],
      grants: ['client_credentials', 'refresh_token'],
    });
    const { body, claims: p } = await issue(r, { scope: 'read' });
    assert.deepEqual(Object.keys(body).sort(), [
      'access_token',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    assert.equal(typeof body['refresh_token'], 'string');
    assert.match(body['refresh_token'] as string, /^[A-Za-z0-9_-]{43}$/);
    const row = await t.deps.store.findRefreshToken(
      t.deps.crypto.hashSecret(body['refresh_token'] as string),
    );
    assert.ok(row);
    assert.equal(row.clientId, r.client_id);
    assert.equal(row.tenantId, 'acme');
    assert.equal(row.scope, 'read');
    assert.equal(row.userId, null);
    assert.equal(row.audience, ISSUER);
    assert.equal(row.parentId, null);
    assert.equal(row.rotatedAt, null);
    assert.equal(row.revokedAt, null);
    assert.equal(row.createdAt, t.clock.now);
    assert.equal(row.expiresAt, t.clock.now + 2_592_000);
    assert.equal(row.idleExpiresAt, t.clock.now + 1_209_600);
    // The access token belongs to the refresh family.
    assert.equal(p['grant_id'], row.familyId);
    // The plaintext token is not what is stored.
    assert.notEqual(row.tokenHash, body['refresh_token']);
  });
});

describe('access tokens (RFC 9068)', () => {
  let t: TestApp;
  let c: Creds;
  before(async () => {
    t = await createTestApp();
    await t.tenant('acme', 'acme.example.com');
    c = await t.client({ tenants: ['acme'], scopes: ['read', 'write'] });
  });
  after(() => t.close());

  test('verifies against the published JWKS with typ at+jwt, kid and RS256', async () => {
    const token = accessTokenOf(await clientCredentials(t, c, { scope: 'read' }));
    const { payload, protectedHeader } = await verifyAccessToken(t, token, {
      audience: ISSUER,
      algorithms: ['RS256'],
    });
    assert.deepEqual(Object.keys(protectedHeader).sort(), ['alg', 'kid', 'typ']);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'RS256');
    const jwks = await fetchJwks(t);
    assert.ok(jwks.keys.some((k) => k.kid === protectedHeader.kid));
    assert.equal(typeof payload.jti, 'string');
    assert.match(payload.jti as string, UUID);
    assert.deepEqual(payload, {
      iss: ISSUER,
      sub: c.client_id,
      aud: ISSUER,
      exp: t.clock.now + 3600,
      iat: t.clock.now,
      jti: payload.jti,
      client_id: c.client_id,
      scope: 'read',
      tenant_id: 'acme',
    });
  });

  test('every token gets its own jti', async () => {
    const a = claims(accessTokenOf(await clientCredentials(t, c)));
    const b = claims(accessTokenOf(await clientCredentials(t, c)));
    assert.notEqual(a.jti, b.jti);
  });

  test('the configured audience is the default aud', async () => {
    const other = await createTestApp({ flags: { audience: 'https://resources.example.com' } });
    try {
      const oc = await other.client({});
      const token = accessTokenOf(await clientCredentials(other, oc));
      const { payload } = await verifyAccessToken(other, token, {
        audience: 'https://resources.example.com',
      });
      assert.equal(payload.aud, 'https://resources.example.com');
      assert.equal(payload.iss, ISSUER);
      ok(await clientCredentials(other, oc, { resource: 'https://resources.example.com' }));
      assertError(await clientCredentials(other, oc, { resource: ISSUER }), 400, 'invalid_target');
    } finally {
      await other.close();
    }
  });

  for (const [alg, kty] of [
    ['ES256', 'EC'],
    ['PS256', 'RSA'],
    ['EdDSA', 'OKP'],
    ['RS256', 'RSA'],
  ] as const) {
    test(`signingAlg ${alg}: the token verifies and its header alg is ${alg}`, async () => {
      const a = await createTestApp({ flags: { signingAlg: alg } });
      try {
        const ac = await a.client({ scopes: ['read'] });
        const token = accessTokenOf(await clientCredentials(a, ac));
        assert.equal(decodeProtectedHeader(token).alg, alg);
        const { payload, protectedHeader } = await verifyAccessToken(a, token, {
          algorithms: [alg],
          audience: ISSUER,
        });
        assert.equal(protectedHeader.alg, alg);
        assert.equal(protectedHeader.typ, 'at+jwt');
        assert.equal(payload.client_id, ac.client_id);
        const jwks = await fetchJwks(a);
        const signer = jwks.keys.find((k) => k.kid === protectedHeader.kid);
        assert.equal(signer?.kty, kty);
        assert.equal(signer?.alg, alg);
        // DESIGN §6: an RS256 key for ID Tokens is kept beside whatever signs access tokens.
        assert.deepEqual(
          jwks.keys.map((k) => k.alg).sort(),
          alg === 'RS256' ? ['RS256'] : [alg, 'RS256'].sort(),
        );
        // The server itself accepts its token.
        ok(
          await a.app.inject({
            method: 'GET',
            url: '/oauth/userinfo',
            headers: { authorization: `Bearer ${token}` },
          }),
        );
      } finally {
        await a.close();
      }
    });
  }
});
