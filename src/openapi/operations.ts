/** Health, readiness, metrics and this document. */
import type { Config } from '../config/options.js';
import {
  type Area,
  STORE_FAILURES,
  cached,
  json,
  object,
  ok,
  operation,
  ref,
  text,
} from './build.js';

export const OPENAPI_PATH = '/openapi.json';

export function operationsArea(config: Pick<Config, 'host' | 'metricsPort'>): Area {
  const metrics = operation({
    id: 'metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    responses: {
      '200': ok('The exposition text.', text('text/plain')),
    },
  });
  const paths = {
    '/healthz': {
      get: operation({
        id: 'healthz',
        tag: 'operations',
        summary: 'Liveness',
        responses: { '200': ok('The process serves requests.', json(ref('Health'))) },
      }),
    },
    '/readyz': {
      get: operation({
        id: 'readyz',
        tag: 'operations',
        summary: 'Readiness: the database is reachable',
        responses: { '200': ok('Ready.', json(ref('Ready'))), ...STORE_FAILURES },
      }),
    },
    // With `metricsPort` the main listener does not serve /metrics; a listener of its own on
    // that port (same host) does, and a path-level `servers` says so.
    '/metrics':
      config.metricsPort === undefined
        ? { get: metrics }
        : {
            servers: [
              {
                url: `http://{host}:${config.metricsPort}`,
                description: 'The metrics listener (`metricsPort`), not the main one.',
                variables: { host: { default: config.host } },
              },
            ],
            get: metrics,
          },
    [OPENAPI_PATH]: {
      get: operation({
        id: 'openapi',
        tag: 'operations',
        summary: 'This document',
        responses: {
          '200': cached(
            'OpenAPI 3.1.',
            300,
            json({ type: 'object', required: ['openapi', 'info', 'paths'] }),
          ),
        },
      }),
    },
  };
  return {
    paths,
    components: {
      schemas: {
        Health: object({ status: { const: 'ok' } }),
        Ready: object({ status: { const: 'ready' } }),
      },
    },
  };
}
