import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';

/** A client_credentials request from a given address (inject's `remoteAddress` is the IP). */
function attempt(t: TestApp, ip: string, clientId: string, secret: string) {
  return t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    remoteAddress: ip,
    payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
  });
}

describe('failed client authentication is throttled per (client_id, IP) and per IP', () => {
  let t: TestApp;
  let secret: string;
  const ATTACKER = '203.0.113.7';
  const PLATFORM = '198.51.100.20';

  before(async () => {
    t = await createTestApp({
      flags: { clientAuthFailureLimit: 3, clientAuthIpFailureLimit: 6, throttleWindow: 600 },
    });
    ({ client_secret: secret } = await t.client({
      clientId: 'dnaspaces',
      secret: '31e08c21136c9102cdee',
      grants: ['client_credentials'],
    }));
    await t.client({
      clientId: 'other',
      secret: 'other-secret-0123456789',
      grants: ['client_credentials'],
    });
  });
  after(() => t.close());

  test('failures below the limit are plain 401s; the limit-th adds Retry-After', async () => {
    for (let i = 1; i <= 2; i++) {
      const res = await attempt(t, ATTACKER, 'dnaspaces', 'wrong-secret');
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'invalid_client');
      assert.equal(res.headers['retry-after'], undefined);
    }
    const third = await attempt(t, ATTACKER, 'dnaspaces', 'wrong-secret');
    assert.equal(third.statusCode, 401);
    assert.equal(third.json().error, 'invalid_client');
    assert.equal(third.headers['retry-after'], '600');
  });

  test('once throttled, even the right secret from that address is refused, unevaluated', async () => {
    const res = await attempt(t, ATTACKER, 'dnaspaces', secret);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error, 'invalid_client');
    assert.ok(Number(res.headers['retry-after']) > 0);
  });

  test('the same client from another address is not locked out', async () => {
    const res = await attempt(t, PLATFORM, 'dnaspaces', secret);
    assert.equal(res.statusCode, 200);
    assert.equal(typeof res.json().access_token, 'string');
  });

  test('failures across client ids count per IP', async () => {
    const ip = '192.0.2.99';
    const statuses: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await attempt(t, ip, `unknown-${i}`, 'nope-nope-nope');
      statuses.push(res.headers['retry-after'] as string | undefined);
    }
    assert.deepEqual(statuses.slice(0, 5), [undefined, undefined, undefined, undefined, undefined]);
    assert.equal(statuses[5], '600');
    const good = await attempt(t, ip, 'other', 'other-secret-0123456789');
    assert.equal(good.statusCode, 401);
    assert.equal((await attempt(t, PLATFORM, 'other', 'other-secret-0123456789')).statusCode, 200);
  });

  test('the window ends and the address may try again', async () => {
    t.clock.advance(601);
    const res = await attempt(t, ATTACKER, 'dnaspaces', secret);
    assert.equal(res.statusCode, 200);
  });
});
