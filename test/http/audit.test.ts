import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listAudit } from '../../src/admin/audit.js';
import { AuditTrail } from '../../src/observability/audit.js';
import { timeOrderedId } from '../../src/store/uuid.js';
import { rotateSecret } from '../../src/admin/clients.js';
import { type TestApp, createTestApp } from '../helpers/app.js';

function token(t: TestApp, params: Record<string, string>, ip = '203.0.113.5') {
  return t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    remoteAddress: ip,
    headers: { 'x-request-id': 'req-42' },
    payload: params,
  });
}

describe('audit trail', () => {
  let t: TestApp;
  const secret = 'bp-secret-0123456789abcdef';

  before(async () => {
    t = await createTestApp({ flags: { clientAuthFailureLimit: 2 } });
    await t.tenant('acme', 'acme.example.com');
    await t.client({ clientId: 'bp', secret, dialect: 'setu', tenants: ['acme'] });
  });
  after(() => t.close());

  test('a refused token request is recorded at once with its exact reason, and no secret', async () => {
    const res = await token(t, {
      grant_type: 'client_credentials',
      client_id: 'bp',
      client_secret: 'wrong-secret-123',
    });
    assert.equal(res.statusCode, 401);
    const [event, ...rest] = await listAudit(t.deps, { type: 'token.refused' });
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...event, at: undefined },
      {
        at: undefined,
        type: 'token.refused',
        tenant_id: null,
        client_id: 'bp',
        user_id: null,
        ip: '203.0.113.5',
        request_id: 'req-42',
        reason: 'invalid_client: client authentication failed',
      },
    );
    // The (test) clock's own reading: a busy trail never moves event times off the clock.
    assert.equal(event?.at, new Date(t.clock.now * 1000).toISOString());
    assert.ok(!JSON.stringify(await listAudit(t.deps, {})).includes('wrong-secret-123'));
  });

  test("a caller's x-request-id is kept to 128 characters, as the other quoted fields are", async () => {
    const long = 'r'.repeat(1000);
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      remoteAddress: '203.0.113.77',
      headers: { 'x-request-id': long },
      payload: { grant_type: 'client_credentials' },
    });
    assert.equal(res.statusCode, 401);
    const events = (await listAudit(t.deps, { type: 'token.refused' })).filter(
      (e) => e.ip === '203.0.113.77',
    );
    assert.deepEqual(
      events.map((e) => e.request_id),
      [long.slice(0, 128)],
    );
  });

  test('the failure that crosses the limit records client.throttled', async () => {
    await token(t, {
      grant_type: 'client_credentials',
      client_id: 'bp',
      client_secret: 'wrong-secret-123',
    });
    const throttled = await listAudit(t.deps, { type: 'client.throttled' });
    assert.equal(throttled.length, 1);
    assert.equal(throttled[0]?.client_id, 'bp');
    assert.match(throttled[0]?.reason ?? '', /refused for \d+ s/);
  });

  test('issued tokens are recorded in batches; reuse of a refresh token immediately', async () => {
    const ok = await token(
      t,
      { grant_type: 'client_credentials', client_id: 'bp', client_secret: secret },
      '198.51.100.1',
    );
    assert.equal(ok.statusCode, 200);
    const refresh = ok.json().refreshToken as string;
    await t.deps.audit.flush();
    const issued = await listAudit(t.deps, { type: 'token.issued' });
    assert.deepEqual(
      issued.map((e) => [e.client_id, e.tenant_id, e.reason]),
      [['bp', 'acme', 'grant_type=client_credentials']],
    );
    const params = {
      grant_type: 'refresh_token',
      client_id: 'bp',
      client_secret: secret,
      refresh_token: refresh,
    };
    assert.equal((await token(t, params, '198.51.100.1')).statusCode, 200);
    assert.equal((await token(t, params, '198.51.100.1')).statusCode, 400);
    const reused = await listAudit(t.deps, { type: 'refresh.reused' });
    assert.equal(reused.length, 1);
    assert.equal(reused[0]?.tenant_id, 'acme');
  });

  test('management changes are recorded, and the list filters by client and time', async () => {
    await rotateSecret(t.deps, 'bp', { graceSeconds: 60 });
    const rotated = await listAudit(t.deps, { type: 'client.secret_rotated', client: 'bp' });
    assert.deepEqual(
      rotated.map((e) => e.reason),
      ['previous secret valid for 60 s'],
    );
    assert.deepEqual(
      (await listAudit(t.deps, { client: 'nobody' })).map((e) => e.type),
      [],
    );
    const created = await listAudit(t.deps, { type: 'client.created' });
    assert.deepEqual(
      created.map((e) => e.client_id),
      ['bp'],
    );
    t.clock.advance(10);
    const later = new Date(t.clock.now * 1000).toISOString();
    assert.deepEqual(await listAudit(t.deps, { since: later }), []);
  });
});

describe('audit times and order', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test("events far above 1,000 a second keep the clock's time and list in the order made", async () => {
    const now = 1_800_000_000_123;
    const trail = new AuditTrail(t.deps.store, t.deps.logger, { now: () => now });
    const made = Array.from({ length: 5000 }, (_, i) => `req-${i}`);
    for (const requestId of made) trail.enqueue({ type: 'token.issued', clientId: 'c', requestId });
    // Full batches (100) are written as they fill; flush waits for those too.
    await trail.flush();
    const events = await t.deps.store.listAuditEvents({ type: 'token.issued', limit: 10_000 });
    assert.equal(events.length, made.length);
    assert.ok(
      events.every((e) => e.at === now),
      "every event at the clock's millisecond",
    );
    assert.deepEqual(
      events.map((e) => e.requestId),
      made,
    );
  });

  test('ids are RFC 9562 version 7 UUIDs carrying the time, sorting in the order made', () => {
    const start = Date.now();
    // A tight loop: thousands of ids share each millisecond.
    const made = Array.from({ length: 10_000 }, () => timeOrderedId());
    const end = Date.now();
    for (const id of made)
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    assert.ok(ms(made[0] as string) >= start && ms(made.at(-1) as string) <= end);
    assert.ok(new Set(made.map(ms)).size < made.length, 'many ids share a millisecond');
    assert.deepEqual([...made].sort(), made);
    assert.equal(new Set(made).size, made.length);
  });
});
