/**
 * The refresh_token grant (DESIGN §3): rotation on every use, reuse detection revoking the
 * whole family (refresh and access tokens), the per-client grace option, absolute and idle
 * expiry, client binding and scope narrowing.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { updateClient } from '../../src/admin/clients.js';
import { type TestApp, createTestApp, testEngine } from '../helpers/app.js';
import {
  type Creds,
  ISSUER,
  assertError,
  bodyOf,
  claims,
  clientCredentials,
  introspect,
  ok,
  refresh,
  revoke,
  userinfo,
} from './helpers.js';

interface Pair {
  readonly access: string;
  readonly refresh: string;
}

function pairOf(body: Record<string, unknown>): Pair {
  assert.equal(typeof body['access_token'], 'string');
  assert.equal(typeof body['refresh_token'], 'string');
  return { access: body['access_token'] as string, refresh: body['refresh_token'] as string };
}

describe('refresh_token grant', () => {
  let t: TestApp;
  let c: Creds;
  let grace: Creds;

  const grants = ['client_credentials', 'refresh_token'];

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme', 'acme.example.com');
    c = await t.client({ tenants: ['acme'], scopes: ['read', 'write'], grants });
    grace = await t.client({
      tenants: ['acme'],
      scopes: ['read', 'write'],
      grants,
      refreshGrace: 30,
    });
  });
  after(() => t.close());

  async function start(client: Creds = c, extra: Record<string, string> = {}): Promise<Pair> {
    return pairOf(ok(await clientCredentials(t, client, extra)));
  }
  async function use(
    client: Creds,
    token: string,
    extra: Record<string, string> = {},
  ): Promise<Pair> {
    return pairOf(ok(await refresh(t, client, token, extra)));
  }
  const row = (token: string) => t.deps.store.findRefreshToken(t.deps.crypto.hashSecret(token));

  async function assertAccessDead(token: string): Promise<void> {
    const res = await userinfo(t, token);
    assert.equal(res.statusCode, 401);
    assert.equal(bodyOf(res)['error'], 'invalid_token');
    assert.deepEqual(bodyOf(await introspect(t, c, token)), { active: false });
  }

  test('a refresh returns a new access token and a new refresh token, same tenant and scope', async () => {
    const a = await start();
    t.clock.advance(10);
    const res = await refresh(t, c, a.refresh);
    const body = ok(res);
    assert.deepEqual(body, {
      access_token: body['access_token'],
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'read write',
      refresh_token: body['refresh_token'],
    });
    const b = pairOf(body);
    assert.notEqual(b.refresh, a.refresh);
    assert.notEqual(b.access, a.access);
    const p = claims(b.access);
    assert.equal(p['tenant_id'], 'acme');
    assert.equal(p['scope'], 'read write');
    assert.equal(p['sub'], c.client_id);
    assert.equal(p['iat'], t.clock.now);
    assert.equal(p['grant_id'], claims(a.access)['grant_id']);
    // Store: the old token is rotated, the new one is its child in the same family.
    const oldRow = await row(a.refresh);
    const newRow = await row(b.refresh);
    assert.ok(oldRow && newRow);
    assert.equal(oldRow.rotatedAt, t.clock.now);
    assert.equal(oldRow.revokedAt, null);
    assert.equal(newRow.parentId, oldRow.id);
    assert.equal(newRow.familyId, oldRow.familyId);
    assert.equal(newRow.rotatedAt, null);
    // Row ids are UUIDv7 and sort in the order the rows were made (they keep index inserts at
    // the right-hand end: bench/results/history.md).
    for (const id of [oldRow.id, newRow.id]) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    assert.ok(newRow.id > oldRow.id);
    // The absolute expiry is the family's, not renewed by rotation.
    assert.equal(newRow.expiresAt, oldRow.expiresAt);
  });

  test('JSON bodies and Basic authentication work for refresh', async () => {
    const a = await start();
    const b = pairOf(
      ok(
        await t.app.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`,
          },
          payload: JSON.stringify({ grant_type: 'refresh_token', refresh_token: a.refresh }),
        }),
      ),
    );
    ok(await refresh(t, c, b.refresh));
  });

  test('rotation: a used refresh token is refused', async () => {
    const a = await start();
    await use(c, a.refresh);
    assertError(await refresh(t, c, a.refresh), 400, 'invalid_grant');
  });

  /**
   * Runs `fn` while the database refuses successor rows (parent_id set), as a full disk or a
   * lost connection would at the moment the successor is written.
   */
  async function refusingSuccessors(fn: () => Promise<void>): Promise<void> {
    const [create, drop] =
      testEngine() === 'postgres'
        ? [
            [
              `CREATE FUNCTION refuse_successor() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.parent_id IS NOT NULL THEN RAISE EXCEPTION 'refused'; END IF;
               RETURN NEW; END $$`,
              `CREATE TRIGGER refuse_successor BEFORE INSERT ON refresh_tokens
               FOR EACH ROW EXECUTE FUNCTION refuse_successor()`,
            ],
            ['DROP TRIGGER refuse_successor ON refresh_tokens', 'DROP FUNCTION refuse_successor()'],
          ]
        : [
            [
              `CREATE TRIGGER refuse_successor BEFORE INSERT ON refresh_tokens
               WHEN NEW.parent_id IS NOT NULL BEGIN SELECT RAISE(ABORT, 'refused'); END`,
            ],
            ['DROP TRIGGER refuse_successor'],
          ];
    for (const q of create) await t.rows(q);
    try {
      await fn();
    } finally {
      for (const q of drop) await t.rows(q);
    }
  }

  test('a successor that cannot be stored leaves the presented token unused, and it works after', async () => {
    const a = await start();
    await refusingSuccessors(async () => {
      assertError(await refresh(t, c, a.refresh), 500, 'server_error');
    });
    assert.equal((await row(a.refresh))?.rotatedAt, null);
    const b = await use(c, a.refresh);
    assert.equal((await row(b.refresh))?.parentId, (await row(a.refresh))?.id);
  });

  test('reuse of a rotated token revokes the whole family', async () => {
    const a = await start();
    const b = await use(c, a.refresh);
    const d = await use(c, b.refresh);
    // A live access token of the family, before the reuse.
    ok(await userinfo(t, d.access));
    // The reuse: a (long rotated) token comes back.
    assertError(await refresh(t, c, a.refresh), 400, 'invalid_grant');
    // The current successor is refused too…
    assertError(await refresh(t, c, d.refresh), 400, 'invalid_grant');
    // …and every access token of the family is dead at userinfo and introspection.
    for (const access of [a.access, b.access, d.access]) await assertAccessDead(access);
    // Store: every token of the family is revoked.
    for (const token of [a.refresh, b.refresh, d.refresh]) {
      const r = await row(token);
      assert.ok(r);
      assert.notEqual(r.revokedAt, null);
    }
    assert.deepEqual(bodyOf(await introspect(t, c, d.refresh)), { active: false });
  });

  test('reuse of the immediately previous token (no grace) revokes the family', async () => {
    const a = await start();
    const b = await use(c, a.refresh);
    assertError(await refresh(t, c, a.refresh), 400, 'invalid_grant');
    assertError(await refresh(t, c, b.refresh), 400, 'invalid_grant');
    await assertAccessDead(b.access);
  });

  test('reuse revokes only its own family', async () => {
    const one = await start();
    const two = await start();
    await use(c, one.refresh);
    assertError(await refresh(t, c, one.refresh), 400, 'invalid_grant');
    ok(await userinfo(t, two.access));
    ok(await refresh(t, c, two.refresh));
  });

  describe('refresh grace', () => {
    test('the old token works again while its successor is unused; that successor is then dead', async () => {
      const a = await start(grace);
      const b = await use(grace, a.refresh);
      // The client lost the response and retries with the old token.
      const b2 = await use(grace, a.refresh);
      assert.notEqual(b2.refresh, b.refresh);
      // The retry revoked the lost successor, not the family.
      assert.equal((await row(b.refresh))?.revokedAt, t.clock.now);
      ok(await userinfo(t, b2.access));
      // The replacement is a normal member of the family.
      const next = await use(grace, b2.refresh);
      ok(await userinfo(t, next.access));
    });

    test('not once the successor was used: then it is reuse and the family is revoked', async () => {
      const a = await start(grace);
      const b = await use(grace, a.refresh);
      const d = await use(grace, b.refresh);
      assertError(await refresh(t, grace, a.refresh), 400, 'invalid_grant');
      assertError(await refresh(t, grace, d.refresh), 400, 'invalid_grant');
      const res = await userinfo(t, d.access);
      assert.equal(res.statusCode, 401);
    });

    test('after a grace retry was used, the original token is reuse', async () => {
      const a = await start(grace);
      await use(grace, a.refresh);
      const b2 = await use(grace, a.refresh);
      const d = await use(grace, b2.refresh);
      assertError(await refresh(t, grace, a.refresh), 400, 'invalid_grant');
      assertError(await refresh(t, grace, d.refresh), 400, 'invalid_grant');
    });

    test('a grace retry whose replacement cannot be stored revokes nothing, and the next retry works', async () => {
      const a = await start(grace);
      const b = await use(grace, a.refresh);
      await refusingSuccessors(async () => {
        assertError(await refresh(t, grace, a.refresh), 500, 'server_error');
      });
      // The failed retry changed nothing: the unused successor is still live, the family too.
      const bRow = await row(b.refresh);
      assert.deepEqual([bRow?.rotatedAt, bRow?.revokedAt], [null, null]);
      ok(await userinfo(t, b.access));
      const b2 = await use(grace, a.refresh);
      assert.equal((await row(b.refresh))?.revokedAt, t.clock.now);
      ok(await userinfo(t, b2.access));
      ok(await refresh(t, grace, b2.refresh));
    });

    test('a stolen old token replayed within the window: the real client’s next refresh revokes the family, the thief’s chain too', async () => {
      const a = await start(grace);
      const b = await use(grace, a.refresh);
      const stolen = await use(grace, a.refresh);
      // The real client presents the successor the replay superseded: that is reuse.
      assertError(await refresh(t, grace, b.refresh), 400, 'invalid_grant');
      assertError(await refresh(t, grace, stolen.refresh), 400, 'invalid_grant');
      await assertAccessDead(stolen.access);
      assert.notEqual((await row(stolen.refresh))?.revokedAt, null);
    });

    for (const seconds of [30, 10]) {
      test(`grace ${seconds} s: the old token works up to ${seconds} s after its rotation, then it is reuse`, async () => {
        const client =
          seconds === 30
            ? grace
            : await t.client({ tenants: ['acme'], grants, refreshGrace: seconds });
        const a = await start(client);
        await use(client, a.refresh);
        // A retry does not move the window: it is counted from the old token's rotation.
        t.clock.advance(seconds);
        const b2 = await use(client, a.refresh);
        t.clock.advance(1);
        assertError(await refresh(t, client, a.refresh), 400, 'invalid_grant');
        // After the window a stolen old token is plain reuse: the whole family is revoked.
        assertError(await refresh(t, client, b2.refresh), 400, 'invalid_grant');
        await assertAccessDead(b2.access);
        assert.notEqual((await row(b2.refresh))?.revokedAt, null);
      });
    }

    test('a client without grace gets no second chance', async () => {
      const a = await start(c);
      const b = await use(c, a.refresh);
      assertError(await refresh(t, c, a.refresh), 400, 'invalid_grant');
      assertError(await refresh(t, c, b.refresh), 400, 'invalid_grant');
    });
  });

  test('a refresh token of another client → invalid_grant, and it is not consumed', async () => {
    const other = await t.client({ tenants: ['acme'], scopes: ['read', 'write'], grants });
    const a = await start(other);
    assertError(await refresh(t, c, a.refresh), 400, 'invalid_grant');
    const r = await row(a.refresh);
    assert.equal(r?.rotatedAt, null);
    assert.equal(r?.revokedAt, null);
    ok(await refresh(t, other, a.refresh));
  });

  test('an unknown refresh token → invalid_grant', async () => {
    assertError(await refresh(t, c, 'not-a-refresh-token'), 400, 'invalid_grant');
    assertError(await refresh(t, c, 'a'.repeat(43)), 400, 'invalid_grant');
  });

  test('an access token is not a refresh token', async () => {
    const a = await start();
    assertError(await refresh(t, c, a.access), 400, 'invalid_grant');
  });

  test('scope narrowing is allowed; the refresh token keeps the original scope (RFC 6749 §6)', async () => {
    const a = await start();
    const narrowed = ok(await refresh(t, c, a.refresh, { scope: 'read' }));
    assert.equal(narrowed['scope'], 'read');
    assert.equal(claims(narrowed['access_token'] as string)['scope'], 'read');
    // The next refresh may ask for the whole original grant again.
    const full = ok(
      await refresh(t, c, narrowed['refresh_token'] as string, { scope: 'read write' }),
    );
    assert.equal(full['scope'], 'read write');
    assert.equal(claims(full['access_token'] as string)['scope'], 'read write');
    // And without scope it gets the whole original grant.
    const plain = ok(await refresh(t, c, full['refresh_token'] as string));
    assert.equal(claims(plain['access_token'] as string)['scope'], 'read write');
  });

  test('scope widening → invalid_scope, and the token is not consumed', async () => {
    const a = await start(c, { scope: 'read' });
    assertError(await refresh(t, c, a.refresh, { scope: 'read write' }), 400, 'invalid_scope');
    assertError(await refresh(t, c, a.refresh, { scope: 'admin' }), 400, 'invalid_scope');
    assertError(await refresh(t, c, a.refresh, { scope: 'r\u00e9ad' }), 400, 'invalid_scope');
    const b = ok(await refresh(t, c, a.refresh));
    assert.equal(b['scope'], 'read');
  });

  test('RFC 8707 resource on refresh: the token audience is accepted, any other → invalid_target', async () => {
    const a = await start();
    assertError(
      await refresh(t, c, a.refresh, { resource: 'https://other.example.com' }),
      400,
      'invalid_target',
    );
    // The refused request did not consume the token.
    const b = pairOf(ok(await refresh(t, c, a.refresh, { resource: ISSUER })));
    assert.equal(claims(b.access)['aud'], ISSUER);
  });

  test('a client no longer bound to the tenant cannot refresh', async () => {
    await t.tenant('globex', 'globex.example.com');
    const moving = await t.client({ tenants: ['acme'], grants });
    const a = await start(moving);
    await updateClient(t.deps, moving.client_id, { tenants: ['globex'] });
    assertError(await refresh(t, moving, a.refresh), 400, 'invalid_grant');
  });

  test('a client that lost the refresh_token grant → unauthorized_client', async () => {
    const losing = await t.client({ grants });
    const a = await start(losing);
    await updateClient(t.deps, losing.client_id, { grants: ['client_credentials'] });
    assertError(await refresh(t, losing, a.refresh), 400, 'unauthorized_client');
  });
});

describe('refresh_token under concurrency', () => {
  let t: TestApp;
  let c: Creds;

  before(async () => {
    t = await createTestApp();
    c = await t.client({ scopes: ['read'], grants: ['client_credentials', 'refresh_token'] });
  });
  after(() => t.close());

  test('50 parallel uses of one refresh token: exactly one success, the rest invalid_grant, no 5xx, family dead', async () => {
    const { refresh: token } = pairOf(ok(await clientCredentials(t, c)));
    const results = await Promise.all(Array.from({ length: 50 }, () => refresh(t, c, token)));
    const statuses = results.map((r) => r.statusCode);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 400).length, 49);
    for (const r of results.filter((x) => x.statusCode === 400))
      assert.equal(bodyOf(r)['error'], 'invalid_grant');
    // The losers were reuse: the winner's successor belongs to a revoked family.
    const winner = pairOf(
      bodyOf(results.find((r) => r.statusCode === 200) as (typeof results)[number]),
    );
    assertError(await refresh(t, c, winner.refresh), 400, 'invalid_grant');
    assert.equal(bodyOf(await introspect(t, c, winner.access))['active'], false);
  });
});

describe('refresh token expiry', () => {
  let t: TestApp;
  let c: Creds;

  beforeEach(async () => {
    t = await createTestApp({ flags: { refreshTokenIdleTtl: 1000 } });
    c = await t.client({ grants: ['client_credentials', 'refresh_token'], refreshTokenTtl: 5000 });
  });
  afterEach(() => t.close());

  async function start(): Promise<Pair> {
    return pairOf(ok(await clientCredentials(t, c)));
  }

  test('absolute expiry (per-client refreshTokenTtl): rotation does not extend the family', async () => {
    let p = await start();
    // Keep it busy so it never idles out; 4 × 999 s = 3996 s.
    for (let i = 0; i < 4; i++) {
      t.clock.advance(999);
      p = pairOf(ok(await refresh(t, c, p.refresh)));
    }
    t.clock.advance(999); // 4995 s: still within 5000 s
    p = pairOf(ok(await refresh(t, c, p.refresh)));
    t.clock.advance(5); // 5000 s: the family has expired
    assertError(await refresh(t, c, p.refresh), 400, 'invalid_grant');
    // Expiry is not reuse: the token is not revoked, just dead.
    const r = await t.deps.store.findRefreshToken(t.deps.crypto.hashSecret(p.refresh));
    assert.equal(r?.revokedAt, null);
  });

  test('absolute expiry from the server default refreshTokenTtl', async () => {
    const app = await createTestApp({ flags: { refreshTokenTtl: 300 } });
    try {
      const d = await app.client({ grants: ['client_credentials', 'refresh_token'] });
      const p = pairOf(ok(await clientCredentials(app, d)));
      app.clock.advance(299);
      const q = pairOf(ok(await refresh(app, d, p.refresh)));
      app.clock.advance(1);
      assertError(await refresh(app, d, q.refresh), 400, 'invalid_grant');
    } finally {
      await app.close();
    }
  });

  test('idle expiry (refreshTokenIdleTtl): unused for that long → invalid_grant', async () => {
    const p = await start();
    t.clock.advance(1000);
    assertError(await refresh(t, c, p.refresh), 400, 'invalid_grant');
  });

  test('idle expiry: just inside the idle window works, and each use renews it', async () => {
    let p = await start();
    t.clock.advance(999);
    p = pairOf(ok(await refresh(t, c, p.refresh)));
    t.clock.advance(999);
    p = pairOf(ok(await refresh(t, c, p.refresh)));
    t.clock.advance(1000);
    assertError(await refresh(t, c, p.refresh), 400, 'invalid_grant');
  });

  test('an idle-expired token is reported inactive at introspection', async () => {
    const p = await start();
    assert.equal(bodyOf(await introspect(t, c, p.refresh))['active'], true);
    t.clock.advance(1000);
    assert.deepEqual(bodyOf(await introspect(t, c, p.refresh)), { active: false });
  });
});

/**
 * Counts the access tokens signed from here on: a signature reads the private key of the
 * key the keystore hands out once (src/tokens/access-token.ts), so every key handed out is
 * a copy that counts the reads of its private key.
 */
function countSignatures(t: TestApp): { readonly count: number } {
  const counter = { count: 0 };
  const keystore = t.deps.keystore;
  const signingKey = keystore.signingKey.bind(keystore);
  keystore.signingKey = async () => {
    const key = await signingKey();
    return Object.defineProperty({ ...key }, 'privateKey', {
      get: () => {
        counter.count++;
        return key.privateKey;
      },
    });
  };
  return counter;
}

describe('a refused refresh costs no signature', () => {
  let t: TestApp;
  let c: Creds;
  let grace: Creds;
  let signatures: { readonly count: number };
  const grants = ['client_credentials', 'refresh_token'];

  before(async () => {
    t = await createTestApp({ flags: { refreshTokenIdleTtl: 1000 } });
    c = await t.client({ scopes: ['read', 'write'], grants });
    grace = await t.client({ scopes: ['read', 'write'], grants, refreshGrace: 30 });
    signatures = countSignatures(t);
  });
  after(() => t.close());

  async function start(client: Creds = c, extra: Record<string, string> = {}): Promise<Pair> {
    return pairOf(ok(await clientCredentials(t, client, extra)));
  }

  /** Refreshes `token` for `client` and asserts the refusal and its reason; returns the signatures made. */
  async function refused(
    client: Creds,
    token: string,
    [code, description]: [string, string],
    extra: Record<string, string> = {},
  ): Promise<number> {
    const before = signatures.count;
    const body = assertError(await refresh(t, client, token, extra), 400, code);
    assert.equal(body.error_description, description);
    return signatures.count - before;
  }

  const reuse: [string, string] = [
    'invalid_grant',
    'refresh token already used; its grant has been revoked',
  ];

  test('the count sees every signature: one per issued token, retries included', async () => {
    const before = signatures.count;
    const a = await start(grace);
    const b = pairOf(ok(await refresh(t, grace, a.refresh)));
    pairOf(ok(await refresh(t, grace, a.refresh)));
    assert.notEqual(b.refresh, a.refresh);
    assert.equal(signatures.count - before, 3);
  });

  test('a revoked token', async () => {
    const a = await start();
    assert.equal((await revoke(t, c, a.refresh)).statusCode, 200);
    assert.equal(await refused(c, a.refresh, ['invalid_grant', 'refresh token revoked']), 0);
  });

  test('an idle-expired token and an absolutely expired one', async () => {
    const idle = await start();
    const short = await t.client({ grants, refreshTokenTtl: 500 });
    const absolute = await start(short);
    t.clock.advance(500);
    const expired: [string, string] = ['invalid_grant', 'refresh token expired'];
    assert.equal(await refused(short, absolute.refresh, expired), 0);
    t.clock.advance(500);
    assert.equal(await refused(c, idle.refresh, expired), 0);
  });

  test('a rotated token without grace: reuse, the family revoked and recorded', async () => {
    const a = await start();
    const b = pairOf(ok(await refresh(t, c, a.refresh)));
    assert.equal(await refused(c, a.refresh, reuse), 0);
    // The successor, revoked with its family before it was used, is reuse too.
    assert.equal(await refused(c, b.refresh, reuse), 0);
    const events = await t.rows<{ reason: string }>(
      "select reason from audit_events where type = 'refresh.reused' and client_id = ? order by id",
      c.client_id,
    );
    assert.deepEqual(
      events.map((e) => e.reason.replace(/family \S+/, 'family F')),
      [
        'rotated refresh token presented again; family F revoked',
        'superseded refresh token presented again; family F revoked',
      ],
    );
  });

  test('a token rotated outside its grace window, and the successor a grace retry superseded', async () => {
    const a = await start(grace);
    pairOf(ok(await refresh(t, grace, a.refresh)));
    t.clock.advance(31);
    assert.equal(await refused(grace, a.refresh, reuse), 0);

    const d = await start(grace);
    const e = pairOf(ok(await refresh(t, grace, d.refresh)));
    pairOf(ok(await refresh(t, grace, d.refresh)));
    assert.equal(await refused(grace, e.refresh, reuse), 0);
  });

  test("another client's token, an unknown one, a wider scope, another resource", async () => {
    const other = await t.client({ scopes: ['read', 'write'], grants });
    const theirs = await start(other);
    const invalid: [string, string] = ['invalid_grant', 'refresh token invalid'];
    assert.equal(await refused(c, theirs.refresh, invalid), 0);
    assert.equal(await refused(c, 'a'.repeat(43), invalid), 0);
    const narrow = await start(c, { scope: 'read' });
    const wider: [string, string] = ['invalid_scope', 'scope write exceeds the original grant'];
    assert.equal(await refused(c, narrow.refresh, wider, { scope: 'read write' }), 0);
    const target: [string, string] = [
      'invalid_target',
      'resource is not the audience of this grant',
    ];
    const elsewhere = { resource: 'https://other.example.com' };
    assert.equal(await refused(c, narrow.refresh, target, elsewhere), 0);
  });
});
