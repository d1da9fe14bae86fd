import { LRUCache } from 'lru-cache';
import type { Client, Store } from '../store/store.js';
import { isStoreUnavailable } from '../store/unavailable.js';

interface Entry {
  readonly client: Client | undefined;
  /** On the injected clock (seconds): lru-cache's own TTL would read `performance.now`. */
  readonly until: number;
}

/**
 * Clients cached per node for `ttl` seconds, so a warm client_credentials request reads
 * nothing from the store. The TTL is the documented bound on how long a deleted client or a
 * rotated-out secret keeps working on a node that has it cached. While the store is
 * unreachable an expired entry is still served for `staleIfError` seconds past its expiry:
 * no change to the client can be made then anyway, so it is as fresh as the store.
 *
 * Memory is bounded by least-recently-used eviction, with ids the store does not know kept
 * apart: a flood of random client ids then evicts only other unknown ids, never a real client.
 */
export class ClientCache {
  private readonly known: LRUCache<string, Entry>;
  private readonly unknown: LRUCache<string, Entry>;

  constructor(
    private readonly store: Store,
    private readonly ttl: number,
    private readonly clock: () => number,
    private readonly staleIfError = 0,
    /** Entries kept of each kind, known and unknown ids. */
    maxEntries = 10_000,
  ) {
    this.known = new LRUCache({ max: maxEntries });
    this.unknown = new LRUCache({ max: maxEntries });
  }

  async get(id: string): Promise<Client | undefined> {
    const now = this.clock();
    const hit = this.known.get(id) ?? this.unknown.get(id);
    if (hit && hit.until > now) return hit.client;
    let client: Client | undefined;
    try {
      client = await this.store.getClient(id);
    } catch (err) {
      if (hit && isStoreUnavailable(err) && now - hit.until < this.staleIfError) return hit.client;
      throw err;
    }
    if (this.ttl > 0) {
      const [into, outOf] = client ? [this.known, this.unknown] : [this.unknown, this.known];
      outOf.delete(id);
      into.set(id, { client, until: now + this.ttl });
    }
    return client;
  }
}
