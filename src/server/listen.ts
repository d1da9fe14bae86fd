import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/options.js';
import { createApp } from './app.js';
import { type Timeouts, httpTimeouts } from './timeouts.js';
import type { Deps } from './deps.js';

/** Creates the (TLS) server and binds it, before the app exists, so port 0 can resolve the issuer. */
export async function bind(
  config: Pick<Config, 'host' | 'port' | 'tlsCert' | 'tlsKey'> & Timeouts,
): Promise<Server> {
  // This server is handed to Fastify ready-made, so its timeouts are set here.
  const timeouts = httpTimeouts(config);
  const server =
    config.tlsCert && config.tlsKey
      ? createHttpsServer({
          ...timeouts,
          cert: readFileSync(config.tlsCert),
          key: readFileSync(config.tlsKey),
        })
      : createHttpServer(timeouts);
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
  // Once draining, every answer tells the client not to reuse the connection. A callback
  // hook, not an async one, for the reason given in createApp.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!server.listening) reply.header('connection', 'close');
    done(null, payload);
  });
  await app.ready();
  return app;
}

/**
 * Graceful stop: stop accepting connections but, unlike `http.Server.close` (which since
 * Node 19 destroys idle keep-alive connections at once, resetting a request the client has
 * just written on one), let every open connection finish: requests in flight complete,
 * requests arriving on a kept-alive connection are still served (with `Connection: close`),
 * and idle connections end at their keep-alive timeout. After `timeoutMs` the rest is cut.
 */
export function drain(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    timer.unref();
    NetServer.prototype.close.call(server, () => {
      clearTimeout(timer);
      resolve();
    });
  });
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
