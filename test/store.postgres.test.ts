/**
 * PostgreSQL-only behaviour of the store that the engine-neutral contract cannot express:
 * surviving the server closing pooled connections (restart, failover, idle timeout).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { forEachEngine } from './helpers/engines.js';

async function terminateConnections(database: string): Promise<number> {
  const admin = new pg.Client({ connectionString: process.env.TESSERA_TEST_PG_URL });
  await admin.connect();
  try {
    // With a timeout, pg_terminate_backend waits until each backend has exited.
    const result = await admin.query<{ pid: number; terminated: boolean }>(
      `select pid, pg_terminate_backend(pid, 5000) as terminated
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [database],
    );
    assert.ok(result.rows.every((r) => r.terminated));
    return result.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

forEachEngine(
  'store on a server that drops connections',
  (t) => {
    it('keeps working after the server closes its idle pooled connections', async () => {
      const { store, url } = t();
      // Several concurrent calls leave several idle connections in the pool.
      await Promise.all(Array.from({ length: 5 }, () => store.ping()));
      const killed = await terminateConnections(new URL(url).pathname.slice(1));
      assert.ok(killed >= 1, `expected idle store connections to terminate, found ${killed}`);

      // A call may still pick a dead connection before its error event has been read; the
      // pool then discards it. What must not happen is an uncaught 'error' (the process would
      // die) or a store that stays broken.
      let lastError: unknown = new Error('not tried');
      for (let attempt = 0; attempt < 10 && lastError !== undefined; attempt++) {
        try {
          await store.ping();
          lastError = undefined;
        } catch (err) {
          lastError = err;
          await sleep(20);
        }
      }
      assert.equal(lastError, undefined);

      await store.createTenant({
        id: 'after-restart',
        name: 'After',
        domain: null,
        appUrl: null,
        supportEmail: null,
        createdAt: 1,
      });
      assert.equal((await store.getTenant('after-restart'))?.name, 'After');
    });
  },
  { only: ['postgres'] },
);
