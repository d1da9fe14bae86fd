import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listAudit } from '../../src/admin/audit.js';
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
    // Within the (test) clock's second: events of one instant get distinct, ordered milliseconds.
    const offset = Date.parse(event?.at ?? '') - t.clock.now * 1000;
    assert.ok(offset >= 0 && offset < 1000, `at ${event?.at}`);
    assert.ok(!JSON.stringify(await listAudit(t.deps, {})).includes('wrong-secret-123'));
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
