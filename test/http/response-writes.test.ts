import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';

// An answer is written as soon as it is made, within `reply.send()`: no turn of the event loop
// stands between the handler's answer and its write (src/server/app.ts).
describe('response writes', () => {
  let t: TestApp;
  const seen: { atSend?: boolean; nextCheckPhase?: boolean } = {};

  before(async () => {
    t = await createTestApp({
      routes: (app) =>
        app.get('/test/write-timing', (_request, reply) => {
          // Queued before the answer is made: the write must not wait for it.
          setImmediate(() => (seen.nextCheckPhase = reply.raw.writableEnded));
          void reply.send({ ok: true });
          seen.atSend = reply.raw.writableEnded;
          return reply;
        }),
    });
  });
  after(() => t.close());

  test('reply.send() writes the answer at once, with no extra turn of the event loop', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/write-timing' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ok: true });
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    await new Promise(setImmediate);
    assert.deepEqual(seen, { atSend: true, nextCheckPhase: true });
  });

  test('a token answer still carries every header once written', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials' },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers.pragma, 'no-cache');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.match(String(res.headers['x-request-id']), /./);
  });
});
