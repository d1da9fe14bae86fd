import type { Client, Store } from '../store/store.js';
import { isStoreUnavailable } from '../store/unavailable.js';

/**
 * Clients cached per node for `ttl` seconds, so a warm client_credentials request reads
 * nothing from the store. The TTL is the documented bound on how long a deleted client or a
 * rotated-out secret keeps working on a node that has it cached. While the store is
 * unreachable an expired entry is still served for `staleIfError` seconds past its expiry:
 * no change to the client can be made then anyway, so it is as fresh as the store.
 */
export class ClientCache {
  private readonly entries = new Map<string, { client: Client | undefined; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly ttl: number,
    private readonly clock: () => number,
    private readonly staleIfError = 0,
    /** Bounds memory under a flood of random client ids. */
    private readonly maxEntries = 10_000,
  ) {}

  async get(id: string): Promise<Client | undefined> {
    const now = this.clock();
    const hit = this.entries.get(id);
    if (hit && hit.until > now) return hit.client;
    let client: Client | undefined;
    try {
      client = await this.store.getClient(id);
    } catch (err) {
      if (hit && isStoreUnavailable(err) && now - hit.until < this.staleIfError) return hit.client;
      throw err;
    }
    if (this.ttl > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(id, { client, until: now + this.ttl });
    }
    return client;
  }
}
