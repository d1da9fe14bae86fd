import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';

// Answers are written in the event loop's check phase, so the answers to every request read in
// one poll turn leave back to back (src/server/app.ts, docs/performance.md).
describe('response writes', () => {
  let t: TestApp;
  const seen: { atSend?: boolean; beforeWrite?: boolean; afterWrite?: boolean } = {};

  before(async () => {
    t = await createTestApp({
      routes: (app) =>
        app.get('/test/write-timing', (_request, reply) => {
          // Queued before the answer: runs in the same check phase, ahead of its write.
          setImmediate(() => (seen.beforeWrite = reply.raw.writableEnded));
          void reply.send({ ok: true });
          seen.atSend = reply.raw.writableEnded;
          // Queued after: runs once the write has been made.
          setImmediate(() => (seen.afterWrite = reply.raw.writableEnded));
          return reply;
        }),
    });
  });
  after(() => t.close());

  test('reply.send() leaves the write to the check phase, in the order the answers were made', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/write-timing' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { ok: true });
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    await new Promise(setImmediate);
    assert.deepEqual(seen, { atSend: false, beforeWrite: false, afterWrite: true });
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
