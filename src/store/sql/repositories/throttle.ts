import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/**
 * One statement: starts a new window (count 1) when the stored one began `window` seconds
 * ago or more, else adds one; returns the count and the window's start. Concurrent callers
 * on any node each see a distinct count.
 */
export async function recordFailure(
  db: Kysely<Database>,
  key: string,
  now: number,
  window: number,
): Promise<{ count: number; windowStart: number }> {
  const row = await db
    .insertInto('throttle_counters')
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        const expired = eb('throttle_counters.window_start', '<=', now - window);
        return {
          count: eb
            .case()
            .when(expired)
            .then(1)
            .else(eb('throttle_counters.count', '+', 1))
            .end(),
          window_start: eb
            .case()
            .when(expired)
            .then(now)
            .else(eb.ref('throttle_counters.window_start'))
            .end(),
        };
      }),
    )
    .returning(['count', 'window_start'])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), windowStart: Number(row.window_start) };
}
