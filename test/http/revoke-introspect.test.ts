/**
 * Revocation (RFC 7009) and introspection (RFC 7662): what each revokes or reports, for whom,
 * and the client authentication both require.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeProtectedHeader, generateKeyPair } from 'jose';
import { listAudit } from '../../src/admin/audit.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  type Creds,
  ISSUER,
  assertError,
  basic,
  bodyOf,
  claims,
  clientCredentials,
  compact,
  introspect,
  ok,
  post,
  refresh,
  revoke,
  userinfo,
} from './helpers.js';

const grants = ['client_credentials', 'refresh_token'];

interface Issued {
  readonly access: string;
  readonly refresh: string;
}

async function issue(t: TestApp, c: Creds, extra: Record<string, string> = {}): Promise<Issued> {
  const body = ok(await clientCredentials(t, c, extra));
  return { access: body['access_token'] as string, refresh: body['refresh_token'] as string };
}

describe('revocation (RFC 7009)', () => {
  let t: TestApp;
  let a: Creds;
  let b: Creds;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    a = await t.client({ tenants: ['acme'], scopes: ['read'], grants });
    b = await t.client({ tenants: ['acme'], scopes: ['read'], grants });
  });
  after(() => t.close());

  function assertRevokedOk(res: Awaited<ReturnType<typeof revoke>>): void {
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.body, '');
    assert.equal(res.headers['cache-control'], 'no-store');
  }

  test('revoking a refresh token kills its family and the access tokens of that family', async () => {
    const first = await issue(t, a);
    const second = ok(await refresh(t, a, first.refresh));
    const current = {
      access: second['access_token'] as string,
      refresh: second['refresh_token'] as string,
    };
    ok(await userinfo(t, current.access));
    // Revoke the current refresh token.
    assertRevokedOk(await revoke(t, a, current.refresh));
    assertError(await refresh(t, a, current.refresh), 400, 'invalid_grant');
    for (const access of [first.access, current.access]) {
      const res = await userinfo(t, access);
      assertError(res, 401, 'invalid_token');
      assert.deepEqual(bodyOf(await introspect(t, a, access)), { active: false });
    }
    assert.deepEqual(bodyOf(await introspect(t, a, current.refresh)), { active: false });
    const row = await t.deps.store.findRefreshToken(t.deps.crypto.hashSecret(current.refresh));
    assert.notEqual(row?.revokedAt, null);
    assert.equal(await t.deps.store.isAccessTokenRevoked('unrelated', row?.familyId), true);
  });

  test('revoking an already rotated refresh token of the family also kills the family', async () => {
    const first = await issue(t, a);
    const second = ok(await refresh(t, a, first.refresh));
    assertRevokedOk(await revoke(t, a, first.refresh));
    assertError(await refresh(t, a, second['refresh_token'] as string), 400, 'invalid_grant');
    assertError(await userinfo(t, second['access_token'] as string), 401, 'invalid_token');
  });

  test('revoking an access token: refused at userinfo and inactive at introspection', async () => {
    const x = await issue(t, a);
    ok(await userinfo(t, x.access));
    assertRevokedOk(await revoke(t, a, x.access));
    assertError(await userinfo(t, x.access), 401, 'invalid_token');
    assert.deepEqual(bodyOf(await introspect(t, a, x.access)), { active: false });
    const jti = claims(x.access).jti as string;
    assert.equal(await t.deps.store.isAccessTokenRevoked(jti, undefined), true);
  });

  test('a revoked access token stays refused until it expires', async () => {
    const x = await issue(t, a);
    assertRevokedOk(await revoke(t, a, x.access));
    t.clock.advance(3000);
    assertError(await userinfo(t, x.access), 401, 'invalid_token');
    t.clock.advance(1000);
    assertError(await userinfo(t, x.access), 401, 'invalid_token');
  });

  test('an access token without a refresh family can be revoked too', async () => {
    const plain = await t.client({ scopes: ['read'] });
    const token = ok(await clientCredentials(t, plain))['access_token'] as string;
    assertRevokedOk(await revoke(t, plain, token));
    assertError(await userinfo(t, token), 401, 'invalid_token');
  });

  test('token_type_hint is only a hint', async () => {
    const x = await issue(t, a);
    assertRevokedOk(await revoke(t, a, x.access, { token_type_hint: 'refresh_token' }));
    assertError(await userinfo(t, x.access), 401, 'invalid_token');
    const y = await issue(t, a);
    assertRevokedOk(await revoke(t, a, y.refresh, { token_type_hint: 'access_token' }));
    assertError(await refresh(t, a, y.refresh), 400, 'invalid_grant');
    assertRevokedOk(
      await revoke(t, a, (await issue(t, a)).access, { token_type_hint: 'something_else' }),
    );
  });

  test('an unknown token → 200', async () => {
    assertRevokedOk(await revoke(t, a, 'no-such-token'));
    assertRevokedOk(await revoke(t, a, 'aaa.bbb.ccc'));
    assertRevokedOk(await revoke(t, a, compact({ alg: 'none', typ: 'at+jwt' }, { sub: 'x' })));
  });

  test('revoking twice → 200 both times', async () => {
    const x = await issue(t, a);
    assertRevokedOk(await revoke(t, a, x.refresh));
    assertRevokedOk(await revoke(t, a, x.refresh));
    assertRevokedOk(await revoke(t, a, x.access));
    assertRevokedOk(await revoke(t, a, x.access));
  });

  /** `x` is untouched: its owner still introspects both tokens active and can refresh. */
  async function assertStillActive(x: Issued): Promise<void> {
    ok(await userinfo(t, x.access));
    assert.equal(bodyOf(await introspect(t, a, x.access))['active'], true);
    assert.equal(bodyOf(await introspect(t, a, x.refresh))['active'], true);
    const at = claims(x.access);
    assert.equal(
      await t.deps.store.isAccessTokenRevoked(at.jti as string, at['grant_id'] as string),
      false,
    );
    ok(await refresh(t, a, x.refresh));
  }

  test("another client's access or refresh token → 400 unauthorized_client, NOT revoked (RFC 7009 §2.1)", async () => {
    const x = await issue(t, a);
    for (const token of [x.access, x.refresh]) {
      assertError(await revoke(t, b, token), 400, 'unauthorized_client');
      assertError(
        await post(
          t,
          '/oauth/revoke',
          { token },
          { headers: { authorization: basic(b.client_id, b.client_secret) } },
        ),
        400,
        'unauthorized_client',
      );
    }
    await assertStillActive(x);
    await t.deps.audit.flush();
    const refused = await listAudit(t.deps, { type: 'revocation.refused', client: b.client_id });
    assert.deepEqual(
      refused.map((e) => [e.client_id, e.tenant_id, e.reason]),
      [
        [b.client_id, 'acme', `access_token of client ${a.client_id}`],
        [b.client_id, 'acme', `access_token of client ${a.client_id}`],
        [b.client_id, 'acme', `refresh_token of client ${a.client_id}`],
        [b.client_id, 'acme', `refresh_token of client ${a.client_id}`],
      ],
    );
  });

  test("a public client presenting another client's token → 200, NOT revoked", async () => {
    const pub = await t.client({
      public: true,
      grants: ['authorization_code'],
      redirectUris: ['https://app.example.com/cb'],
    });
    const x = await issue(t, a);
    for (const token of [x.access, x.refresh])
      assertRevokedOk(await post(t, '/oauth/revoke', { token, client_id: pub.client_id }));
    await assertStillActive(x);
    assertRevokedOk(await post(t, '/oauth/revoke', { token: 'garbage', client_id: pub.client_id }));
    await t.deps.audit.flush();
    assert.deepEqual(
      await listAudit(t.deps, { type: 'revocation.refused', client: pub.client_id }),
      [],
    );
  });

  test("an unknown or expired token is 200 for any client, even if it was another client's", async () => {
    assertRevokedOk(await revoke(t, b, 'no-such-token'));
    assertRevokedOk(await revoke(t, b, compact({ alg: 'none', typ: 'at+jwt' }, { sub: 'x' })));
    const x = await issue(t, a);
    t.clock.advance(3600 + 60); // past exp and the 30 s skew
    assertRevokedOk(await revoke(t, b, x.access));
  });

  test('a missing token → invalid_request', async () => {
    assertError(
      await post(t, '/oauth/revoke', { client_id: a.client_id, client_secret: a.client_secret }),
      400,
      'invalid_request',
    );
    assertError(await revoke(t, a, ''), 400, 'invalid_request');
  });

  test('client authentication is required (401 invalid_client)', async () => {
    const x = await issue(t, a);
    assertError(await post(t, '/oauth/revoke', { token: x.access }), 401, 'invalid_client');
    assertError(
      await post(t, '/oauth/revoke', { token: x.access, client_id: a.client_id }),
      401,
      'invalid_client',
    );
    assertError(
      await revoke(t, { ...a, client_secret: 'wrong-secret' }, x.access),
      401,
      'invalid_client',
    );
    const viaBasic = await post(
      t,
      '/oauth/revoke',
      { token: x.access },
      { headers: { authorization: basic(a.client_id, 'wrong') } },
    );
    assertError(viaBasic, 401, 'invalid_client');
    assert.match(String(viaBasic.headers['www-authenticate']), /^Basic /);
    // None of these revoked anything.
    ok(await userinfo(t, x.access));
  });

  test('Basic authentication and JSON bodies work', async () => {
    const x = await issue(t, a);
    assertRevokedOk(
      await post(
        t,
        '/oauth/revoke',
        { token: x.access },
        { headers: { authorization: basic(a.client_id, a.client_secret) } },
      ),
    );
    assertError(await userinfo(t, x.access), 401, 'invalid_token');
    const y = await issue(t, a);
    assertRevokedOk(await post(t, '/oauth/revoke', { token: y.refresh, ...a }, { json: true }));
    assertError(await refresh(t, a, y.refresh), 400, 'invalid_grant');
  });

  test('malformed requests are RFC errors', async () => {
    assertError(
      await t.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        payload: '{"token":1}',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'invalid_request',
    );
    assertError(
      await t.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        payload: `token=a&token=b&client_id=${a.client_id}&client_secret=${a.client_secret}`,
      }),
      400,
      'invalid_request',
    );
  });
});

describe('introspection (RFC 7662)', () => {
  let t: TestApp;
  let a: Creds;
  let b: Creds;
  let rs: Creds;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme', 'acme.example.com');
    a = await t.client({ tenants: ['acme'], scopes: ['read', 'write'], grants });
    b = await t.client({ scopes: ['read'] });
    rs = await t.client({ scopes: ['tessera:introspect'] });
  });
  after(() => t.close());

  test('an active access token', async () => {
    const x = await issue(t, a, { scope: 'read' });
    const p = claims(x.access);
    const res = await introspect(t, a, x.access);
    assert.deepEqual(ok(res), {
      active: true,
      token_type: 'Bearer',
      client_id: a.client_id,
      scope: 'read',
      sub: a.client_id,
      aud: ISSUER,
      iss: ISSUER,
      exp: t.clock.now + 3600,
      iat: t.clock.now,
      jti: p.jti,
      tenant_id: 'acme',
    });
  });

  test('a token with a client audience override is reported too (aud is not checked here)', async () => {
    const api = await t.client({ audience: 'https://api.example.com' });
    const token = ok(await clientCredentials(t, api))['access_token'] as string;
    const body = ok(await introspect(t, api, token));
    assert.equal(body['active'], true);
    assert.equal(body['aud'], 'https://api.example.com');
    assert.equal('scope' in body, false);
    assert.equal('tenant_id' in body, false);
  });

  test("another client's token → exactly {active:false}", async () => {
    const x = await issue(t, a);
    assert.deepEqual(ok(await introspect(t, b, x.access)), { active: false });
    assert.deepEqual(ok(await introspect(t, b, x.refresh)), { active: false });
  });

  test('a client holding tessera:introspect may introspect any client’s tokens', async () => {
    const x = await issue(t, a);
    const body = ok(await introspect(t, rs, x.access));
    assert.equal(body['active'], true);
    assert.equal(body['client_id'], a.client_id);
    assert.equal(body['tenant_id'], 'acme');
    const r = ok(await introspect(t, rs, x.refresh));
    assert.equal(r['active'], true);
    assert.equal(r['client_id'], a.client_id);
  });

  test('an active refresh token', async () => {
    const x = await issue(t, a, { scope: 'write' });
    assert.deepEqual(ok(await introspect(t, a, x.refresh)), {
      active: true,
      token_type: 'refresh_token',
      client_id: a.client_id,
      scope: 'write',
      sub: a.client_id,
      aud: ISSUER,
      iss: ISSUER,
      exp: t.clock.now + 1_209_600,
      iat: t.clock.now,
      tenant_id: 'acme',
    });
  });

  test('a rotated refresh token is inactive; its successor active', async () => {
    const x = await issue(t, a);
    const next = ok(await refresh(t, a, x.refresh));
    assert.deepEqual(ok(await introspect(t, a, x.refresh)), { active: false });
    assert.equal(ok(await introspect(t, a, next['refresh_token'] as string))['active'], true);
  });

  test('expired tokens are inactive', async () => {
    const app = await createTestApp({ flags: { refreshTokenTtl: 5000 } });
    try {
      const c = await app.client({ grants });
      const x = await issue(app, c);
      app.clock.advance(3599);
      assert.equal(ok(await introspect(app, c, x.access))['active'], true);
      // Past exp and the verification skew (30 s).
      app.clock.advance(32);
      assert.deepEqual(ok(await introspect(app, c, x.access)), { active: false });
      assert.equal(ok(await introspect(app, c, x.refresh))['active'], true);
      app.clock.advance(5000);
      assert.deepEqual(ok(await introspect(app, c, x.refresh)), { active: false });
    } finally {
      await app.close();
    }
  });

  test('garbage → {active:false}', async () => {
    for (const token of [
      'garbage',
      'a.b.c',
      'eyJhbGciOiJSUzI1NiJ9.e30.',
      compact(
        { alg: 'none', typ: 'at+jwt' },
        { iss: ISSUER, sub: a.client_id, client_id: a.client_id },
      ),
      compact({ alg: 'RS256', typ: 'at+jwt', kid: 'unknown' }, { iss: ISSUER }, 'AAAA'),
      'x'.repeat(10_000),
      '\u2603',
    ]) {
      assert.deepEqual(ok(await introspect(t, a, token)), { active: false }, token.slice(0, 30));
    }
  });

  test('a tampered token or one signed by a foreign key → {active:false}', async () => {
    const x = await issue(t, a);
    const [h, , s] = x.access.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims(x.access), scope: 'admin' })).toString('base64url')}.${s}`;
    assert.deepEqual(ok(await introspect(t, a, forged)), { active: false });
    const { privateKey } = await generateKeyPair('RS256');
    const foreign = await new SignJWT({ client_id: a.client_id, scope: 'read' })
      .setProtectedHeader({
        alg: 'RS256',
        typ: 'at+jwt',
        kid: decodeProtectedHeader(x.access).kid ?? '',
      })
      .setIssuer(ISSUER)
      .setSubject(a.client_id)
      .setAudience(ISSUER)
      .setIssuedAt(t.clock.now)
      .setExpirationTime(t.clock.now + 600)
      .setJti('11111111-1111-4111-8111-111111111111')
      .sign(privateKey);
    assert.deepEqual(ok(await introspect(t, a, foreign)), { active: false });
  });

  test('a missing token → invalid_request; no client authentication → 401', async () => {
    assertError(
      await post(t, '/oauth/introspect', {
        client_id: a.client_id,
        client_secret: a.client_secret,
      }),
      400,
      'invalid_request',
    );
    const x = await issue(t, a);
    assertError(await post(t, '/oauth/introspect', { token: x.access }), 401, 'invalid_client');
    assertError(
      await introspect(t, { ...a, client_secret: 'wrong' }, x.access),
      401,
      'invalid_client',
    );
    const viaBasic = await post(
      t,
      '/oauth/introspect',
      { token: x.access },
      { headers: { authorization: basic(a.client_id, 'wrong') } },
    );
    assertError(viaBasic, 401, 'invalid_client');
    assert.match(String(viaBasic.headers['www-authenticate']), /^Basic /);
  });

  test('a public client (client_id only) may not introspect', async () => {
    const pub = await t.client({
      public: true,
      grants: ['authorization_code'],
      redirectUris: ['https://app.example.com/callback'],
    });
    const x = await issue(t, a);
    assertError(
      await post(t, '/oauth/introspect', { token: x.access, client_id: pub.client_id }),
      401,
      'invalid_client',
    );
  });

  test('Basic authentication and JSON bodies work', async () => {
    const x = await issue(t, a);
    const viaBasic = ok(
      await post(
        t,
        '/oauth/introspect',
        { token: x.access },
        { headers: { authorization: basic(a.client_id, a.client_secret) } },
      ),
    );
    assert.equal(viaBasic['active'], true);
    const viaJson = ok(
      await post(t, '/oauth/introspect', { token: x.access, ...a }, { json: true }),
    );
    assert.equal(viaJson['active'], true);
  });
});
