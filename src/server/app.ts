import cookie from '@fastify/cookie';
import { registerAdminApi } from '../admin/api.js';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import { type ErrorBody, installErrorHandler } from '../http/errors.js';
import { BODY_LIMIT, registerRawBody } from '../http/params.js';
import { authorizeGet, authorizePost, logoutEndpoint } from '../oauth/authorize/endpoint.js';
import { endSessionEndpoint } from '../oauth/authorize/end-session.js';
import { ACCOUNT_PATHS } from '../oauth/account/links.js';
import { MailWorker, smtpTransport } from '../oauth/account/mailer.js';
import { forgotGet, forgotPost, setPasswordGet, setPasswordPost } from '../oauth/account/pages.js';
import { BackchannelLogoutWorker } from '../oauth/backchannel-logout.js';
import { introspectionEndpoint } from '../oauth/introspect.js';
import { openIdMetadata, serverMetadata } from '../oauth/metadata.js';
import { revocationEndpoint } from '../oauth/revoke.js';
import { tokenEndpoint } from '../oauth/token/endpoint.js';
import { userinfoEndpoint } from '../oauth/userinfo.js';
import { OPENAPI_PATH, openApiDocument } from '../openapi/document.js';
import { appInfoEndpoint } from '../spaces/app-info.js';
import { BRANDING_PATHS } from '../branding/service.js';
import { logoAsset, styleAsset } from '../branding/assets.js';
import { launchEndpoint } from '../spaces/launch.js';
import { STYLESHEET, STYLESHEET_PATH } from '../views/pages.js';
import type { Deps } from './deps.js';
import { NO_STORE, everyResponseHeaders, fastifyTrustProxy } from '../http/headers.js';
import { httpTimeouts } from './timeouts.js';

/**
 * The routes a person's browser opens: they answer HTML (errors included), here and in the
 * startup listener (starting.ts), which must know them before the app exists.
 */
export const PAGE_PATHS = {
  authorize: '/oauth/authorize',
  logout: '/oauth/logout',
  endSession: '/oauth/end-session',
  launch: '/spaces/launch',
  ...ACCOUNT_PATHS,
} as const;

export interface AppOptions {
  /** Passed to Fastify, e.g. a `serverFactory` that hands over an already-listening server. */
  readonly fastify?: Pick<FastifyServerOptions, 'serverFactory'>;
  /** True once the node is going away: `/readyz` answers 503 so load balancers drain it. */
  readonly draining?: () => boolean;
}

/** Builds the HTTP application. No I/O happens here; `listen` (or `inject`) starts it. */
export function createApp(deps: Deps, options: AppOptions = {}): FastifyInstance {
  const timeouts = httpTimeouts(deps.config);
  const always = everyResponseHeaders(deps.config.issuer);
  const app = Fastify({
    ...options.fastify,
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    trustProxy: fastifyTrustProxy(deps.config.trustProxy),
    requestIdHeader: 'x-request-id',
    // Used when Fastify makes the server itself (`app.listen`, tests); `tessera serve` binds
    // its own server with the same limits (listen.ts). Fastify sets no headers timeout.
    keepAliveTimeout: timeouts.keepAliveTimeout,
    requestTimeout: timeouts.requestTimeout,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    // A URL the router refuses before any route runs (percent-encoding that is not UTF-8, a
    // path segment over 100 characters) gets Tessera's error body, not Fastify's echo of
    // the path. No hook runs for these replies, so the usual headers are set here.
    frameworkErrors: (err, request, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const body: ErrorBody = {
        error: 'invalid_request',
        error_description: tooLong ? 'a path segment is too long' : 'malformed URL',
      };
      // Fastify types these replies by the factory's generics, which name no status codes.
      void (reply as unknown as FastifyReply)
        .code(tooLong ? 414 : 400)
        .headers({ ...NO_STORE, ...always, 'x-request-id': request.id })
        .send(body);
    },
  }) as unknown as FastifyInstance;

  registerRawBody(app);
  installErrorHandler(app, deps.metrics);
  // Run beside the routes, never in a request: they live and stop with the app.
  const workers = [
    new BackchannelLogoutWorker(deps),
    ...(deps.config.smtpUrl === undefined
      ? []
      : [new MailWorker(deps, smtpTransport(deps.config.smtpUrl))]),
  ];
  app.addHook('onReady', (done) => {
    for (const w of workers) w.start();
    done();
  });
  app.addHook('onClose', async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });

  // Both hooks take a callback rather than being async: an async onSend hook defers the
  // write to a later microtask, and the handler's `await reply.send()` then waits for the
  // response's 'finish' event instead of going on at once: more work on every request, the
  // token endpoint's hot path included (bench/results/history.md).
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // RFC 6749 §5.1: token responses (and every other answer here) must not be cached,
    // unless a route chose a policy of its own (the public JWKS and metadata).
    if (!reply.hasHeader('cache-control')) reply.headers(NO_STORE);
    reply.headers(always);
    // At once, so the answer is written within `reply.send()`. Deferring writes to the check
    // phase, to send a poll turn's answers back to back, saved CPU only where the load
    // generator shares the machine; every real client would pay the extra loop turn.
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL, so labels stay a closed set.
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ route, method: request.method, status: reply.statusCode });
    deps.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    done();
  });
  if (deps.config.metricsPort === undefined) {
    app.get('/metrics', async (_req, reply) => {
      await reply
        .type(deps.metrics.registry.contentType)
        .send(await deps.metrics.registry.metrics());
    });
  }

  app.get('/.well-known/oauth-authorization-server', async (_req, reply) => {
    await reply.header('cache-control', 'public, max-age=300').send(serverMetadata(deps.config));
  });
  app.get('/.well-known/openid-configuration', async (_req, reply) => {
    await reply.header('cache-control', 'public, max-age=300').send(openIdMetadata(deps.config));
  });
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    await reply
      .header('cache-control', 'public, max-age=300')
      .type('application/jwk-set+json')
      .send(JSON.stringify(await deps.keystore.jwks()));
  });

  // Built once per app from its config (issuer, aliases, dialects), not per request.
  const openapi = JSON.stringify(openApiDocument(deps.config));
  app.get(OPENAPI_PATH, async (_req, reply) => {
    await reply
      .header('cache-control', 'public, max-age=300')
      .type('application/json; charset=utf-8')
      .send(openapi);
  });

  // Only the pages with a login session read or set cookies: the cookie plugin's onRequest
  // hook runs for the routes in this scope alone, not for every token request.
  void app.register(async (pages) => {
    await pages.register(cookie);
    pages.get(PAGE_PATHS.authorize, (req, reply) => authorizeGet(deps, req, reply));
    pages.post(PAGE_PATHS.authorize, (req, reply) => authorizePost(deps, req, reply));
    pages.post(PAGE_PATHS.logout, (req, reply) => logoutEndpoint(deps, req, reply));
    pages.get(PAGE_PATHS.endSession, (req, reply) => endSessionEndpoint(deps, req, reply));
    pages.post(PAGE_PATHS.endSession, (req, reply) => endSessionEndpoint(deps, req, reply));
    pages.post(PAGE_PATHS.launch, (req, reply) => launchEndpoint(deps, req, reply));
    pages.get(PAGE_PATHS.forgot, (req, reply) => forgotGet(deps, req, reply));
    pages.post(PAGE_PATHS.forgot, (req, reply) => forgotPost(deps, req, reply));
    for (const purpose of ['setup', 'reset'] as const) {
      pages.get(PAGE_PATHS[purpose], (req, reply) => setPasswordGet(deps, purpose, req, reply));
      pages.post(PAGE_PATHS[purpose], (req, reply) => setPasswordPost(deps, purpose, req, reply));
    }
  });
  app.get(STYLESHEET_PATH, async (_req, reply) => {
    await reply
      .header('cache-control', 'public, max-age=86400')
      .type('text/css; charset=utf-8')
      .send(STYLESHEET);
  });
  app.get(BRANDING_PATHS.logoRoute, (req, reply) => logoAsset(deps.store, req, reply));
  app.get(BRANDING_PATHS.styleRoute, (req, reply) => styleAsset(deps.store, req, reply));

  for (const path of ['/oauth/token', ...deps.config.tokenEndpointAliases]) {
    app.post(path, (req, reply) => tokenEndpoint(deps, req, reply));
  }
  app.post('/oauth/revoke', (req, reply) => revocationEndpoint(deps, req, reply));
  app.post('/oauth/introspect', (req, reply) => introspectionEndpoint(deps, req, reply));
  app.get('/oauth/userinfo', (req, reply) => userinfoEndpoint(deps, req, reply));
  app.post('/oauth/userinfo', (req, reply) => userinfoEndpoint(deps, req, reply));

  app.get('/spaces/app-info', (req, reply) => appInfoEndpoint(deps, req, reply));

  registerAdminApi(app, deps);

  app.get('/healthz', async (_req, reply) => {
    await reply.send({ status: 'ok' });
  });
  app.get('/readyz', async (_req, reply) => {
    if (options.draining?.()) {
      const body: ErrorBody = {
        error: 'temporarily_unavailable',
        error_description: 'the node is shutting down',
      };
      await reply.code(503).send(body);
      return;
    }
    await deps.store.ping();
    await reply.send({ status: 'ready' });
  });
  return app;
}
