import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/options.js';
import { createApp } from './app.js';
import type { Deps } from './deps.js';

/** Creates the (TLS) server and binds it, before the app exists, so port 0 can resolve the issuer. */
export async function bind(
  config: Pick<Config, 'host' | 'port' | 'tlsCert' | 'tlsKey'>,
): Promise<Server> {
  const server =
    config.tlsCert && config.tlsKey
      ? createHttpsServer({ cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) })
      : createHttpServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server as Server;
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** Attaches the app to an already-listening server. */
export async function attach(server: Server, deps: Deps): Promise<FastifyInstance> {
  const app = createApp(deps, {
    fastify: {
      serverFactory: (handler) => {
        server.on('request', handler);
        return server;
      },
    },
  });
  await app.ready();
  return app;
}

/**
 * `/metrics` on a port of its own (`metricsPort`), so it can stay off the public listener.
 * With `--workers`, each scrape reaches one worker and shows that worker's counters.
 */
export async function serveMetrics(deps: Deps, host: string, port: number): Promise<Server> {
  const server = createHttpServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    deps.metrics.registry
      .metrics()
      .then((text) =>
        res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(text),
      )
      .catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
