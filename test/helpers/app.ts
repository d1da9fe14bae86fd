import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type ClientInput, createClient } from '../../src/admin/clients.js';
import { createTenant } from '../../src/admin/tenants.js';
import { loadConfig } from '../../src/config/load.js';
import type { OptionName } from '../../src/config/options.js';
import { createLogger } from '../../src/observability/logger.js';
import { createApp } from '../../src/server/app.js';
import type { Deps } from '../../src/server/deps.js';
import { openRuntime } from '../../src/server/runtime.js';

/** A clock tests can move: seconds since the epoch. */
export class TestClock {
  constructor(public now = 1_800_000_000) {}
  readonly read = (): number => this.now;
  advance(seconds: number): void {
    this.now += seconds;
  }
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly deps: Deps;
  readonly clock: TestClock;
  readonly dir: string;
  /** Registers a client; returns its id and (for confidential clients) secret. */
  client(input: ClientInput & { clientId?: string; secret?: string; public?: boolean }): Promise<{
    client_id: string;
    client_secret: string;
  }>;
  tenant(id: string, domain?: string): Promise<void>;
  close(): Promise<void>;
}

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * An in-process Tessera on a fresh SQLite file (or `database` when given), with a clock the
 * test controls and caches off, so every store change is seen at once.
 */
export async function createTestApp(
  options: {
    flags?: Partial<Record<OptionName, unknown>>;
    database?: string;
    clock?: TestClock;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const config = loadConfig({
    env: {},
    file: false,
    flags: {
      database: options.database ?? `sqlite:${join(dir, 'tessera.db')}`,
      issuer: 'http://127.0.0.1:8080',
      masterKey: TEST_MASTER_KEY,
      clientCacheTtl: 0,
      keyCacheTtl: 0,
      logLevel: 'silent',
      ...options.flags,
    },
  });
  const clock = options.clock ?? new TestClock();
  const deps = await openRuntime(config, {
    logger: createLogger(config.logLevel),
    clock: clock.read,
  });
  const app = createApp(deps);
  await app.ready();
  return {
    app,
    deps,
    clock,
    dir,
    async client(input) {
      const view = await createClient(deps, { name: 'test client', ...input });
      return { client_id: view.client_id, client_secret: view.client_secret ?? '' };
    },
    async tenant(id, domain) {
      await createTenant(deps, id, { name: `Tenant ${id}`, domain });
    },
    async close() {
      await app.close();
      await deps.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
