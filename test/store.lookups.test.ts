/**
 * Store behaviour that differed between the engines until the PostgreSQL pass of the HTTP
 * suite showed it: untrusted lookup keys with a NUL byte, and the order of signing keys
 * created in the same second.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachEngine } from './helpers/engines.js';

const T0 = 1_800_000_000;

forEachEngine('store lookups', (current) => {
  it('finds nothing (and does not fail) for a client, user or tenant key with a NUL byte', async () => {
    const { store } = current();
    await store.createTenant({
      id: 't1',
      name: 'T1',
      domain: 't1.example',
      appUrl: null,
      supportEmail: null,
      createdAt: T0,
    });
    // PostgreSQL refuses such a parameter (22021); the request path would answer 500.
    assert.equal(await store.getClient('\0'), undefined);
    assert.equal(await store.getClient('client\0'), undefined);
    assert.equal(await store.getUserByEmail('a\0@example.com'), undefined);
    assert.equal(await store.getUser('\0'), undefined);
    assert.equal(await store.getTenant('t1\0'), undefined);
    assert.equal(await store.findTenant('t1.example\0'), undefined);
    assert.equal((await store.findTenant('t1.example'))?.id, 't1');
  });

  it('lists keys of the same second with the retired one first, the same on every engine', async () => {
    const { store } = current();
    const key = (kid: string, publishUntil: number | null) => ({
      kid,
      alg: 'RS256',
      publicJwk: '{}',
      privateKey: 'sealed',
      createdAt: T0,
      activatesAt: T0,
      publishUntil,
      purpose: 'access' as const,
    });
    // `key rotate --now` in the second the first key was made: the successor's kid may sort
    // either side of its predecessor's.
    await store.insertSigningKey(key('b-old', null));
    await store.insertSigningKey(key('a-new', null));
    await store.retireSigningKeys('a-new', T0, T0 + 3600);
    assert.deepEqual(
      (await store.listSigningKeys()).map((k) => k.kid),
      ['b-old', 'a-new'],
    );
    // Two unretired keys of the same second (first start of several nodes at once): by kid.
    await store.insertSigningKey(key('0-other', null));
    assert.deepEqual(
      (await store.listSigningKeys()).map((k) => k.kid),
      ['b-old', '0-other', 'a-new'],
    );
  });
});
