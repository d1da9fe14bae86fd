/**
 * A PostgreSQL outage: while the database is down, requests that need it fail fast with 503
 * `temporarily_unavailable` (never `invalid_client`, never a hang), `/readyz` turns red and
 * `/healthz` stays green; when it comes back, service resumes without a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { type PostgresServer, findPostgresBinaries, startPostgres } from '../helpers/postgres.js';

const available = findPostgresBinaries() !== undefined;
const skip =
  !available && process.env['CI'] !== 'true' ? 'PostgreSQL binaries not installed' : false;

describe('database outage', { skip }, () => {
  let pg: PostgresServer;
  let t: TestApp;
  const ok = {
    grant_type: 'client_credentials',
    client_id: 'svc',
    client_secret: 'svc-secret-0123456789',
  };
  const token = () => t.app.inject({ method: 'POST', url: '/oauth/token', payload: ok });

  before(async () => {
    // A server of its own: stopping the run's shared one would break other test files.
    pg = await startPostgres();
    // Caches on (the test app turns them off by default), as in production.
    t = await createTestApp({
      database: pg.url,
      flags: { clientCacheTtl: 5, keyCacheTtl: 5, staleIfError: 300 },
    });
    await t.client({ clientId: 'svc', secret: ok.client_secret, grants: ['client_credentials'] });
    await t.client({
      clientId: 'cold',
      secret: 'cold-secret-0123456789',
      grants: ['client_credentials'],
    });
    assert.equal((await token()).statusCode, 200);
  });
  after(async () => {
    await t?.close().catch(() => undefined);
    pg?.stop();
  });

  test('down: a recently seen client still gets tokens from the caches, within staleIfError', async () => {
    await pg.pause();
    t.clock.advance(60); // both caches expired; the store cannot refresh them
    const res = await token();
    assert.equal(res.statusCode, 200, res.body);
    t.clock.advance(300); // past staleIfError
    assert.equal((await token()).statusCode, 503);
  });

  test('down: fast 503 temporarily_unavailable for anything needing the store, readyz red, healthz green', async () => {
    const cold = { ...ok, client_id: 'cold', client_secret: 'cold-secret-0123456789' };
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.app.inject({ method: 'POST', url: '/oauth/token', payload: cold }),
      ),
    );
    // Bounded by the pool's 5 s connection timeout, not by a hang.
    assert.ok(Date.now() - started < 10_000, 'answers within the connection timeout');
    for (const res of results) {
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().error, 'temporarily_unavailable');
      assert.equal(res.headers['retry-after'], '1');
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  test('back up: the same process serves again', async (ctx) => {
    await pg.resume();
    const resumed = Date.now();
    let status = 0;
    // The pool drops dead connections and reconnects; allow it a few tries.
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await token()).statusCode;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(status, 200);
    ctx.diagnostic(
      `first 200 ${Date.now() - resumed} ms after PostgreSQL accepted connections again`,
    );
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
