import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics, on a registry of this server's own (no global default registry, so
 * two apps in one process — as in tests — never share counters).
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'tessera_http_requests_total',
    help: 'HTTP requests by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP request latency by route.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly tokenRequests = new Counter({
    name: 'tessera_token_requests_total',
    help: 'Token endpoint requests by grant type, dialect and outcome (issued, or the OAuth error code).',
    labelNames: ['grant_type', 'dialect', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'tessera_logins_total',
    help: 'Sign-ins at the authorization endpoint by outcome (succeeded, failed, locked).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly mails = new Counter({
    name: 'tessera_account_mails_total',
    help: 'Account mail attempts by purpose (setup, reset) and outcome (sent, failed: retried, dropped: no enabled account).',
    labelNames: ['purpose', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly throttled = new Counter({
    name: 'tessera_throttled_total',
    help: 'Keys that went over a failure limit, by kind (client_auth, login, forgot_password).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly storeErrors = new Counter({
    name: 'tessera_store_unavailable_total',
    help: 'Requests answered 503 because the database could not be reached.',
    registers: [this.registry],
  });

  constructor(
    opts: {
      signingKeyAge?: () => Promise<number | undefined>;
      poolStats?: () => { total: number; idle: number; waiting: number } | undefined;
    } = {},
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' });
    const pool = opts.poolStats;
    if (pool) {
      new Gauge({
        name: 'tessera_db_pool_connections',
        help: 'Database pool connections by state (total, idle, waiting clients); PostgreSQL only.',
        labelNames: ['state'] as const,
        registers: [this.registry],
        collect() {
          const stats = pool();
          if (!stats) return;
          this.set({ state: 'total' }, stats.total);
          this.set({ state: 'idle' }, stats.idle);
          this.set({ state: 'waiting' }, stats.waiting);
        },
      });
    }
    const age = opts.signingKeyAge;
    if (age) {
      new Gauge({
        name: 'tessera_signing_key_age_seconds',
        help: 'Seconds since the current signing key started signing.',
        registers: [this.registry],
        async collect() {
          const seconds = await age();
          if (seconds !== undefined) this.set(seconds);
        },
      });
    }
  }
}
