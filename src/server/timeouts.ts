import type { Config } from '../config/options.js';

export type Timeouts = Pick<Config, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout'>;

/**
 * node:http options that keep a slow or stalled client from holding a connection: headers
 * within `headersTimeout`, the whole request within `requestTimeout` (both answered 408 and
 * closed), an idle kept-alive connection closed after `keepAliveTimeout`. Node enforces the
 * first two only when it sweeps its connections, every 30 s by default: a check every second
 * (or sooner for sub-second limits) keeps the enforced limit close to the configured one.
 */
export function httpTimeouts(config: Timeouts): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  const headersTimeout = Math.round(config.headersTimeout * 1000);
  return {
    headersTimeout,
    requestTimeout: Math.round(config.requestTimeout * 1000),
    keepAliveTimeout: Math.round(config.keepAliveTimeout * 1000),
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.round(headersTimeout / 4))),
  };
}
