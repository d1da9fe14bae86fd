import { readFileSync } from 'node:fs';
import { type RequestListener, createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/options.js';
import { createApp } from './app.js';
import { type Timeouts, httpTimeouts } from './timeouts.js';
import type { Deps } from './deps.js';
import { startingListener } from './starting.js';

/**
 * Creates the (TLS) server, not yet listening. Until `attach` hands it the app, it answers
 * every request with the startup answers (starting.ts), so whenever it is made to listen, no
 * request that reaches the port goes unanswered.
 */
export function createServer(
  config: Pick<Config, 'tlsCert' | 'tlsKey' | 'issuer'> & Timeouts,
): Server {
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
  server.on('request', startingListener(config.issuer));
  return server as Server;
}

export async function listen(server: Server, config: Pick<Config, 'host' | 'port'>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/**
 * Attaches the app to the server (listening or not) once the app is ready, in place of the
 * startup answers. `draining()` turns `/readyz` to 503 (the SIGTERM grace).
 */
export async function attach(
  server: Server,
  deps: Deps,
  draining: () => boolean,
): Promise<FastifyInstance> {
  let handler: RequestListener | undefined;
  const app = createApp(deps, {
    fastify: {
      serverFactory: (h) => {
        handler = h;
        return server;
      },
    },
    draining,
  });
  // Once draining, every answer tells the client not to reuse the connection. A callback
  // hook, not an async one, for the reason given in createApp.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!server.listening) reply.header('connection', 'close');
    done(null, payload);
  });
  await app.ready();
  if (!handler) throw new Error('Fastify did not call its serverFactory');
  // Swapped in one synchronous step: each request is answered by exactly one of the two.
  server.removeAllListeners('request');
  server.on('request', handler);
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
  await listen(server, { host, port });
  return server;
}
