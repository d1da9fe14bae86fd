import type { FastifyServerOptions } from 'fastify';
import type { Config } from '../config/options.js';

/**
 * HSTS for a year, sent when the issuer is https (over TLS here or at a proxy in front, which
 * passes it on). No `includeSubDomains`: the issuer's parent domain is the operator's to pin,
 * not Tessera's. Never on an http issuer: a browser would pin a development host to https.
 */
const HSTS = 'max-age=31536000';

/** Headers every answer carries, whatever answers it (the app, or the startup listener). */
export function everyResponseHeaders(issuer: string): Readonly<Record<string, string>> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(issuer.startsWith('https:') && { 'strict-transport-security': HSTS }),
  };
}

/** RFC 6749 §5.1: answers must not be cached (unless a route chose a policy of its own). */
export const NO_STORE: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
};

/**
 * `trustProxy` in Fastify's terms. A hop count becomes a function: Fastify 5.12 ignores a
 * number (trusting nobody), and `true` would trust every hop, making the left-most
 * `X-Forwarded-For` entry, which the client writes, its address.
 */
export function fastifyTrustProxy(
  setting: Config['trustProxy'],
): NonNullable<FastifyServerOptions['trustProxy']> {
  if (setting === false) return false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return [...setting];
}
