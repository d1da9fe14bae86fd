import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CheckPhaseQueue } from '../src/tokens/check-phase-queue.js';

// The queue ES256 and EdDSA access tokens are signed in and every access token is verified in
// (src/tokens/access-token.ts, docs/performance.md).
describe('CheckPhaseQueue', () => {
  test('work runs in the check phase, first come first served, before any of its continuations', async () => {
    const queue = new CheckPhaseQueue(5);
    const log: string[] = [];
    setImmediate(() => log.push('immediate queued before'));
    const runs = [1, 2, 3].map((n) =>
      queue
        .run(() => {
          log.push(`work ${n}`);
          return n * 10;
        })
        .then((value) => log.push(`after ${n}: ${value}`)),
    );
    log.push('caller goes on');
    await Promise.all(runs);
    assert.deepEqual(log, [
      'caller goes on',
      'immediate queued before',
      'work 1',
      'work 2',
      'work 3',
      'after 1: 10',
      'after 2: 20',
      'after 3: 30',
    ]);
  });

  /** Three tasks, the first of which queues an immediate; what ran in which order. */
  async function threeTasks(queue: CheckPhaseQueue): Promise<string[]> {
    const log: string[] = [];
    const runs = [1, 2, 3].map((n) =>
      queue.run(() => {
        log.push(`work ${n}`);
        if (n === 1) setImmediate(() => log.push('immediate queued by work 1'));
      }),
    );
    await Promise.all(runs);
    await new Promise(setImmediate);
    return log;
  }

  test('a slice ends once it has run sliceMs, and the event loop goes round before the next', async () => {
    let clock = 0;
    // Each reading of the clock is 3 ms later: the slice of 5 ms ends after its second task.
    const log = await threeTasks(new CheckPhaseQueue(5, () => (clock += 3)));
    assert.deepEqual(log, ['work 1', 'work 2', 'immediate queued by work 1', 'work 3']);
  });

  test('without a bound the whole queue runs in one go', async () => {
    const log = await threeTasks(new CheckPhaseQueue(Number.POSITIVE_INFINITY));
    assert.deepEqual(log, ['work 1', 'work 2', 'work 3', 'immediate queued by work 1']);
  });

  test('work that throws rejects its own promise only', async () => {
    const queue = new CheckPhaseQueue(5);
    const results = await Promise.allSettled([
      queue.run(() => 'first'),
      queue.run(() => {
        throw new Error('bad key');
      }),
      queue.run(() => 'third'),
    ]);
    assert.deepEqual(results, [
      { status: 'fulfilled', value: 'first' },
      { status: 'rejected', reason: new Error('bad key') },
      { status: 'fulfilled', value: 'third' },
    ]);
  });

  test('work queued after a drain, or by a continuation, is run too', async () => {
    let clock = 0;
    const queue = new CheckPhaseQueue(5, () => (clock += 1));
    const done: number[] = [];
    // 100 tasks over several slices, then one more queued by the last one's continuation.
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => queue.run(() => i).then((v) => done.push(v))),
    );
    done.push(await queue.run(() => 100));
    assert.deepEqual(
      done,
      Array.from({ length: 101 }, (_, i) => i),
    );
  });
});
