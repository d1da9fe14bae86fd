/**
 * What the database holds: keyed hashes of client secrets, refresh tokens, codes and session
 * ids, argon2id hashes of passwords, encrypted private keys — never the values themselves.
 * Runs on both engines (createTestApp follows TESSERA_TEST_ENGINE).
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { CookieJar, SESSION_COOKIE, authorize, codeOf } from '../helpers/spaces.js';

const TABLES = [
  'tenants',
  'users',
  'memberships',
  'clients',
  'client_tenants',
  'signing_keys',
  'refresh_tokens',
  'authorization_codes',
  'revoked_tokens',
  'revoked_grants',
  'sessions',
  'launch_tokens',
  'throttle_counters',
  'audit_events',
];
const SECRET = 'at-rest-secret-0123456789';
const PASSWORD = 'at rest password 1';
const REDIRECT = 'https://app.example.com/cb';

describe('data at rest', () => {
  let t: TestApp;
  const plaintexts: string[] = [SECRET, PASSWORD];

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await createUser(t.deps, { email: 'ann@acme.example', tenants: ['acme'], password: PASSWORD });
    await t.client({
      clientId: 'app',
      secret: SECRET,
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
    });
    const jar = new CookieJar();
    const code = codeOf(
      await authorize(
        t,
        jar,
        { client_id: 'app', redirect_uri: REDIRECT, response_type: 'code', state: 'x' },
        { email: 'ann@acme.example', password: PASSWORD },
      ),
    );
    const session = jar
      .header('/oauth/authorize')
      ?.match(new RegExp(`${SESSION_COOKIE}=([^;]+)`))?.[1];
    assert.ok(session);
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        client_id: 'app',
        client_secret: SECRET,
      },
    });
    assert.equal(res.statusCode, 200);
    plaintexts.push(
      code,
      session,
      res.json().refresh_token as string,
      res.json().access_token as string,
    );
    await t.deps.audit.flush();
  });
  after(() => t.close());

  test('no table holds a secret, password, code, session id or token', async () => {
    for (const table of TABLES) {
      const dump = JSON.stringify(await t.rows(`select * from ${table}`));
      for (const value of plaintexts)
        assert.ok(!dump.includes(value), `${table} holds a plaintext credential`);
    }
  });

  test('secrets, tokens and codes are stored as versioned keyed hashes; passwords as argon2id', async () => {
    const [client] = await t.rows<{ secret_hash: string }>(
      "select secret_hash from clients where id = 'app'",
    );
    assert.match(client?.secret_hash ?? '', /^v1\$[A-Za-z0-9_-]{43}$/);
    for (const row of await t.rows<{ token_hash: string }>(
      'select token_hash from refresh_tokens',
    )) {
      assert.match(row.token_hash, /^v1\$[A-Za-z0-9_-]{43}$/);
    }
    for (const row of await t.rows<{ code_hash: string }>(
      'select code_hash from authorization_codes',
    )) {
      assert.match(row.code_hash, /^v1\$[A-Za-z0-9_-]{43}$/);
    }
    const [user] = await t.rows<{ password_hash: string }>('select password_hash from users');
    assert.match(user?.password_hash ?? '', /^\$argon2id\$v=19\$/);
  });

  test('private keys are sealed (AES-256-GCM), not PEM or DER', async () => {
    const keys = await t.rows<{ private_key: string }>('select private_key from signing_keys');
    assert.ok(keys.length > 0);
    for (const { private_key } of keys) {
      assert.match(private_key, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
      assert.ok(!private_key.includes('PRIVATE KEY'));
      assert.throws(() =>
        createPrivateKey({
          key: Buffer.from(private_key.split('.')[3] ?? '', 'base64url'),
          format: 'der',
          type: 'pkcs8',
        }),
      );
    }
  });
});
