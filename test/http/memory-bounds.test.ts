/**
 * The per-node memories a caller can fill with ids of their choosing — the client cache and
 * the throttle's blocked keys — are bounded without forgetting what is in use: a flood of
 * random ids evicts other random ids, not every real client or every block at once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Throttle } from '../../src/oauth/throttle.js';
import { ClientCache } from '../../src/oauth/client-cache.js';
import { type TestApp, createTestApp } from '../helpers/app.js';

describe('bounded per-node memory', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp();
    await t.client({
      clientId: 'real',
      secret: 'real-secret-0123456789',
      grants: ['client_credentials'],
    });
  });
  after(() => t.close());

  test('a flood of 10,000+ unknown client ids leaves a real client cached', async () => {
    const reads = new Map<string, number>();
    const store = {
      ...t.deps.store,
      getClient: (id: string) => {
        reads.set(id, (reads.get(id) ?? 0) + 1);
        return t.deps.store.getClient(id);
      },
    };
    const cache = new ClientCache(store, 60, t.clock.read);
    assert.equal((await cache.get('real'))?.id, 'real');
    const flood = Array.from({ length: 10_001 }, () => randomUUID());
    for (const id of flood) assert.equal(await cache.get(id), undefined);

    assert.equal((await cache.get('real'))?.id, 'real');
    assert.equal(reads.get('real'), 1, 'the real client is still served from the cache');
    await cache.get(flood[0] as string);
    assert.equal(reads.get(flood[0] as string), 2, 'the unknown ids themselves are bounded');
  });

  test('a key blocked and still being tried stays blocked through a flood of other blocks', async () => {
    const throttle = new Throttle(t.deps.store, t.clock.read, 600, 100);
    const victim = { key: `flood-victim-${randomUUID()}`, limit: 1 };
    assert.equal(await throttle.fail([victim]), 600);
    const others = Array.from({ length: 300 }, () => ({ key: `flood-${randomUUID()}`, limit: 1 }));
    for (const [i, rule] of others.entries()) {
      assert.equal(await throttle.fail([rule]), 600);
      if (i % 50 === 49) assert.ok(throttle.retryAfter([victim.key]) > 0, `blocked after ${i + 1}`);
    }
    assert.ok(throttle.retryAfter([victim.key]) > 0);

    const first = others[0] as { key: string; limit: number };
    assert.equal(throttle.retryAfter([first.key]), 0, 'a block nobody tried fell out');
    assert.equal(await throttle.fail([first]), 600, 'its next failure blocks it again');
  });
});
