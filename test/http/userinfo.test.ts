/**
 * `/oauth/userinfo`, the generic RFC 6750 protected resource: challenges, token validation
 * (signature, alg pinning, typ, iss, aud, exp), the optional required scope.
 */
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { rotateKey } from '../../src/admin/keys.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { KEY_RELOAD_COOLDOWN } from '../../src/tokens/keystore.js';
import {
  type Creds,
  ISSUER,
  accessTokenOf,
  assertError,
  claims,
  clientCredentials,
  compact,
  introspect,
  ok,
  userinfo,
} from './helpers.js';

function assertChallenge(
  res: Awaited<ReturnType<typeof userinfo>>,
  status: number,
  code: string,
): string {
  assertError(res, status, code);
  const header = String(res.headers['www-authenticate']);
  assert.match(header, /^Bearer realm="tessera", /);
  assert.ok(header.includes(`error="${code}"`), header);
  return header;
}

describe('userinfo', () => {
  let t: TestApp;
  let c: Creds;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme', 'acme.example.com');
    c = await t.client({ tenants: ['acme'], scopes: ['read'] });
  });
  after(() => t.close());

  /** A token signed with the server's current key, with the given header and claims. */
  async function craft(
    header: { alg?: string; typ?: string; kid?: string },
    payload: Record<string, unknown>,
  ): Promise<string> {
    const key = await t.deps.keystore.signingKey();
    const now = t.clock.now;
    return new SignJWT({
      iss: ISSUER,
      sub: c.client_id,
      aud: ISSUER,
      iat: now,
      exp: now + 600,
      jti: '22222222-2222-4222-8222-222222222222',
      client_id: c.client_id,
      ...payload,
    })
      .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header })
      .sign(key.privateKey);
  }

  test('no Authorization → 401 with a bare Bearer challenge (no error attribute)', async () => {
    const res = await userinfo(t);
    assertError(res, 401, 'invalid_token');
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="tessera"');
  });

  test('a token in the query string is not accepted', async () => {
    const token = accessTokenOf(await clientCredentials(t, c));
    const res = await t.app.inject({ method: 'GET', url: `/oauth/userinfo?access_token=${token}` });
    assertError(res, 401, 'invalid_token');
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="tessera"');
  });

  test('a valid token → 200 with its claims', async () => {
    const token = accessTokenOf(await clientCredentials(t, c));
    const body = ok(await userinfo(t, token));
    assert.deepEqual(body, claims(token));
    assert.equal(body['client_id'], c.client_id);
    assert.equal(body['tenant_id'], 'acme');
    assert.equal(body['scope'], 'read');
  });

  test('the scheme name is case-insensitive; POST works too', async () => {
    const token = accessTokenOf(await clientCredentials(t, c));
    ok(
      await t.app.inject({
        method: 'GET',
        url: '/oauth/userinfo',
        headers: { authorization: `bearer ${token}` },
      }),
    );
    ok(
      await t.app.inject({
        method: 'POST',
        url: '/oauth/userinfo',
        headers: { authorization: `Bearer ${token}` },
      }),
    );
  });

  test('a bad token → 401 invalid_token with error="invalid_token"', async () => {
    for (const token of ['garbage', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30.AAAA', 'x'.repeat(5000)]) {
      assertChallenge(await userinfo(t, token), 401, 'invalid_token');
    }
  });

  test('odd JOSE headers (kid not a string, prototype names, crit, jku) → 401, never 5xx', async () => {
    const p = claims(accessTokenOf(await clientCredentials(t, c)));
    for (const header of [
      { alg: 'RS256', typ: 'at+jwt', kid: 5 },
      { alg: 'RS256', typ: 'at+jwt', kid: { a: 1 } },
      { alg: 'RS256', typ: 'at+jwt', kid: '__proto__' },
      { alg: 'RS256', typ: 'at+jwt', kid: 'constructor' },
      { alg: 'RS256', typ: 7 },
      { alg: ['RS256'], typ: 'at+jwt' },
      { alg: 'RS256', typ: 'at+jwt', crit: ['exp'] },
      { alg: 'RS256', typ: 'at+jwt', jku: 'https://evil.example.com/jwks' },
    ]) {
      const res = await userinfo(t, compact(header, p, 'AAAA'));
      assertChallenge(res, 401, 'invalid_token');
      assert.deepEqual(ok(await introspect(t, c, compact(header, p, 'AAAA'))), { active: false });
    }
  });

  test('a malformed Authorization header → 400 invalid_request with a Bearer challenge', async () => {
    for (const authorization of [
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer a b',
      'Bearer \u2603',
      'Token abc',
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/oauth/userinfo',
        headers: { authorization },
      });
      assertChallenge(res, 400, 'invalid_request');
    }
  });

  test('an expired token → 401 invalid_token', async () => {
    const app = await createTestApp();
    try {
      const ac = await app.client({});
      const token = accessTokenOf(await clientCredentials(app, ac));
      app.clock.advance(3600);
      // Within the 30 s verification skew.
      ok(await userinfo(app, token));
      app.clock.advance(31);
      assertChallenge(await userinfo(app, token), 401, 'invalid_token');
    } finally {
      await app.close();
    }
  });

  test('a token addressed to another audience (client override) → 401', async () => {
    const api = await t.client({ audience: 'https://api.example.com' });
    const token = accessTokenOf(await clientCredentials(t, api));
    assert.equal(claims(token)['aud'], 'https://api.example.com');
    assertChallenge(await userinfo(t, token), 401, 'invalid_token');
  });

  test('a hand-made token with the server key and the right claims is accepted (control)', async () => {
    ok(await userinfo(t, await craft({}, {})));
  });

  test('alg none → 401', async () => {
    const p = claims(accessTokenOf(await clientCredentials(t, c)));
    const kid = (await t.deps.keystore.signingKey()).kid;
    assertChallenge(
      await userinfo(t, compact({ alg: 'none', typ: 'at+jwt', kid }, p)),
      401,
      'invalid_token',
    );
    assertChallenge(
      await userinfo(t, compact({ alg: 'none', typ: 'at+jwt', kid }, p, 'AAAA')),
      401,
      'invalid_token',
    );
    assertChallenge(await userinfo(t, compact({ alg: 'none' }, p)), 401, 'invalid_token');
  });

  test('a tampered payload → 401', async () => {
    const token = accessTokenOf(await clientCredentials(t, c));
    const [h, , s] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...claims(token), scope: 'admin' })).toString(
      'base64url',
    );
    assertChallenge(await userinfo(t, `${h}.${payload}.${s}`), 401, 'invalid_token');
    // A flipped signature byte.
    const sig = Buffer.from(s ?? '', 'base64url');
    sig[0] = (sig[0] ?? 0) ^ 1;
    assertChallenge(
      await userinfo(t, `${h}.${token.split('.')[1]}.${sig.toString('base64url')}`),
      401,
      'invalid_token',
    );
  });

  test('alg pinned to the key: the RS256 key used for PS256 → 401', async () => {
    assertChallenge(await userinfo(t, await craft({ alg: 'PS256' }, {})), 401, 'invalid_token');
  });

  test('HS256 with the public key as the HMAC secret → 401', async () => {
    const key = await t.deps.keystore.signingKey();
    const pem = key.publicKey.export({ format: 'pem', type: 'spki' });
    const token = await new SignJWT({ client_id: c.client_id, jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })
      .setIssuer(ISSUER)
      .setSubject(c.client_id)
      .setAudience(ISSUER)
      .setIssuedAt(t.clock.now)
      .setExpirationTime(t.clock.now + 600)
      .sign(createSecretKey(Buffer.from(pem)));
    assertChallenge(await userinfo(t, token), 401, 'invalid_token');
  });

  test('wrong typ, issuer, unknown kid or missing claims → 401', async () => {
    assertChallenge(await userinfo(t, await craft({ typ: 'JWT' }, {})), 401, 'invalid_token');
    assertChallenge(await userinfo(t, await craft({ kid: 'not-a-key' }, {})), 401, 'invalid_token');
    assertChallenge(
      await userinfo(t, await craft({}, { iss: 'https://evil.example.com' })),
      401,
      'invalid_token',
    );
    assertChallenge(
      await userinfo(t, await craft({}, { aud: 'https://evil.example.com' })),
      401,
      'invalid_token',
    );
    assertChallenge(
      await userinfo(t, await craft({}, { exp: t.clock.now - 100 })),
      401,
      'invalid_token',
    );
    assertChallenge(
      await userinfo(t, await craft({}, { nbf: t.clock.now + 600 })),
      401,
      'invalid_token',
    );
    assertChallenge(
      await userinfo(t, await craft({}, { client_id: undefined })),
      401,
      'invalid_token',
    );
    assertChallenge(await userinfo(t, await craft({}, { jti: undefined })), 401, 'invalid_token');
  });

  test('responses are never cached', async () => {
    const token = accessTokenOf(await clientCredentials(t, c));
    assert.equal((await userinfo(t, token)).headers['cache-control'], 'no-store');
    assert.equal((await userinfo(t)).headers['cache-control'], 'no-store');
  });
});

describe('userinfo: configured audience and required scope', () => {
  test('a token for the configured audience is accepted (as is one for the issuer)', async () => {
    const t = await createTestApp({ flags: { audience: 'https://rs.example.com' } });
    try {
      const c = await t.client({ scopes: ['read'] });
      const token = accessTokenOf(await clientCredentials(t, c));
      assert.equal(claims(token)['aud'], 'https://rs.example.com');
      ok(await userinfo(t, token));
      const issuerAud = await t.client({ audience: ISSUER });
      ok(await userinfo(t, accessTokenOf(await clientCredentials(t, issuerAud))));
      const other = await t.client({ audience: 'https://elsewhere.example.com' });
      const res = await userinfo(t, accessTokenOf(await clientCredentials(t, other)));
      assert.equal(res.statusCode, 401);
    } finally {
      await t.close();
    }
  });

  test('userinfoScope: a token without it → 403 insufficient_scope with a challenge naming it', async () => {
    const t = await createTestApp({ flags: { userinfoScope: 'profile' } });
    try {
      const c = await t.client({ scopes: ['read', 'profile'] });
      const without = accessTokenOf(await clientCredentials(t, c, { scope: 'read' }));
      const res = await userinfo(t, without);
      const header = assertChallenge(res, 403, 'insufficient_scope');
      assert.ok(header.includes('scope="profile"'), header);
      const bare = await t.client({});
      assertChallenge(
        await userinfo(t, accessTokenOf(await clientCredentials(t, bare))),
        403,
        'insufficient_scope',
      );
      const withScope = accessTokenOf(await clientCredentials(t, c, { scope: 'profile' }));
      assert.equal(ok(await userinfo(t, withScope))['scope'], 'profile');
      ok(await userinfo(t, accessTokenOf(await clientCredentials(t, c))));
      // Validity is checked before scope: a bad token is still 401.
      assertChallenge(await userinfo(t, 'garbage'), 401, 'invalid_token');
    } finally {
      await t.close();
    }
  });
});

describe('userinfo: an unknown kid reloads the keys at most once per cooldown', () => {
  let t: TestApp;
  let other: TestApp;
  let c: Creds;
  let reads = 0;

  before(async () => {
    // A long cache TTL, so that only the unknown-kid reload can bring a new key in.
    t = await createTestApp({ flags: { keyCacheTtl: 300 } });
    // A second node on the same database and clock.
    other = await createTestApp({ database: t.deps.config.database, clock: t.clock });
    c = await t.client({ scopes: ['read'] });
    const store = t.deps.store;
    const list = store.listSigningKeys.bind(store);
    store.listSigningKeys = () => {
      reads++;
      return list();
    };
  });
  after(async () => {
    await other.close();
    await t.close();
  });

  test('100 tokens with random unknown kids → 401 each, one store read', async () => {
    const real = claims(accessTokenOf(await clientCredentials(t, c)));
    const forged = () =>
      compact({ alg: 'RS256', typ: 'at+jwt', kid: randomBytes(32).toString('base64url') }, real);
    t.clock.advance(KEY_RELOAD_COOLDOWN);
    const start = reads;
    const parallel = await Promise.all(Array.from({ length: 50 }, () => userinfo(t, forged())));
    for (const res of parallel) assertChallenge(res, 401, 'invalid_token');
    for (let i = 0; i < 50; i++) assertChallenge(await userinfo(t, forged()), 401, 'invalid_token');
    assert.equal(reads - start, 1);
  });

  test('a key rotated in on another node verifies once the cooldown is over', async () => {
    const old = decodeProtectedHeader(accessTokenOf(await clientCredentials(t, c))).kid;
    await rotateKey(other.deps, { now: true });
    const token = accessTokenOf(await clientCredentials(other, c));
    assert.notEqual(decodeProtectedHeader(token).kid, old);
    const start = reads;
    // The keys were reloaded less than a cooldown ago: refused at once, no store read.
    assertChallenge(await userinfo(t, token), 401, 'invalid_token');
    assert.equal(reads, start);
    t.clock.advance(KEY_RELOAD_COOLDOWN - 1);
    assertChallenge(await userinfo(t, token), 401, 'invalid_token');
    assert.equal(reads, start);
    t.clock.advance(1);
    assert.deepEqual(ok(await userinfo(t, token)), claims(token));
    assert.equal(reads, start + 1);
    ok(await userinfo(t, token));
    assert.equal(reads, start + 1);
  });
});
