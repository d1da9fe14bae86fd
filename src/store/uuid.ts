import { v7 } from 'uuid';

/**
 * A UUIDv7 (RFC 9562 §5.7): ids made by one process sort in the order they were made, even
 * many in one millisecond. `uuid`'s v7 keeps a counter after the time (§6.2, method 1, seeded
 * at random each millisecond) and, should it overflow or the wall clock step back, runs the
 * embedded time ahead rather than back. Called without options on purpose: given `msecs`, it
 * keeps no state, and ids of one millisecond would be in random order.
 *
 * Two uses. The audit trail lists events of one millisecond (ordered by `at`, then `id`) as
 * they happened, while `at` stays the clock's own reading. Refresh token rows get ids that
 * sort by time, so each new row, and its `parent_id`, lands at the right-hand end of its
 * index: with random ids, every rotation dirtied a random leaf page of the primary-key and
 * parent indexes, each written to SQLite's WAL and checkpointed again (docs/performance.md).
 */
export function timeOrderedId(): string {
  return v7();
}
