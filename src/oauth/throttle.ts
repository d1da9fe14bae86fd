import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Store } from '../store/store.js';

/**
 * Keys quote caller input (a client id, an email): hashed, they have a fixed size and hold no
 * byte a database refuses (PostgreSQL text cannot hold NUL).
 */
function storedKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

export interface ThrottleRule {
  readonly key: string;
  readonly limit: number;
  /**
   * Makes the rule soft: a failure at or over the limit blocks the key for 1 s, doubling with
   * each further failure, capped at `maxWait` s from now, instead of until the window ends.
   * Many callers together then slow a key down without keeping it shut.
   */
  readonly maxWait?: number;
}

/**
 * Failure throttling shared by every node. Failures are counted in the store (one upsert per
 * key, on the failure path only), and a key found over its limit is also remembered here until
 * its window ends, so refusing a throttled caller — and letting a good one through — never
 * reads the store. A node that has not yet seen a failure for a key learns of the shared count
 * at that key's next failure, so spreading attempts over N nodes buys at most N extra tries.
 *
 * Memory is bounded by least-recently-used eviction: a flood of new blocked keys pushes out
 * the keys tried least recently, not the ones being tried. A key pushed out costs one try that
 * is evaluated, whose failure reads the shared count again and blocks it anew.
 */
export class Throttle {
  /** Key → when its block ends, on the injected clock (lru-cache's own TTL would not use it). */
  private readonly blocked: LRUCache<string, number>;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly window: number,
    maxEntries = 100_000,
  ) {
    this.blocked = new LRUCache({ max: maxEntries });
  }

  /** Seconds until none of `keys` is blocked (0: go ahead). Local only. */
  retryAfter(keys: readonly string[]): number {
    return this.waitAt(keys, this.clock());
  }

  private waitAt(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const until = this.blocked.get(key);
      if (until === undefined) continue;
      if (until <= now) this.blocked.delete(key);
      else wait = Math.max(wait, until - now);
    }
    return wait;
  }

  /** Counts a failure against each rule's key; returns seconds to wait if any is now over its limit. */
  async fail(rules: readonly ThrottleRule[]): Promise<number> {
    const at = this.clock();
    const counts = await Promise.all(
      rules.map((r) => this.store.recordFailure(storedKey(r.key), at, this.window)),
    );
    // A soft wait runs from the answer, not from before the store write: a slow write (or a
    // second boundary crossed during it) must not use up a 1 s wait before it is told.
    const now = this.clock();
    rules.forEach((rule, i) => {
      const c = counts[i];
      if (c && c.count >= rule.limit) {
        this.blocked.set(
          rule.key,
          rule.maxWait === undefined
            ? c.windowStart + this.window
            : now + Math.min(2 ** (c.count - rule.limit), rule.maxWait),
        );
      }
    });
    return this.waitAt(
      rules.map((r) => r.key),
      now,
    );
  }
}
