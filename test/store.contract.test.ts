/**
 * The storage contract (src/store/store.ts), run unchanged against every engine. Each test
 * gets a fresh, migrated database; `t().db` is an independent connection used to check what
 * actually landed in the tables.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { up as upRefreshGraceSeconds } from '../src/store/sql/migrations/0006_refresh_grace_seconds.js';
import * as openidConnect from '../src/store/sql/migrations/0008_openid_connect.js';
import * as logout from '../src/store/sql/migrations/0009_logout.js';
import type { Database } from '../src/store/sql/schema.js';
import {
  type AccountLink,
  type AuthorizationCode,
  type Client,
  ConflictError,
  type NewClient,
  NotFoundError,
  type RefreshToken,
  type SigningKey,
  type Tenant,
  type User,
} from '../src/store/store.js';
import { forEachEngine } from './helpers/engines.js';

const T0 = 1_700_000_000;
const HOUR = 3600;
const DAY = 24 * HOUR;

function tenant(id: string, overrides: Partial<Tenant> = {}): Tenant {
  return {
    id,
    name: `Tenant ${id}`,
    domain: null,
    appUrl: null,
    supportEmail: null,
    createdAt: T0,
    ...overrides,
  };
}

function user(id: string, email: string, overrides: Partial<Omit<User, 'tenants'>> = {}) {
  return {
    id,
    email,
    name: null,
    passwordHash: `argon2id$${id}`,
    disabledAt: null,
    createdAt: T0,
    updatedAt: T0,
    emailVerified: false,
    ...overrides,
  } satisfies Omit<User, 'tenants'>;
}

function newClient(id: string, overrides: Partial<NewClient> = {}): NewClient {
  return {
    id,
    name: `Client ${id}`,
    secretHash: `v1$${id}-secret`,
    dialect: 'standard',
    grants: ['client_credentials'],
    redirectUris: [],
    scopes: [],
    tenantIds: [],
    audience: null,
    accessTokenTtl: null,
    refreshTokenTtl: null,
    refreshGrace: 0,
    requirePkce: false,
    idTokenAlg: 'RS256',
    postLogoutRedirectUris: [],
    backchannelLogoutUri: null,
    consent: false,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function signingKey(
  kid: string,
  activatesAt: number,
  overrides: Partial<SigningKey> = {},
): SigningKey {
  return {
    kid,
    alg: 'RS256',
    publicJwk: JSON.stringify({ kty: 'RSA', kid, n: 'AQAB', e: 'AQAB' }),
    privateKey: `enc:${kid}`,
    createdAt: T0,
    activatesAt,
    publishUntil: null,
    purpose: 'access',
    ...overrides,
  };
}

function refreshToken(id: string, overrides: Partial<RefreshToken> = {}): RefreshToken {
  return {
    id,
    tokenHash: `hash-${id}`,
    familyId: 'fam-1',
    parentId: null,
    clientId: 'client-1',
    userId: 'user-1',
    tenantId: 'tenant-1',
    scope: 'read write',
    audience: 'https://api.example',
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    idleExpiresAt: T0 + 7 * DAY,
    rotatedAt: null,
    revokedAt: null,
    authTime: null,
    sid: null,
    ...overrides,
  };
}

function authCode(codeHash: string, overrides: Partial<AuthorizationCode> = {}): AuthorizationCode {
  return {
    codeHash,
    clientId: 'client-1',
    userId: 'user-1',
    tenantId: 'tenant-1',
    redirectUri: 'https://app.example/cb',
    redirectUriSent: true,
    state: 'b1946ac92492d2347c6235b4d2611184',
    scope: 'openid',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    codeChallengeMethod: 'S256',
    grantId: 'grant-1',
    createdAt: T0,
    expiresAt: T0 + 300,
    consumedAt: null,
    nonce: null,
    authTime: null,
    sid: null,
    ...overrides,
  };
}

async function count(db: Kysely<Database>, table: keyof Database): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

forEachEngine('store contract', (t, engine) => {
  describe('lifecycle', () => {
    it('reports its engine and answers ping', async () => {
      assert.equal(t().store.engine, engine.name);
      await t().store.ping();
    });
  });

  describe('migrations', () => {
    it('applies every migration once, in order; later calls apply nothing', async () => {
      const fresh = await engine.create({ migrate: false });
      try {
        const applied = await fresh.store.migrate();
        assert.equal(applied[0], '0001_initial');
        assert.deepEqual(applied, [...applied].sort());
        // What was reported is exactly what the migrator recorded.
        const recorded = await sql<{
          name: string;
        }>`select name from kysely_migration order by name`
          .execute(fresh.db)
          .then((r) => r.rows.map((row) => row.name));
        assert.deepEqual(recorded, applied);
        assert.deepEqual(await fresh.store.migrate(), []);
        assert.deepEqual(await fresh.store.migrate(), []);
        // The schema is there and usable through an independent connection.
        assert.equal(await count(fresh.db, 'tenants'), 0);
        await fresh.store.createTenant(tenant('acme'));
        assert.equal(await count(fresh.db, 'tenants'), 1);
      } finally {
        await fresh.close();
      }
    });

    it('0008 gives rows from before OpenID Connect its defaults, and goes down cleanly', async () => {
      const db = t().db as unknown as Kysely<unknown>;
      await openidConnect.down(db);
      // Rows as a node from before 0008 writes them.
      await sql`INSERT INTO users (id, email, name, password_hash, disabled_at, created_at)
        VALUES ('u1', 'old@example.com', NULL, 'x', NULL, ${T0 + 5})`.execute(db);
      await sql`INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activates_at, publish_until)
        VALUES ('k1', 'RS256', '{}', 'enc', ${T0}, ${T0}, NULL)`.execute(db);
      await sql`INSERT INTO clients (id, name, secret_hash, previous_secret_hash, previous_secret_expires_at,
          dialect, grants, redirect_uris, scopes, audience, access_token_ttl, refresh_token_ttl,
          refresh_grace, require_pkce, created_at, updated_at)
        VALUES ('c1', 'Old', NULL, NULL, NULL, 'standard', '["authorization_code"]', '[]', '[]',
          NULL, NULL, NULL, 0, 1, ${T0}, ${T0})`.execute(db);
      await openidConnect.up(db);
      const u = await t().store.getUser('u1');
      assert.equal(u?.updatedAt, T0 + 5);
      assert.equal(u?.emailVerified, false);
      assert.equal((await t().store.getClient('c1'))?.idTokenAlg, 'RS256');
      assert.equal((await t().store.listSigningKeys())[0]?.purpose, 'access');
    });

    it('leaves a migrated database unchanged', async () => {
      assert.deepEqual(await t().store.migrate(), []);
    });
  });

  describe('tenants', () => {
    it('creates and reads a tenant back exactly', async () => {
      const acme = tenant('acme', {
        name: 'Acme Corp',
        domain: 'acme.example',
        appUrl: 'https://app.acme.example/start',
        supportEmail: 'help@acme.example',
        createdAt: T0 + 5,
      });
      await t().store.createTenant(acme);
      assert.deepEqual(await t().store.getTenant('acme'), acme);
      assert.equal(await t().store.getTenant('nope'), undefined);
      assert.deepEqual(await t().db.selectFrom('tenants').selectAll().execute(), [
        {
          id: 'acme',
          name: 'Acme Corp',
          domain: 'acme.example',
          app_url: 'https://app.acme.example/start',
          support_email: 'help@acme.example',
          created_at: T0 + 5,
        },
      ]);
    });

    it('finds a tenant by id, then by domain, case-insensitively', async () => {
      const acme = tenant('acme', { domain: 'acme.example' });
      // A tenant whose id looks like another tenant's domain: the id wins.
      const tricky = tenant('globex.example', { domain: 'tricky.example' });
      const globex = tenant('globex', { domain: 'globex.example' });
      await t().store.createTenant(acme);
      await t().store.createTenant(tricky);
      await t().store.createTenant(globex);
      assert.deepEqual(await t().store.findTenant('acme'), acme);
      assert.deepEqual(await t().store.findTenant('acme.example'), acme);
      assert.deepEqual(await t().store.findTenant('ACME.Example'), acme);
      assert.deepEqual(await t().store.findTenant('tricky.example'), tricky);
      assert.deepEqual(await t().store.findTenant('globex.example'), tricky);
      assert.equal(await t().store.findTenant('other.example'), undefined);
      // Ids are exact: a different case is not the same id.
      assert.equal(await t().store.findTenant('ACME'), undefined);
    });

    it('lists tenants ordered by id', async () => {
      for (const id of ['charlie', 'alpha', 'bravo']) await t().store.createTenant(tenant(id));
      assert.deepEqual(
        (await t().store.listTenants()).map((x) => x.id),
        ['alpha', 'bravo', 'charlie'],
      );
    });

    it('lists nothing when empty', async () => {
      assert.deepEqual(await t().store.listTenants(), []);
    });

    it('updates only the given fields', async () => {
      await t().store.createTenant(
        tenant('acme', { domain: 'acme.example', supportEmail: 'a@acme.example' }),
      );
      const updated = await t().store.updateTenant('acme', {
        name: 'Acme 2',
        appUrl: 'https://acme.example/app',
      });
      const expected = tenant('acme', {
        name: 'Acme 2',
        domain: 'acme.example',
        appUrl: 'https://acme.example/app',
        supportEmail: 'a@acme.example',
      });
      assert.deepEqual(updated, expected);
      assert.deepEqual(await t().store.getTenant('acme'), expected);

      const cleared = await t().store.updateTenant('acme', { domain: null, supportEmail: null });
      assert.deepEqual(cleared, { ...expected, domain: null, supportEmail: null });
      assert.equal(await t().store.findTenant('acme.example'), undefined);

      // An empty patch changes nothing and returns the tenant.
      assert.deepEqual(await t().store.updateTenant('acme', {}), cleared);
    });

    it('refuses to update an unknown tenant', async () => {
      await assert.rejects(t().store.updateTenant('ghost', { name: 'x' }), NotFoundError);
      await assert.rejects(t().store.updateTenant('ghost', {}), NotFoundError);
      assert.equal(await count(t().db, 'tenants'), 0);
    });

    it('refuses a duplicate id and keeps the original', async () => {
      await t().store.createTenant(tenant('acme', { name: 'First' }));
      await assert.rejects(
        t().store.createTenant(tenant('acme', { name: 'Second' })),
        ConflictError,
      );
      assert.equal(await count(t().db, 'tenants'), 1);
      assert.equal((await t().store.getTenant('acme'))?.name, 'First');
    });

    it('refuses a duplicate domain, on create and on update', async () => {
      await t().store.createTenant(tenant('acme', { domain: 'shared.example' }));
      await assert.rejects(
        t().store.createTenant(tenant('globex', { domain: 'shared.example' })),
        ConflictError,
      );
      assert.equal(await t().store.getTenant('globex'), undefined);

      await t().store.createTenant(tenant('globex', { domain: 'globex.example' }));
      await assert.rejects(
        t().store.updateTenant('globex', { domain: 'shared.example' }),
        ConflictError,
      );
      assert.equal((await t().store.getTenant('globex'))?.domain, 'globex.example');
    });

    it('allows any number of tenants without a domain', async () => {
      await t().store.createTenant(tenant('a'));
      await t().store.createTenant(tenant('b'));
      assert.deepEqual(
        (await t().store.listTenants()).map((x) => [x.id, x.domain]),
        [
          ['a', null],
          ['b', null],
        ],
      );
    });

    it('upserts telemetry by name, per tenant, listed by name', async () => {
      await t().store.createTenant(tenant('acme'));
      await t().store.createTenant(tenant('globex'));
      await t().store.setTelemetry('acme', {
        type: 'gauge',
        name: 'sensors',
        value: '12',
        units: 'count',
      });
      await t().store.setTelemetry('acme', {
        type: 'counter',
        name: 'api-calls',
        value: '1000',
        units: 'calls',
      });
      await t().store.setTelemetry('globex', {
        type: 'gauge',
        name: 'sensors',
        value: '1',
        units: 'count',
      });
      // Same name again: replaces every field of that entry.
      await t().store.setTelemetry('acme', {
        type: 'status',
        name: 'sensors',
        value: '13',
        units: 'devices',
      });
      assert.deepEqual(await t().store.listTelemetry('acme'), [
        { type: 'counter', name: 'api-calls', value: '1000', units: 'calls' },
        { type: 'status', name: 'sensors', value: '13', units: 'devices' },
      ]);
      assert.deepEqual(await t().store.listTelemetry('globex'), [
        { type: 'gauge', name: 'sensors', value: '1', units: 'count' },
      ]);
      assert.deepEqual(await t().store.listTelemetry('nobody'), []);
      assert.equal(await count(t().db, 'tenant_telemetry'), 3);
    });

    it('refuses telemetry for an unknown tenant', async () => {
      await assert.rejects(
        t().store.setTelemetry('ghost', { type: 'g', name: 'n', value: '1', units: 'u' }),
        NotFoundError,
      );
      assert.equal(await count(t().db, 'tenant_telemetry'), 0);
    });
  });

  describe('users', () => {
    it('creates a user with memberships and reads it by email and id', async () => {
      await t().store.createTenant(tenant('t2'));
      await t().store.createTenant(tenant('t1'));
      const alice = user('u-alice', 'alice@example.com', {
        name: 'Alice',
        createdAt: T0 + 1,
        updatedAt: T0 + 7,
        emailVerified: true,
      });
      await t().store.createUser(alice, ['t2', 't1']);
      const expected: User = { ...alice, tenants: ['t1', 't2'] };
      assert.deepEqual(await t().store.getUserByEmail('alice@example.com'), expected);
      assert.deepEqual(await t().store.getUserByEmail('Alice@Example.COM'), expected);
      assert.deepEqual(await t().store.getUser('u-alice'), expected);
      assert.equal(await t().store.getUserByEmail('bob@example.com'), undefined);
      assert.equal(await t().store.getUser('u-bob'), undefined);
      assert.deepEqual(
        await t().db.selectFrom('memberships').selectAll().orderBy('tenant_id').execute(),
        [
          { user_id: 'u-alice', tenant_id: 't1' },
          { user_id: 'u-alice', tenant_id: 't2' },
        ],
      );
    });

    it('creates a user without tenants', async () => {
      await t().store.createUser(user('u1', 'solo@example.com'), []);
      assert.deepEqual(await t().store.getUser('u1'), {
        ...user('u1', 'solo@example.com'),
        tenants: [],
      });
    });

    it('records a tenant named twice once', async () => {
      await t().store.createTenant(tenant('t1'));
      await t().store.createUser(user('u1', 'a@example.com'), ['t1', 't1']);
      assert.deepEqual((await t().store.getUser('u1'))?.tenants, ['t1']);
      assert.equal(await count(t().db, 'memberships'), 1);
    });

    it('lists users ordered by email, each with its own tenants', async () => {
      await t().store.createTenant(tenant('t1'));
      await t().store.createTenant(tenant('t2'));
      await t().store.createUser(user('u-c', 'carol@example.com'), ['t2']);
      await t().store.createUser(user('u-a', 'alice@example.com'), ['t1', 't2']);
      await t().store.createUser(user('u-b', 'bob@example.com'), []);
      assert.deepEqual(
        (await t().store.listUsers()).map((u) => [u.email, u.tenants]),
        [
          ['alice@example.com', ['t1', 't2']],
          ['bob@example.com', []],
          ['carol@example.com', ['t2']],
        ],
      );
    });

    it('creates nothing when a tenant is unknown (one transaction)', async () => {
      await t().store.createTenant(tenant('t1'));
      await assert.rejects(
        t().store.createUser(user('u1', 'a@example.com'), ['t1', 'ghost']),
        NotFoundError,
      );
      assert.equal(await t().store.getUserByEmail('a@example.com'), undefined);
      assert.equal(await count(t().db, 'users'), 0);
      assert.equal(await count(t().db, 'memberships'), 0);
    });

    it('refuses a duplicate email or id', async () => {
      await t().store.createUser(user('u1', 'a@example.com'), []);
      await assert.rejects(t().store.createUser(user('u2', 'a@example.com'), []), ConflictError);
      await assert.rejects(t().store.createUser(user('u1', 'b@example.com'), []), ConflictError);
      assert.deepEqual(
        (await t().store.listUsers()).map((u) => [u.id, u.email]),
        [['u1', 'a@example.com']],
      );
    });

    it('sets a password and disables a user by email, case-insensitively', async () => {
      await t().store.createTenant(tenant('t1'));
      await t().store.createUser(user('u1', 'a@example.com'), ['t1']);
      const changed = await t().store.setUserPassword('A@Example.com', 'argon2id$new');
      assert.deepEqual(changed, {
        ...user('u1', 'a@example.com'),
        passwordHash: 'argon2id$new',
        tenants: ['t1'],
      });
      const disabled = await t().store.disableUser('a@example.com', T0 + 99);
      assert.deepEqual(disabled, { ...changed, disabledAt: T0 + 99 });
      assert.deepEqual(await t().db.selectFrom('users').selectAll().execute(), [
        {
          id: 'u1',
          email: 'a@example.com',
          name: null,
          password_hash: 'argon2id$new',
          disabled_at: T0 + 99,
          created_at: T0,
          updated_at: T0,
          email_verified: 0,
        },
      ]);
    });

    it('refuses to change an unknown user', async () => {
      await t().store.createUser(user('u1', 'a@example.com'), []);
      await assert.rejects(t().store.setUserPassword('b@example.com', 'x'), NotFoundError);
      await assert.rejects(t().store.disableUser('b@example.com', T0), NotFoundError);
      const a = await t().store.getUser('u1');
      assert.equal(a?.passwordHash, 'argon2id$u1');
      assert.equal(a?.disabledAt, null);
    });
  });

  describe('clients', () => {
    async function seedTenants(): Promise<void> {
      await t().store.createTenant(tenant('t1', { domain: 'one.example' }));
      await t().store.createTenant(tenant('t2'));
      await t().store.createTenant(tenant('t3', { domain: 'three.example' }));
    }

    it('creates a client with tenant bindings and reads it back exactly', async () => {
      await seedTenants();
      const input = newClient('spaces', {
        name: 'Cisco Spaces',
        dialect: 'cisco-spaces',
        grants: ['authorization_code', 'refresh_token'],
        redirectUris: [
          'https://partners.dnaspaces.io/partner/OAuthValidation',
          'https://dnaspaces.io/partner/OAuthValidation?x=1&y="2"',
        ],
        scopes: ['read', 'wrïte', 'a,b'],
        tenantIds: ['t3', 't1', 't3'],
        audience: 'https://api.example',
        accessTokenTtl: 900,
        refreshTokenTtl: 86400,
        refreshGrace: 30,
        requirePkce: true,
        idTokenAlg: 'ES256',
        postLogoutRedirectUris: ['https://app.example/bye', 'http://127.0.0.1:8080/out?a=1'],
        backchannelLogoutUri: 'https://app.example/backchannel',
        consent: true,
        createdAt: T0 + 1,
        updatedAt: T0 + 2,
      });
      await t().store.createClient(input);
      const expected: Client = {
        id: 'spaces',
        name: 'Cisco Spaces',
        secretHash: 'v1$spaces-secret',
        previousSecretHash: null,
        previousSecretExpiresAt: null,
        dialect: 'cisco-spaces',
        grants: ['authorization_code', 'refresh_token'],
        redirectUris: [
          'https://partners.dnaspaces.io/partner/OAuthValidation',
          'https://dnaspaces.io/partner/OAuthValidation?x=1&y="2"',
        ],
        scopes: ['read', 'wrïte', 'a,b'],
        tenants: [
          { id: 't1', domain: 'one.example' },
          { id: 't3', domain: 'three.example' },
        ],
        audience: 'https://api.example',
        accessTokenTtl: 900,
        refreshTokenTtl: 86400,
        refreshGrace: 30,
        requirePkce: true,
        idTokenAlg: 'ES256',
        postLogoutRedirectUris: ['https://app.example/bye', 'http://127.0.0.1:8080/out?a=1'],
        backchannelLogoutUri: 'https://app.example/backchannel',
        consent: true,
        createdAt: T0 + 1,
        updatedAt: T0 + 2,
      };
      assert.deepEqual(await t().store.getClient('spaces'), expected);
      assert.equal(await t().store.getClient('nope'), undefined);
      assert.equal(await count(t().db, 'client_tenants'), 2);
    });

    it('migration 0006 turns the old refresh-grace flag (1: on) into 30 s and keeps 0 off', async () => {
      await t().store.createClient(newClient('flagged', { refreshGrace: 1 }));
      await t().store.createClient(newClient('off'));
      await upRefreshGraceSeconds(t().db as unknown as Kysely<unknown>);
      assert.equal((await t().store.getClient('flagged'))?.refreshGrace, 30);
      assert.equal((await t().store.getClient('off'))?.refreshGrace, 0);
    });

    it('creates a public client without tenants', async () => {
      await t().store.createClient(newClient('pub', { secretHash: null, requirePkce: true }));
      const got = await t().store.getClient('pub');
      assert.equal(got?.secretHash, null);
      assert.deepEqual(got?.tenants, []);
      assert.deepEqual(got?.grants, ['client_credentials']);
      assert.deepEqual(got?.redirectUris, []);
      assert.equal(got?.requirePkce, true);
      assert.equal(got?.refreshGrace, 0);
      assert.deepEqual(got?.postLogoutRedirectUris, []);
      assert.equal(got?.backchannelLogoutUri, null);
    });

    it('migration 0009 gives existing clients no logout URIs, and goes down cleanly', async () => {
      const db = t().db as unknown as Kysely<unknown>;
      await logout.down(db);
      await sql`INSERT INTO clients (id, name, secret_hash, previous_secret_hash, previous_secret_expires_at,
          dialect, grants, redirect_uris, scopes, audience, access_token_ttl, refresh_token_ttl,
          refresh_grace, require_pkce, created_at, updated_at)
        VALUES ('old', 'Old', NULL, NULL, NULL, 'standard', '["authorization_code"]', '[]', '[]',
          NULL, NULL, NULL, 0, 1, ${T0}, ${T0})`.execute(db);
      await logout.up(db);
      const got = await t().store.getClient('old');
      assert.deepEqual(got?.postLogoutRedirectUris, []);
      assert.equal(got?.backchannelLogoutUri, null);
      await t().store.updateClient('old', { backchannelLogoutUri: null, updatedAt: T0 + 1 });
      assert.equal((await t().store.getClient('old'))?.backchannelLogoutUri, null);
    });

    it('lists clients ordered by id, each with its own bindings', async () => {
      await seedTenants();
      await t().store.createClient(newClient('zeta', { tenantIds: ['t2'] }));
      await t().store.createClient(newClient('alpha', { tenantIds: ['t1', 't3'] }));
      await t().store.createClient(newClient('mid'));
      assert.deepEqual(
        (await t().store.listClients()).map((c) => [c.id, c.tenants.map((x) => x.id)]),
        [
          ['alpha', ['t1', 't3']],
          ['mid', []],
          ['zeta', ['t2']],
        ],
      );
    });

    it('creates nothing when a bound tenant is unknown (one transaction)', async () => {
      await seedTenants();
      await assert.rejects(
        t().store.createClient(newClient('c1', { tenantIds: ['t1', 'ghost'] })),
        NotFoundError,
      );
      assert.equal(await t().store.getClient('c1'), undefined);
      assert.equal(await count(t().db, 'clients'), 0);
      assert.equal(await count(t().db, 'client_tenants'), 0);
    });

    it('refuses a duplicate client id and keeps the original', async () => {
      await t().store.createClient(newClient('c1', { name: 'First' }));
      await assert.rejects(
        t().store.createClient(newClient('c1', { name: 'Second' })),
        ConflictError,
      );
      assert.equal((await t().store.getClient('c1'))?.name, 'First');
      assert.equal(await count(t().db, 'clients'), 1);
    });

    it('patches only the given fields and keeps bindings when tenantIds is absent', async () => {
      await seedTenants();
      await t().store.createClient(
        newClient('c1', {
          tenantIds: ['t1'],
          audience: 'https://old.example',
          accessTokenTtl: 60,
          scopes: ['a'],
        }),
      );
      const before = (await t().store.getClient('c1')) as Client;
      const updated = await t().store.updateClient('c1', {
        name: 'Renamed',
        grants: ['client_credentials', 'refresh_token'],
        scopes: ['x', 'y'],
        redirectUris: ['https://cb.example/1'],
        audience: null,
        refreshGrace: 10,
        idTokenAlg: 'EdDSA',
        postLogoutRedirectUris: ['https://cb.example/bye'],
        backchannelLogoutUri: 'https://cb.example/bc',
        updatedAt: T0 + 50,
      });
      const expected: Client = {
        ...before,
        name: 'Renamed',
        grants: ['client_credentials', 'refresh_token'],
        scopes: ['x', 'y'],
        redirectUris: ['https://cb.example/1'],
        audience: null,
        refreshGrace: 10,
        idTokenAlg: 'EdDSA',
        postLogoutRedirectUris: ['https://cb.example/bye'],
        backchannelLogoutUri: 'https://cb.example/bc',
        updatedAt: T0 + 50,
      };
      assert.deepEqual(updated, expected);
      assert.deepEqual(await t().store.getClient('c1'), expected);
      assert.equal(expected.accessTokenTtl, 60);
      assert.deepEqual(expected.tenants, [{ id: 't1', domain: 'one.example' }]);
    });

    it('replaces the tenant bindings when tenantIds is given', async () => {
      await seedTenants();
      await t().store.createClient(newClient('c1', { tenantIds: ['t1', 't2'] }));
      await t().store.createClient(newClient('c2', { tenantIds: ['t1'] }));
      const updated = await t().store.updateClient('c1', {
        tenantIds: ['t3', 't2'],
        updatedAt: T0 + 1,
      });
      assert.deepEqual(updated.tenants, [
        { id: 't2', domain: null },
        { id: 't3', domain: 'three.example' },
      ]);
      const cleared = await t().store.updateClient('c1', { tenantIds: [], updatedAt: T0 + 2 });
      assert.deepEqual(cleared.tenants, []);
      assert.equal(cleared.updatedAt, T0 + 2);
      // The other client's bindings are untouched.
      assert.deepEqual((await t().store.getClient('c2'))?.tenants, [
        { id: 't1', domain: 'one.example' },
      ]);
      assert.deepEqual(await t().db.selectFrom('client_tenants').selectAll().execute(), [
        { client_id: 'c2', tenant_id: 't1' },
      ]);
    });

    it('changes nothing when a new binding names an unknown tenant (one transaction)', async () => {
      await seedTenants();
      await t().store.createClient(newClient('c1', { tenantIds: ['t1'] }));
      const before = await t().store.getClient('c1');
      await assert.rejects(
        t().store.updateClient('c1', {
          name: 'Renamed',
          tenantIds: ['t2', 'ghost'],
          updatedAt: T0 + 9,
        }),
        NotFoundError,
      );
      assert.deepEqual(await t().store.getClient('c1'), before);
    });

    it('refuses to update an unknown client', async () => {
      await assert.rejects(
        t().store.updateClient('ghost', { name: 'x', updatedAt: T0 }),
        NotFoundError,
      );
      assert.equal(await count(t().db, 'clients'), 0);
    });

    it('deletes a client and its bindings, once', async () => {
      await seedTenants();
      await t().store.createClient(newClient('c1', { tenantIds: ['t1', 't2'] }));
      await t().store.createClient(newClient('c2', { tenantIds: ['t2'] }));
      assert.equal(await t().store.deleteClient('c1'), true);
      assert.equal(await t().store.deleteClient('c1'), false);
      assert.equal(await t().store.deleteClient('never'), false);
      assert.equal(await t().store.getClient('c1'), undefined);
      assert.deepEqual(await t().db.selectFrom('client_tenants').selectAll().execute(), [
        { client_id: 'c2', tenant_id: 't2' },
      ]);
      // Tenants are not owned by the client.
      assert.equal(await count(t().db, 'tenants'), 3);
    });

    it('rotates a secret with a grace period, then without', async () => {
      await t().store.createClient(newClient('c1', { secretHash: 'v1$first' }));

      const graced = await t().store.rotateClientSecret('c1', 'v1$second', T0 + 3600, T0 + 10);
      assert.equal(graced.secretHash, 'v1$second');
      assert.equal(graced.previousSecretHash, 'v1$first');
      assert.equal(graced.previousSecretExpiresAt, T0 + 3600);
      assert.equal(graced.updatedAt, T0 + 10);
      assert.deepEqual(await t().store.getClient('c1'), graced);

      // A second graced rotation keeps only the secret that was current.
      const again = await t().store.rotateClientSecret('c1', 'v1$third', T0 + 7200, T0 + 20);
      assert.equal(again.secretHash, 'v1$third');
      assert.equal(again.previousSecretHash, 'v1$second');
      assert.equal(again.previousSecretExpiresAt, T0 + 7200);

      // No grace: the previous secret is cleared.
      const hard = await t().store.rotateClientSecret('c1', 'v1$fourth', null, T0 + 30);
      assert.equal(hard.secretHash, 'v1$fourth');
      assert.equal(hard.previousSecretHash, null);
      assert.equal(hard.previousSecretExpiresAt, null);
      assert.equal(hard.updatedAt, T0 + 30);
      assert.deepEqual(
        await t()
          .db.selectFrom('clients')
          .select(['secret_hash', 'previous_secret_hash', 'previous_secret_expires_at'])
          .execute(),
        [
          {
            secret_hash: 'v1$fourth',
            previous_secret_hash: null,
            previous_secret_expires_at: null,
          },
        ],
      );
    });

    it('refuses to rotate the secret of an unknown client', async () => {
      await assert.rejects(t().store.rotateClientSecret('ghost', 'v1$x', null, T0), NotFoundError);
    });
  });

  describe('signing keys', () => {
    it('lists keys by activation time, then creation time', async () => {
      const c = signingKey('c', T0 + 200);
      const a = signingKey('a', T0 + 100, { alg: 'ES256', createdAt: T0 + 5 });
      const b = signingKey('b', T0 + 100, { createdAt: T0 + 1, publishUntil: T0 + 999 });
      for (const k of [c, a, b]) await t().store.insertSigningKey(k);
      assert.deepEqual(await t().store.listSigningKeys(), [b, a, c]);
    });

    it('keeps the purpose of a key', async () => {
      const id = signingKey('id', T0, { alg: 'EdDSA', purpose: 'id-token' });
      await t().store.insertSigningKey(id);
      await t().store.insertSigningKey(signingKey('access', T0 + 1));
      assert.deepEqual(
        (await t().store.listSigningKeys()).map((k) => [k.kid, k.purpose]),
        [
          ['id', 'id-token'],
          ['access', 'access'],
        ],
      );
      assert.deepEqual((await t().store.listSigningKeys())[0], id);
    });

    it('refuses a duplicate kid', async () => {
      await t().store.insertSigningKey(signingKey('k1', T0));
      await assert.rejects(t().store.insertSigningKey(signingKey('k1', T0 + 1)));
      assert.equal(await count(t().db, 'signing_keys'), 1);
    });

    it('retires older keys for a successor, but not the successor or later keys', async () => {
      await t().store.insertSigningKey(signingKey('retired', T0, { publishUntil: T0 + 150 }));
      await t().store.insertSigningKey(signingKey('old', T0 + 100));
      await t().store.insertSigningKey(signingKey('same-time', T0 + 300));
      await t().store.insertSigningKey(signingKey('successor', T0 + 300));
      await t().store.insertSigningKey(signingKey('later', T0 + 400));
      await t().store.retireSigningKeys('successor', T0 + 300, T0 + 5000);
      const publishUntil = Object.fromEntries(
        (await t().store.listSigningKeys()).map((k) => [k.kid, k.publishUntil]),
      );
      assert.deepEqual(publishUntil, {
        retired: T0 + 150,
        old: T0 + 5000,
        'same-time': T0 + 5000,
        successor: null,
        later: null,
      });
    });
  });

  describe('consents', () => {
    beforeEach(async () => {
      await t().store.createUser(user('u1', 'a@example.com'), []);
      await t().store.createUser(user('u2', 'b@example.com'), []);
      await t().store.createClient(newClient('c-b', { consent: true }));
      await t().store.createClient(newClient('c-a', { consent: true }));
    });

    it('remembers one grant per (user, client), replaced on a second put', async () => {
      assert.equal(await t().store.getConsent('u1', 'c-a'), undefined);
      await t().store.putConsent({
        userId: 'u1',
        clientId: 'c-a',
        scopes: ['openid'],
        grantedAt: T0,
      });
      const wider = {
        userId: 'u1',
        clientId: 'c-a',
        scopes: ['openid', 'email'],
        grantedAt: T0 + 5,
      };
      await t().store.putConsent(wider);
      await t().store.putConsent({ userId: 'u1', clientId: 'c-b', scopes: [], grantedAt: T0 });
      await t().store.putConsent({ userId: 'u2', clientId: 'c-a', scopes: ['x'], grantedAt: T0 });
      assert.deepEqual(await t().store.getConsent('u1', 'c-a'), wider);
      assert.deepEqual(await t().store.listConsents('u1'), [
        wider,
        { userId: 'u1', clientId: 'c-b', scopes: [], grantedAt: T0 },
      ]);
      assert.equal(await t().store.deleteConsent('u1', 'c-a'), true);
      assert.equal(await t().store.deleteConsent('u1', 'c-a'), false);
      assert.equal(await t().store.getConsent('u1', 'c-a'), undefined);
      assert.equal((await t().store.getConsent('u2', 'c-a'))?.scopes[0], 'x');
    });

    it('goes with its client', async () => {
      await t().store.putConsent({
        userId: 'u1',
        clientId: 'c-a',
        scopes: ['openid'],
        grantedAt: T0,
      });
      await t().store.deleteClient('c-a');
      assert.deepEqual(await t().store.listConsents('u1'), []);
    });

    it("lists a user's live refresh families of one client", async () => {
      await t().store.insertRefreshToken(
        refreshToken('a1', { familyId: 'f-a', clientId: 'c-a', userId: 'u1' }),
      );
      await t().store.insertRefreshToken(
        refreshToken('a2', { familyId: 'f-a', parentId: 'a1', clientId: 'c-a', userId: 'u1' }),
      );
      await t().store.insertRefreshToken(
        refreshToken('b1', { familyId: 'f-b', clientId: 'c-a', userId: 'u1', expiresAt: T0 + DAY }),
      );
      await t().store.insertRefreshToken(
        refreshToken('c1', { familyId: 'f-c', clientId: 'c-b', userId: 'u1' }),
      );
      await t().store.insertRefreshToken(
        refreshToken('d1', { familyId: 'f-d', clientId: 'c-a', userId: 'u2' }),
      );
      await t().store.insertRefreshToken(
        refreshToken('e1', { familyId: 'f-e', clientId: 'c-a', userId: 'u1' }),
      );
      await t().store.revokeRefreshFamily('f-e', T0 + 1, T0 + DAY);
      assert.deepEqual(await t().store.listUserRefreshFamilies('u1', 'c-a'), [
        { familyId: 'f-a', expiresAt: T0 + 30 * DAY },
        { familyId: 'f-b', expiresAt: T0 + DAY },
      ]);
    });
  });

  describe('refresh tokens', () => {
    it('stores and finds a token exactly', async () => {
      const token = refreshToken('r1', { parentId: 'r0', userId: null, tenantId: null });
      await t().store.insertRefreshToken(token);
      assert.deepEqual(await t().store.findRefreshToken('hash-r1'), token);
      assert.equal(await t().store.findRefreshToken('hash-none'), undefined);
    });

    it('keeps the auth_time and sid of an OpenID Connect grant, through a rotation', async () => {
      const first = refreshToken('r1', { authTime: T0 - 60, sid: 'sid-1' });
      await t().store.insertRefreshToken(first);
      assert.deepEqual(await t().store.findRefreshToken('hash-r1'), first);
      const next = refreshToken('r2', { parentId: 'r1', authTime: T0 - 60, sid: 'sid-1' });
      // PostgreSQL stores a successor through the one-statement path, each value cast.
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 10, next), true);
      assert.deepEqual(await t().store.findRefreshToken('hash-r2'), next);
    });

    it('lists the live refresh families of a login session, once each', async () => {
      const inSession = { sid: 's1', authTime: T0 };
      await t().store.insertRefreshToken(refreshToken('a1', { familyId: 'f-a', ...inSession }));
      await t().store.insertRefreshToken(
        refreshToken('a2', { familyId: 'f-a', parentId: 'a1', ...inSession }),
      );
      await t().store.insertRefreshToken(
        refreshToken('b1', {
          familyId: 'f-b',
          clientId: 'client-2',
          scope: 'openid offline_access',
          expiresAt: T0 + DAY,
          ...inSession,
        }),
      );
      await t().store.insertRefreshToken(refreshToken('c1', { familyId: 'f-c', sid: 's2' }));
      await t().store.insertRefreshToken(refreshToken('d1', { familyId: 'f-d', ...inSession }));
      await t().store.revokeRefreshFamily('f-d', T0 + 1, T0 + DAY);
      assert.deepEqual(await t().store.listSessionRefreshFamilies('s1'), [
        { familyId: 'f-a', clientId: 'client-1', expiresAt: T0 + 30 * DAY, scope: 'read write' },
        {
          familyId: 'f-b',
          clientId: 'client-2',
          expiresAt: T0 + DAY,
          scope: 'openid offline_access',
        },
      ]);
      assert.deepEqual(await t().store.listSessionRefreshFamilies('s3'), []);
    });

    it('rotates a live token exactly once', async () => {
      await t().store.insertRefreshToken(refreshToken('r1'));
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 10), true);
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 11), false);
      assert.equal((await t().store.findRefreshToken('hash-r1'))?.rotatedAt, T0 + 10);
      assert.equal(await t().store.rotateRefreshToken('hash-none', T0 + 10), false);
    });

    it('stores the successor with the rotation, exactly, and nothing when the rotation fails', async () => {
      await t().store.insertRefreshToken(refreshToken('r1'));
      const next = refreshToken('r2', {
        parentId: 'r1',
        userId: null,
        tenantId: null,
        createdAt: T0 + 10,
        rotatedAt: null,
      });
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 10, next), true);
      assert.deepEqual(await t().store.findRefreshToken('hash-r2'), next);
      assert.equal((await t().store.findRefreshToken('hash-r1'))?.rotatedAt, T0 + 10);
      // A second use: no rotation, so the would-be successor is not stored.
      const stray = refreshToken('r3', { parentId: 'r1' });
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 11, stray), false);
      assert.equal(await t().store.findRefreshToken('hash-r3'), undefined);
    });

    it('rotates up to the last second before absolute and idle expiry', async () => {
      await t().store.insertRefreshToken(refreshToken('abs', { expiresAt: T0 + 100 }));
      await t().store.insertRefreshToken(
        refreshToken('idle', { idleExpiresAt: T0 + 100, expiresAt: T0 + 1000 }),
      );
      assert.equal(await t().store.rotateRefreshToken('hash-abs', T0 + 99), true);
      assert.equal(await t().store.rotateRefreshToken('hash-idle', T0 + 99), true);
    });

    it('refuses an expired token', async () => {
      await t().store.insertRefreshToken(refreshToken('r1', { expiresAt: T0 + 100 }));
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 100), false);
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 5000), false);
      assert.equal((await t().store.findRefreshToken('hash-r1'))?.rotatedAt, null);
    });

    it('refuses an idle-expired token', async () => {
      await t().store.insertRefreshToken(
        refreshToken('r1', { idleExpiresAt: T0 + 100, expiresAt: T0 + 1000 }),
      );
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 100), false);
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 500), false);
      assert.equal((await t().store.findRefreshToken('hash-r1'))?.rotatedAt, null);
    });

    it('refuses a revoked token', async () => {
      await t().store.insertRefreshToken(refreshToken('r1', { revokedAt: T0 + 1 }));
      assert.equal(await t().store.rotateRefreshToken('hash-r1', T0 + 2), false);
      assert.equal((await t().store.findRefreshToken('hash-r1'))?.rotatedAt, null);
    });

    describe('grace retry (replaceUnusedSuccessor)', () => {
      const successor = (id: string) =>
        refreshToken(id, { parentId: 'parent', createdAt: T0 + 20 });
      beforeEach(async () => {
        await t().store.insertRefreshToken(refreshToken('parent', { rotatedAt: T0 + 10 }));
        await t().store.insertRefreshToken(refreshToken('child', { parentId: 'parent' }));
        await t().store.insertRefreshToken(refreshToken('other', { parentId: 'someone-else' }));
      });
      const state = async (id: string) => {
        const r = await t().store.findRefreshToken(`hash-${id}`);
        return r && [r.rotatedAt, r.revokedAt];
      };

      it('revokes the unused successor and stores its replacement, which is replaceable in turn', async () => {
        const next = successor('next');
        assert.equal(await t().store.replaceUnusedSuccessor('parent', T0, T0 + 20, next), true);
        assert.deepEqual(await state('child'), [null, T0 + 20]);
        assert.deepEqual(await t().store.findRefreshToken('hash-next'), next);
        assert.equal(await t().store.rotateRefreshToken('hash-child', T0 + 21), false);
        // A second retry replaces the replacement; the first one keeps its revocation time.
        assert.equal(
          await t().store.replaceUnusedSuccessor('parent', T0, T0 + 22, successor('again')),
          true,
        );
        assert.deepEqual(await state('next'), [null, T0 + 22]);
        assert.deepEqual(await state('child'), [null, T0 + 20]);
        assert.deepEqual(await state('again'), [null, null]);
        // Neither the parent nor an unrelated token is touched.
        assert.deepEqual(await state('parent'), [T0 + 10, null]);
        assert.deepEqual(await state('other'), [null, null]);
      });

      it('only for a parent rotated at or after rotatedSince', async () => {
        assert.equal(
          await t().store.replaceUnusedSuccessor('parent', T0 + 11, T0 + 41, successor('late')),
          false,
        );
        assert.deepEqual(await state('child'), [null, null]);
        assert.equal(await t().store.findRefreshToken('hash-late'), undefined);
        assert.equal(
          await t().store.replaceUnusedSuccessor('parent', T0 + 10, T0 + 40, successor('edge')),
          true,
        );
      });

      it('not for a revoked parent, a used successor, or a token without successors', async () => {
        await t().store.insertRefreshToken(
          refreshToken('dead', { rotatedAt: T0 + 10, revokedAt: T0 + 15 }),
        );
        await t().store.insertRefreshToken(refreshToken('dead-child', { parentId: 'dead' }));
        assert.equal(await t().store.rotateRefreshToken('hash-child', T0 + 15), true);
        for (const parent of ['dead', 'parent', 'other', 'unknown'])
          assert.equal(
            await t().store.replaceUnusedSuccessor(parent, T0, T0 + 20, successor(`x-${parent}`)),
            false,
            parent,
          );
        assert.deepEqual(await state('dead-child'), [null, null]);
        assert.deepEqual(await state('child'), [T0 + 15, null]);
        assert.equal(await count(t().db, 'refresh_tokens'), 5);
      });

      it('revokes nothing when the replacement cannot be stored (one transaction)', async () => {
        // The replacement's token_hash is taken: a real constraint violation at the insert.
        const clash = successor('clash');
        await assert.rejects(
          t().store.replaceUnusedSuccessor('parent', T0, T0 + 20, {
            ...clash,
            tokenHash: 'hash-other',
          }),
        );
        assert.deepEqual(await state('child'), [null, null]);
        assert.equal(await t().store.replaceUnusedSuccessor('parent', T0, T0 + 21, clash), true);
      });
    });

    it('revokes a whole family and its grant, idempotently', async () => {
      await t().store.insertRefreshToken(
        refreshToken('f1', { familyId: 'fam-A', rotatedAt: T0 + 1 }),
      );
      await t().store.insertRefreshToken(
        refreshToken('f2', { familyId: 'fam-A', parentId: 'f1', revokedAt: T0 + 5 }),
      );
      await t().store.insertRefreshToken(refreshToken('f3', { familyId: 'fam-A', parentId: 'f1' }));
      await t().store.insertRefreshToken(refreshToken('g1', { familyId: 'fam-B' }));

      assert.equal(await t().store.isAccessTokenRevoked('jti-any', 'fam-A'), false);
      await t().store.revokeRefreshFamily('fam-A', T0 + 10, T0 + 900);

      const revokedAt = async (id: string) =>
        (await t().store.findRefreshToken(`hash-${id}`))?.revokedAt;
      assert.equal(await revokedAt('f1'), T0 + 10);
      assert.equal(await revokedAt('f2'), T0 + 5); // already revoked: keeps its time
      assert.equal(await revokedAt('f3'), T0 + 10);
      assert.equal(await revokedAt('g1'), null);
      assert.equal(await t().store.rotateRefreshToken('hash-f3', T0 + 11), false);
      assert.equal(await t().store.rotateRefreshToken('hash-g1', T0 + 11), true);

      // Every access token of the grant is refused, whatever its jti.
      assert.equal(await t().store.isAccessTokenRevoked('jti-any', 'fam-A'), true);
      assert.equal(await t().store.isAccessTokenRevoked('jti-other', 'fam-A'), true);
      assert.equal(await t().store.isAccessTokenRevoked('jti-any', 'fam-B'), false);
      assert.equal(await t().store.isAccessTokenRevoked('jti-any', undefined), false);
      assert.deepEqual(await t().db.selectFrom('revoked_grants').selectAll().execute(), [
        { grant_id: 'fam-A', revoked_at: T0 + 10, expires_at: T0 + 900 },
      ]);

      // Again: no error, nothing revoked twice, still one grant row with its first time.
      await t().store.revokeRefreshFamily('fam-A', T0 + 20, T0 + 900);
      assert.equal(await revokedAt('f1'), T0 + 10);
      assert.equal(await revokedAt('f3'), T0 + 10);
      assert.deepEqual(await t().db.selectFrom('revoked_grants').selectAll().execute(), [
        { grant_id: 'fam-A', revoked_at: T0 + 10, expires_at: T0 + 900 },
      ]);
      assert.equal(await t().store.isAccessTokenRevoked('jti-any', 'fam-A'), true);
    });
  });

  describe('refresh token redemption (redeemRefreshToken)', () => {
    const policy = (graceSince: number | null) => ({ graceSince, grantExpiresAt: T0 + 900 });
    const state = async (id: string) => {
      const r = await t().store.findRefreshToken(`hash-${id}`);
      return r && [r.rotatedAt, r.revokedAt];
    };
    /** Redeems the token `id` as read now, for a successor `next` in its family. */
    const redeem = async (id: string, next: string, now: number, graceSince: number | null) => {
      const presented = await t().store.findRefreshToken(`hash-${id}`);
      assert.ok(presented, id);
      const successor = refreshToken(next, {
        parentId: id,
        familyId: presented.familyId,
        createdAt: now,
      });
      return t().store.redeemRefreshToken(presented, successor, now, policy(graceSince));
    };

    it('rotates a live token and stores its successor', async () => {
      await t().store.insertRefreshToken(refreshToken('r1'));
      assert.equal(await redeem('r1', 'r2', T0 + 10, null), 'rotated');
      assert.deepEqual(await state('r1'), [T0 + 10, null]);
      assert.deepEqual(await state('r2'), [null, null]);
      assert.equal(await t().store.isAccessTokenRevoked('jti-any', 'fam-1'), false);
    });

    it('in the grace window, replaces the unused successor', async () => {
      await t().store.insertRefreshToken(refreshToken('r1'));
      assert.equal(await redeem('r1', 'r2', T0 + 10, null), 'rotated');
      assert.equal(await redeem('r1', 'r3', T0 + 20, T0 + 10), 'replaced');
      assert.deepEqual(await state('r2'), [null, T0 + 20]);
      assert.deepEqual(await state('r3'), [null, null]);
      assert.deepEqual(await state('r1'), [T0 + 10, null]);
    });

    it('a used token without grace, or once its successor was used, is reuse: the family is revoked', async () => {
      await t().store.insertRefreshToken(refreshToken('g1', { familyId: 'fam-2' }));
      assert.equal(await redeem('g1', 'g2', T0 + 10, null), 'rotated');
      assert.equal(await redeem('g1', 'g3', T0 + 11, null), 'reused');
      assert.equal(await t().store.findRefreshToken('hash-g3'), undefined);
      assert.deepEqual(await state('g2'), [null, T0 + 11]);

      await t().store.insertRefreshToken(refreshToken('r1'));
      assert.equal(await redeem('r1', 'r2', T0 + 10, null), 'rotated');
      assert.equal(await redeem('r2', 'r3', T0 + 11, null), 'rotated');
      assert.equal(await redeem('r3', 'r4', T0 + 12, null), 'rotated');
      // r2's successor r3 was used: no grace retry for r2, though within the window.
      assert.equal(await redeem('r2', 'r5', T0 + 13, T0 + 11), 'reused');
      assert.equal(await t().store.findRefreshToken('hash-r5'), undefined);
      for (const id of ['r1', 'r2', 'r3', 'r4'])
        assert.equal((await t().store.findRefreshToken(`hash-${id}`))?.revokedAt, T0 + 13, id);
      assert.deepEqual(
        await t().db.selectFrom('revoked_grants').selectAll().orderBy('grant_id').execute(),
        [
          { grant_id: 'fam-1', revoked_at: T0 + 13, expires_at: T0 + 900 },
          { grant_id: 'fam-2', revoked_at: T0 + 11, expires_at: T0 + 900 },
        ],
      );
    });

    it('changes nothing when the successor cannot be stored (one transaction)', async () => {
      await t().store.insertRefreshToken(refreshToken('r1'));
      await t().store.insertRefreshToken(refreshToken('taken', { familyId: 'fam-2' }));
      const presented = await t().store.findRefreshToken('hash-r1');
      assert.ok(presented);
      const clash = refreshToken('r2', { parentId: 'r1', tokenHash: 'hash-taken' });
      await assert.rejects(t().store.redeemRefreshToken(presented, clash, T0 + 10, policy(null)));
      assert.deepEqual(await state('r1'), [null, null]);
      assert.equal(await count(t().db, 'revoked_grants'), 0);
      assert.equal(await count(t().db, 'refresh_tokens'), 2);
    });

    it(`of 20 concurrent redemptions of one token read live, one rotates and the rest are reuse`, async () => {
      await t().store.insertRefreshToken(refreshToken('r1'));
      const presented = await t().store.findRefreshToken('hash-r1');
      assert.ok(presented);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t().store.redeemRefreshToken(
            presented,
            refreshToken(`next-${i}`, { parentId: 'r1' }),
            T0 + 10,
            policy(null),
          ),
        ),
      );
      assert.equal(results.filter((r) => r === 'rotated').length, 1);
      assert.equal(results.filter((r) => r === 'reused').length, 19);
      // The winner's successor is stored, and revoked with its family.
      assert.equal(await count(t().db, 'refresh_tokens'), 2);
      assert.equal(await t().store.isAccessTokenRevoked('jti-any', 'fam-1'), true);
    });
  });

  describe('authorization codes', () => {
    const consumedAt = async () =>
      (await t().db.selectFrom('authorization_codes').select('consumed_at').executeTakeFirst())
        ?.consumed_at;

    it('finds a code, as stored, only for the client it was issued to', async () => {
      const code = authCode('code-1', {
        tenantId: null,
        redirectUriSent: false,
        state: null,
        codeChallenge: null,
        codeChallengeMethod: null,
      });
      await t().store.insertAuthorizationCode(code);
      assert.deepEqual(await t().store.findAuthorizationCode('code-1', 'client-1'), code);
      assert.equal(await t().store.findAuthorizationCode('code-1', 'client-2'), undefined);
      assert.equal(await t().store.findAuthorizationCode('code-2', 'client-1'), undefined);
    });

    it('keeps the OpenID Connect nonce, auth_time and sid of a code exactly', async () => {
      const code = authCode('oidc', {
        nonce: 'n-0S6_WzA2Mj ü',
        authTime: T0 - 120,
        sid: 'sid-1',
      });
      await t().store.insertAuthorizationCode(code);
      assert.deepEqual(await t().store.findAuthorizationCode('oidc', 'client-1'), code);
    });

    it('keeps whether the authorization request carried redirect_uri', async () => {
      await t().store.insertAuthorizationCode(authCode('sent'));
      await t().store.insertAuthorizationCode(authCode('defaulted', { redirectUriSent: false }));
      assert.equal(
        (await t().store.findAuthorizationCode('sent', 'client-1'))?.redirectUriSent,
        true,
      );
      assert.equal(
        (await t().store.findAuthorizationCode('defaulted', 'client-1'))?.redirectUriSent,
        false,
      );
    });

    it("another client's consume changes nothing; its own client consumes it once", async () => {
      await t().store.insertAuthorizationCode(authCode('code-1'));
      assert.equal(await t().store.consumeAuthorizationCode('code-1', 'client-2', T0 + 1), false);
      assert.equal(await consumedAt(), null);
      assert.equal(await t().store.consumeAuthorizationCode('code-1', 'client-1', T0 + 5), true);
      assert.equal(await consumedAt(), T0 + 5);
      assert.equal(await t().store.consumeAuthorizationCode('code-1', 'client-1', T0 + 9), false);
      assert.equal(await t().store.consumeAuthorizationCode('code-1', 'client-2', T0 + 9), false);
      assert.equal(await consumedAt(), T0 + 5);
      assert.deepEqual(await t().store.findAuthorizationCode('code-1', 'client-1'), {
        ...authCode('code-1'),
        consumedAt: T0 + 5,
      });
    });

    it('stores the refresh token with the consume, and nothing when the consume fails', async () => {
      await t().store.insertAuthorizationCode(authCode('code-1'));
      const first = refreshToken('r1', { familyId: 'grant-1' });
      assert.equal(
        await t().store.consumeAuthorizationCode('code-1', 'client-1', T0 + 5, first),
        true,
      );
      assert.deepEqual(await t().store.findRefreshToken('hash-r1'), first);
      const stray = refreshToken('r2', { familyId: 'grant-1' });
      assert.equal(
        await t().store.consumeAuthorizationCode('code-1', 'client-1', T0 + 6, stray),
        false,
      );
      assert.equal(await t().store.findRefreshToken('hash-r2'), undefined);
    });

    it('leaves the code unused when its refresh token cannot be stored (one transaction)', async () => {
      await t().store.insertAuthorizationCode(authCode('code-1'));
      await t().store.insertRefreshToken(refreshToken('taken'));
      const clash = refreshToken('r1', { tokenHash: 'hash-taken' });
      await assert.rejects(t().store.consumeAuthorizationCode('code-1', 'client-1', T0 + 5, clash));
      assert.equal(await consumedAt(), null);
    });

    it('consumes nothing for an unknown code', async () => {
      await t().store.insertAuthorizationCode(authCode('code-1'));
      assert.equal(await t().store.consumeAuthorizationCode('code-2', 'client-1', T0), false);
      assert.equal(await consumedAt(), null);
    });
  });

  describe('concurrency', () => {
    const N = 50;

    it(`lets exactly one of ${N} concurrent rotations of a refresh token win`, async () => {
      await t().store.insertRefreshToken(refreshToken('r1'));
      const results = await Promise.all(
        Array.from({ length: N }, (_, i) => t().store.rotateRefreshToken('hash-r1', T0 + 1 + i)),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1);
      assert.equal(
        (await t().store.findRefreshToken('hash-r1'))?.rotatedAt,
        T0 + 1 + (winners[0] ?? -1),
      );
    });

    it(`lets exactly one of ${N} concurrent redemptions of a code win, never another client's`, async () => {
      await t().store.insertAuthorizationCode(authCode('code-1'));
      // Every other attempt is another client's: interleaved, they must neither win nor block.
      const results = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          t().store.consumeAuthorizationCode('code-1', i % 2 ? 'client-2' : 'client-1', T0 + 1 + i),
        ),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1);
      assert.equal((winners[0] ?? 1) % 2, 0, 'the winner is the client the code was issued to');
      assert.equal(
        (await t().store.findAuthorizationCode('code-1', 'client-1'))?.consumedAt,
        T0 + 1 + (winners[0] ?? -1),
      );
    });

    it('lets the first use of a successor and its grace retry race with one winner', async () => {
      await t().store.insertRefreshToken(refreshToken('parent', { rotatedAt: T0 }));
      await t().store.insertRefreshToken(refreshToken('child', { parentId: 'parent' }));
      const results = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          i % 2 === 0
            ? t().store.rotateRefreshToken('hash-child', T0 + 1)
            : t().store.replaceUnusedSuccessor(
                'parent',
                T0,
                T0 + 1,
                refreshToken(`retry-${i}`, { parentId: 'parent' }),
              ),
        ),
      );
      const won = (parity: number) => results.filter((r, i) => r && i % 2 === parity).length;
      const child = await t().store.findRefreshToken('hash-child');
      // Exactly one of the two outcomes happened to the row…
      assert.equal([child?.rotatedAt, child?.revokedAt].filter((v) => v === T0 + 1).length, 1);
      const live = await t()
        .db.selectFrom('refresh_tokens')
        .select('id')
        .where('parent_id', '=', 'parent')
        .where('rotated_at', 'is', null)
        .where('revoked_at', 'is', null)
        .execute();
      if (child?.rotatedAt === T0 + 1) {
        assert.deepEqual([won(0), won(1), live], [1, 0, []]);
      } else {
        // …and when the retries won, each replaced the one before: one replacement is live.
        assert.equal(won(0), 0);
        assert.ok(won(1) >= 1);
        assert.equal(live.length, 1);
        assert.equal(await count(t().db, 'refresh_tokens'), 2 + won(1));
      }
    });

    it('refuses all but one of concurrent creations of the same tenant', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          t().store.createTenant(tenant('acme', { name: `n${i}` })),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof ConflictError, String(r.reason));
      }
      assert.equal(await count(t().db, 'tenants'), 1);
    });

    it('records concurrent revocations of one access token once', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t().store.revokeAccessToken('jti-1', T0 + i, T0 + 900),
        ),
      );
      assert.equal(await count(t().db, 'revoked_tokens'), 1);
      assert.equal(await t().store.isAccessTokenRevoked('jti-1', undefined), true);
    });

    it('counts each expired row once when sweeps run concurrently', async () => {
      for (let i = 0; i < 10; i++) {
        await t().store.insertRefreshToken(refreshToken(`old-${i}`, { expiresAt: T0 - 1 }));
        await t().store.revokeAccessToken(`old-jti-${i}`, T0 - 100, T0 - 1);
      }
      await t().store.insertRefreshToken(refreshToken('live', { expiresAt: T0 + 1 }));
      const counts = await Promise.all(Array.from({ length: 5 }, () => t().store.sweepExpired(T0)));
      assert.equal(
        counts.reduce((a, b) => a + b, 0),
        20,
      );
      assert.equal(await count(t().db, 'refresh_tokens'), 1);
      assert.equal(await count(t().db, 'revoked_tokens'), 0);
    });
  });

  describe('back-channel logout', () => {
    const HOOK = 'https://rp.example/backchannel';
    const session = (idHash: string, userId: string) => ({
      idHash,
      userId,
      subject: userId,
      tenantId: null,
      createdAt: T0,
      expiresAt: T0 + DAY,
    });
    const recipient = (sid: string, clientId: string, subject = 'user-1') => ({
      sid,
      clientId,
      subject,
      expiresAt: T0 + DAY,
    });
    const jobs = () =>
      t()
        .db.selectFrom('logout_jobs')
        .select(['client_id', 'subject', 'sid', 'queued_at', 'due_at', 'attempts', 'lease_until'])
        .orderBy('client_id')
        .orderBy('sid')
        .execute();
    const job = (clientId: string, sid: string, subject = 'user-1') => ({
      client_id: clientId,
      subject,
      sid,
      queued_at: T0 + 10,
      due_at: T0 + 10,
      attempts: 0,
      lease_until: null,
    });

    beforeEach(async () => {
      await t().store.createClient(newClient('rp-a', { backchannelLogoutUri: HOOK }));
      await t().store.createClient(newClient('rp-b', { backchannelLogoutUri: `${HOOK}/b` }));
      await t().store.createClient(newClient('rp-none'));
    });

    it('ending a session queues one job per recipient with a URI, once, and leaves other sessions', async () => {
      await t().store.createSession(session('h1', 'user-1'));
      await t().store.createSession(session('h2', 'user-1'));
      for (const r of [
        recipient('sid-1', 'rp-a'),
        recipient('sid-1', 'rp-a'),
        recipient('sid-1', 'rp-b'),
        recipient('sid-1', 'rp-none'),
        recipient('sid-2', 'rp-a'),
      ])
        await t().store.recordIdTokenRecipient(r);

      await t().store.endSession('h1', 'sid-1', T0 + 10);
      assert.equal(await t().store.findSession('h1', T0 + 11), undefined);
      assert.ok(await t().store.findSession('h2', T0 + 11));
      assert.deepEqual(await jobs(), [job('rp-a', 'sid-1'), job('rp-b', 'sid-1')]);
      assert.deepEqual(
        await t().db.selectFrom('id_token_recipients').select(['sid', 'client_id']).execute(),
        [{ sid: 'sid-2', client_id: 'rp-a' }],
      );
      // Ending it again (a second tab's logout) tells nobody twice.
      await t().store.endSession('h1', 'sid-1', T0 + 20);
      assert.equal((await jobs()).length, 2);
    });

    it('ending a session nobody received an ID Token in queues nothing', async () => {
      await t().store.createSession(session('h1', 'user-1'));
      await t().store.endSession('h1', 'sid-1', T0 + 10);
      assert.deepEqual(await jobs(), []);
      assert.equal(await t().store.findSession('h1', T0 + 11), undefined);
    });

    it("ending a user's sessions ends all of them, queues for each, and revokes all their refresh tokens", async () => {
      await t().store.createSession(session('h1', 'user-1'));
      await t().store.createSession(session('h2', 'user-1'));
      await t().store.createSession(session('h3', 'user-2'));
      await t().store.recordIdTokenRecipient(recipient('sid-1', 'rp-a'));
      await t().store.recordIdTokenRecipient(recipient('sid-2', 'rp-b'));
      await t().store.recordIdTokenRecipient(recipient('sid-3', 'rp-a', 'user-2'));
      await t().store.insertRefreshToken(refreshToken('r1', { scope: 'openid offline_access' }));
      await t().store.insertRefreshToken(refreshToken('r2', { familyId: 'f2', userId: 'user-2' }));

      await t().store.endUserSessions('user-1', T0 + 10);
      assert.equal(await t().store.findSession('h1', T0 + 11), undefined);
      assert.equal(await t().store.findSession('h2', T0 + 11), undefined);
      assert.ok(await t().store.findSession('h3', T0 + 11));
      assert.deepEqual(await jobs(), [job('rp-a', 'sid-1'), job('rp-b', 'sid-2')]);
      assert.equal((await t().store.findRefreshToken('hash-r1'))?.revokedAt, T0 + 10);
      assert.equal((await t().store.findRefreshToken('hash-r2'))?.revokedAt, null);
    });

    it('claims a due job once until its lease lapses, and only the claim may finish or release it', async () => {
      await t().store.recordIdTokenRecipient(recipient('sid-1', 'rp-a'));
      await t().store.endSession('h-none', 'sid-1', T0 + 10);
      assert.deepEqual(await t().store.claimLogoutJobs(T0 + 9, 30, 10), [], 'not due yet');

      const [first, ...more] = await t().store.claimLogoutJobs(T0 + 10, 30, 10);
      assert.deepEqual(more, []);
      assert.ok(first);
      assert.deepEqual(
        { ...first, id: undefined },
        {
          id: undefined,
          clientId: 'rp-a',
          subject: 'user-1',
          sid: 'sid-1',
          queuedAt: T0 + 10,
          attempts: 1,
          leaseUntil: T0 + 40,
        },
      );
      assert.deepEqual(await t().store.claimLogoutJobs(T0 + 39, 30, 10), [], 'leased');

      // The lease lapsed (the node died): another claim takes over; the old one is void.
      const [second] = await t().store.claimLogoutJobs(T0 + 40, 30, 10);
      assert.equal(second?.attempts, 2);
      assert.equal(second?.leaseUntil, T0 + 70);
      await t().store.finishLogoutJob(first);
      await t().store.retryLogoutJob(first, T0 + 41);
      assert.deepEqual(
        (await jobs()).map((j) => [j.due_at, j.lease_until]),
        [[T0 + 10, T0 + 70]],
      );

      assert.ok(second);
      await t().store.retryLogoutJob(second, T0 + 100);
      assert.deepEqual(
        (await jobs()).map((j) => [j.due_at, j.lease_until]),
        [[T0 + 100, null]],
      );
      assert.deepEqual(await t().store.claimLogoutJobs(T0 + 99, 30, 10), []);
      const [third] = await t().store.claimLogoutJobs(T0 + 100, 30, 10);
      assert.equal(third?.attempts, 3);
      assert.ok(third);
      await t().store.finishLogoutJob(third);
      assert.deepEqual(await jobs(), []);
    });

    it('hands each of 20 due jobs to exactly one of 5 concurrent claimers', async () => {
      for (let i = 0; i < 20; i++)
        await t().store.recordIdTokenRecipient(recipient(`sid-${i}`, 'rp-a'));
      for (let i = 0; i < 20; i++) await t().store.endSession(`h-${i}`, `sid-${i}`, T0 + 10);
      const claims = await Promise.all(
        Array.from({ length: 5 }, () => t().store.claimLogoutJobs(T0 + 10, 30, 20)),
      );
      const sids = claims.flat().map((j) => j.sid);
      assert.equal(sids.length, 20);
      assert.equal(new Set(sids).size, 20);
    });

    it('sweeps recipients whose session can no longer be alive', async () => {
      await t().store.recordIdTokenRecipient({ ...recipient('sid-1', 'rp-a'), expiresAt: T0 - 1 });
      await t().store.recordIdTokenRecipient({ ...recipient('sid-2', 'rp-a'), expiresAt: T0 + 1 });
      assert.equal(await t().store.sweepExpired(T0), 1);
      assert.deepEqual(await t().db.selectFrom('id_token_recipients').select('sid').execute(), [
        { sid: 'sid-2' },
      ]);
    });
  });

  describe('account links and mail', () => {
    const link = (tokenHash: string, overrides: Partial<AccountLink> = {}): AccountLink => ({
      tokenHash,
      userId: 'u1',
      purpose: 'reset',
      createdAt: T0,
      expiresAt: T0 + 1800,
      ...overrides,
    });
    const links = () =>
      t()
        .db.selectFrom('account_links')
        .select(['token_hash', 'user_id'])
        .orderBy('token_hash')
        .execute();

    beforeEach(async () => {
      await t().store.createUser(user('u1', 'ann@example.com', { passwordHash: '' }), []);
      await t().store.createUser(user('u2', 'bob@example.com'), []);
    });

    it('finds a live link by hash and purpose only, and opening it uses nothing', async () => {
      await t().store.createAccountLink(link('h1'));
      assert.deepEqual(await t().store.findAccountLink('h1', 'reset', T0 + 1799), link('h1'));
      assert.deepEqual(await t().store.findAccountLink('h1', 'reset', T0 + 1799), link('h1'));
      assert.equal(await t().store.findAccountLink('h1', 'setup', T0), undefined, 'purpose');
      assert.equal(await t().store.findAccountLink('h1', 'reset', T0 + 1800), undefined, 'expired');
      assert.equal(await t().store.findAccountLink('h2', 'reset', T0), undefined);
      assert.equal(await t().store.findAccountLink('x'.repeat(100_000), 'reset', T0), undefined);
    });

    it("a newer link voids the user's older ones, not other users'", async () => {
      await t().store.createAccountLink(link('h1'));
      await t().store.createAccountLink(link('h9', { userId: 'u2' }));
      await t().store.createAccountLink(link('h2', { purpose: 'setup' }));
      assert.deepEqual(await links(), [
        { token_hash: 'h2', user_id: 'u1' },
        { token_hash: 'h9', user_id: 'u2' },
      ]);
    });

    it('redeeming sets the password, verifies the address, ends sessions and revokes refresh tokens, once', async () => {
      await t().store.createAccountLink(link('h1', { purpose: 'setup' }));
      await t().store.createSession({
        idHash: 's1',
        userId: 'u1',
        subject: 'u1',
        tenantId: null,
        createdAt: T0,
        expiresAt: T0 + DAY,
      });
      await t().store.insertRefreshToken(refreshToken('r1', { userId: 'u1' }));
      assert.equal(
        await t().store.redeemAccountLink('h1', 'reset', 'argon2id$new', T0 + 5),
        undefined,
      );

      const redeemed = await t().store.redeemAccountLink('h1', 'setup', 'argon2id$new', T0 + 5);
      assert.equal(redeemed?.passwordHash, 'argon2id$new');
      assert.equal(redeemed?.emailVerified, true);
      assert.equal((await t().store.getUser('u1'))?.passwordHash, 'argon2id$new');
      assert.equal(await t().store.findSession('s1', T0 + 6), undefined);
      assert.equal((await t().store.findRefreshToken('hash-r1'))?.revokedAt, T0 + 5);
      assert.deepEqual(await links(), []);
      assert.equal(
        await t().store.redeemAccountLink('h1', 'setup', 'argon2id$other', T0 + 6),
        undefined,
      );
      assert.equal((await t().store.getUser('u1'))?.passwordHash, 'argon2id$new');
    });

    it('refuses an expired link and gives a link to exactly one of 5 concurrent redeemers', async () => {
      await t().store.createAccountLink(link('h1'));
      assert.equal(await t().store.redeemAccountLink('h1', 'reset', 'p', T0 + 1800), undefined);
      assert.equal((await t().store.getUser('u1'))?.passwordHash, '');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          t().store.redeemAccountLink('h1', 'reset', `argon2id$${i}`, T0 + 1),
        ),
      );
      const winners = results.filter((u) => u !== undefined);
      assert.equal(winners.length, 1);
      assert.equal((await t().store.getUser('u1'))?.passwordHash, winners[0]?.passwordHash);
    });

    it("disabling a user voids the user's links, and a disabled user's link sets nothing", async () => {
      await t().store.createAccountLink(link('h1'));
      await t().store.createAccountLink(link('h2', { userId: 'u2' }));
      await t().store.disableUser('ann@example.com', T0 + 1);
      assert.deepEqual(await links(), [{ token_hash: 'h2', user_id: 'u2' }]);
      await t()
        .db.updateTable('users')
        .set({ disabled_at: T0 + 1 })
        .where('id', '=', 'u2')
        .execute();
      assert.equal(
        await t().store.redeemAccountLink('h2', 'reset', 'argon2id$x', T0 + 2),
        undefined,
      );
      assert.equal((await t().store.getUser('u2'))?.passwordHash, 'argon2id$u2');
    });

    it('sweeps expired links', async () => {
      await t().store.createAccountLink(link('h1', { expiresAt: T0 - 1 }));
      await t().store.createAccountLink(link('h2', { userId: 'u2', expiresAt: T0 + 1 }));
      assert.equal(await t().store.sweepExpired(T0), 1);
      assert.deepEqual(await links(), [{ token_hash: 'h2', user_id: 'u2' }]);
    });

    it('queues mail as (user, purpose, address), claims it once per lease, and retries or finishes it', async () => {
      await t().store.queueMail({
        id: 'm1',
        purpose: 'reset',
        userId: null,
        address: 'Ann@Example.com',
        queuedAt: T0,
      });
      assert.deepEqual(await t().db.selectFrom('mail_outbox').selectAll().execute(), [
        {
          id: 'm1',
          purpose: 'reset',
          user_id: null,
          address: 'Ann@Example.com',
          queued_at: T0,
          due_at: T0,
          attempts: 0,
          lease_until: null,
        },
      ]);
      const [first, ...more] = await t().store.claimMailJobs(T0, 60, 10);
      assert.deepEqual(more, []);
      assert.deepEqual(first, {
        id: 'm1',
        purpose: 'reset',
        userId: null,
        address: 'Ann@Example.com',
        queuedAt: T0,
        attempts: 1,
        leaseUntil: T0 + 60,
      });
      assert.deepEqual(await t().store.claimMailJobs(T0 + 59, 60, 10), [], 'leased');
      assert.ok(first);
      await t().store.retryMailJob(first, T0 + 100);
      assert.deepEqual(await t().store.claimMailJobs(T0 + 99, 60, 10), []);
      const [second] = await t().store.claimMailJobs(T0 + 100, 60, 10);
      assert.equal(second?.attempts, 2);
      await t().store.finishMailJob(first);
      assert.equal(await count(t().db, 'mail_outbox'), 1, 'a stale claim finishes nothing');
      assert.ok(second);
      await t().store.finishMailJob(second);
      assert.equal(await count(t().db, 'mail_outbox'), 0);
    });
  });

  describe('revocations', () => {
    it('revokes an access token by jti, idempotently', async () => {
      assert.equal(await t().store.isAccessTokenRevoked('jti-1', undefined), false);
      await t().store.revokeAccessToken('jti-1', T0, T0 + 900);
      await t().store.revokeAccessToken('jti-1', T0 + 5, T0 + 1800);
      assert.deepEqual(await t().db.selectFrom('revoked_tokens').selectAll().execute(), [
        { jti: 'jti-1', revoked_at: T0, expires_at: T0 + 900 },
      ]);
      assert.equal(await t().store.isAccessTokenRevoked('jti-1', undefined), true);
      assert.equal(await t().store.isAccessTokenRevoked('jti-1', 'grant-x'), true);
      assert.equal(await t().store.isAccessTokenRevoked('jti-2', undefined), false);
      assert.equal(await t().store.isAccessTokenRevoked('jti-2', 'grant-x'), false);
    });

    it('revokes every access token of a grant, idempotently', async () => {
      await t().store.revokeGrant('grant-1', T0, T0 + 900);
      await t().store.revokeGrant('grant-1', T0 + 5, T0 + 900);
      assert.deepEqual(await t().db.selectFrom('revoked_grants').selectAll().execute(), [
        { grant_id: 'grant-1', revoked_at: T0, expires_at: T0 + 900 },
      ]);
      assert.equal(await t().store.isAccessTokenRevoked('jti-a', 'grant-1'), true);
      assert.equal(await t().store.isAccessTokenRevoked('jti-b', 'grant-1'), true);
      assert.equal(await t().store.isAccessTokenRevoked('jti-a', 'grant-2'), false);
      assert.equal(await t().store.isAccessTokenRevoked('jti-a', undefined), false);
    });
  });

  describe('sweeping', () => {
    it('removes only expired rows and returns how many', async () => {
      const now = T0 + 1000;
      await t().store.insertAuthorizationCode(authCode('code-old', { expiresAt: now - 1 }));
      await t().store.insertAuthorizationCode(authCode('code-new', { expiresAt: now + 1 }));
      await t().store.insertRefreshToken(refreshToken('rt-old', { expiresAt: now - 1 }));
      await t().store.insertRefreshToken(refreshToken('rt-old2', { expiresAt: now - 500 }));
      await t().store.insertRefreshToken(refreshToken('rt-new', { expiresAt: now + 1 }));
      await t().store.revokeAccessToken('jti-old', T0, now - 1);
      await t().store.revokeAccessToken('jti-new', T0, now + 1);
      await t().store.revokeGrant('grant-old', T0, now - 1);
      await t().store.revokeGrant('grant-new', T0, now + 1);

      assert.equal(await t().store.sweepExpired(now), 5);

      const db = t().db;
      assert.deepEqual(
        (await db.selectFrom('authorization_codes').select('code_hash').execute()).map(
          (r) => r.code_hash,
        ),
        ['code-new'],
      );
      assert.deepEqual(
        (await db.selectFrom('refresh_tokens').select('id').execute()).map((r) => r.id),
        ['rt-new'],
      );
      assert.deepEqual(
        (await db.selectFrom('revoked_tokens').select('jti').execute()).map((r) => r.jti),
        ['jti-new'],
      );
      assert.deepEqual(
        (await db.selectFrom('revoked_grants').select('grant_id').execute()).map((r) => r.grant_id),
        ['grant-new'],
      );
      assert.equal(await t().store.isAccessTokenRevoked('jti-new', 'grant-new'), true);
      assert.equal(await t().store.sweepExpired(now), 0);
    });

    it('sweeps nothing from an empty store', async () => {
      assert.equal(await t().store.sweepExpired(T0), 0);
    });
  });
});
