import { randomUUID } from 'node:crypto';

/**
 * UUIDv7 (RFC 9562 §5.7) with a 12-bit counter in `rand_a` (§6.2, method 1): ids made by one
 * process sort in the order they were made. When more than 4,096 ids fall in one millisecond,
 * the embedded time runs ahead by a millisecond, as §6.2 allows.
 *
 * Two uses. The audit trail lists events of one millisecond (ordered by `at`, then `id`) as
 * they happened, while `at` stays the clock's own reading. Refresh token rows get ids that
 * sort by time, so each new row, and its `parent_id`, lands at the right-hand end of its
 * index: with random ids, every rotation dirtied a random leaf page of the primary-key and
 * parent indexes, each written to SQLite's WAL and checkpointed again (docs/performance.md).
 */
export class MonotonicUuid {
  private lastMs = 0;
  private counter = 0;

  next(nowMs: number): string {
    if (nowMs > this.lastMs) {
      this.lastMs = nowMs;
      this.counter = 0;
    } else if (++this.counter > 0xfff) {
      this.lastMs += 1;
      this.counter = 0;
    }
    const time = this.lastMs.toString(16).padStart(12, '0');
    // randomUUID's last two groups: 62 random bits with the RFC variant already set.
    const random = randomUUID().slice(19);
    return `${time.slice(0, 8)}-${time.slice(8)}-7${this.counter.toString(16).padStart(3, '0')}-${random}`;
  }
}
