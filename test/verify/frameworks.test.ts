/**
 * The Fastify plugin and the Express middleware, each in a real server on a loopback port,
 * called over HTTP with tokens from a running Tessera. Both are held to the same wire
 * answers (status, body, `WWW-Authenticate`, `Cache-Control`), checked exactly.
 */
import assert from 'node:assert/strict';
import { type OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  type BearerVerifier,
  bearerMiddleware,
  createBearerVerifier,
  tesseraBearer,
} from '../../src/verify/index.js';
import { closeServer, tamperPayload } from '../helpers/spaces.js';
import { type Issuer, startIssuer } from './helpers.js';

const REALM = 'orders-api';

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly challenge: string | null;
  readonly cacheControl: string | null;
  readonly retryAfter: string | null;
}

/** One request with raw control of the headers (a flat name/value list may repeat one). */
function call(
  base: string,
  path: string,
  opts: { method?: string; headers?: OutgoingHttpHeaders | readonly string[]; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      // agent: false — a connection per request, closed with it: no pooled socket outlives a test.
      { method: opts.method ?? 'GET', headers: opts.headers ?? {}, timeout: 10_000, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? undefined : JSON.parse(text),
            challenge: res.headers['www-authenticate'] ?? null,
            cacheControl: res.headers['cache-control'] ?? null,
            retryAfter: res.headers['retry-after'] ?? null,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

const error = (
  status: number,
  code: string,
  description: string,
  challenge: string | null,
  retryAfter: string | null = null,
) => ({
  status,
  body: { error: code, error_description: description },
  challenge,
  cacheControl: 'no-store',
  retryAfter,
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function startFastify(v: BearerVerifier, down: BearerVerifier): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/outside', async (request) => ({ outside: true, decorated: 'tessera' in request }));
  // Only the routes of this scope are protected: the plugin joins the scope registering it.
  await app.register(async (api) => {
    await api.register(tesseraBearer, { verifier: v });
    api.get('/orders', { config: { tessera: { scopes: ['orders:read'] } } }, async (request) => ({
      client_id: request.tessera?.client_id,
      scope: request.tessera?.scope,
    }));
    api.post('/orders', { config: { tessera: { scopes: ['orders:write'] } } }, async () => ({
      created: true,
    }));
    api.get('/open', { config: { tessera: false } }, async (request) => ({
      auth: request.tessera,
    }));
  });
  await app.register(async (scope) => {
    await scope.register(tesseraBearer, { verifier: down });
    scope.get('/down', async () => ({ reached: true }));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

async function startExpress(v: BearerVerifier, down: BearerVerifier) {
  const app = express();
  app.use(express.json());
  app.get('/outside', (_req, res) => {
    res.json({ outside: true, decorated: false });
  });
  app.get('/orders', bearerMiddleware(v, { scopes: ['orders:read'] }), (req, res) => {
    res.json({ client_id: req.auth?.client_id, scope: req.auth?.scope });
  });
  app.post('/orders', bearerMiddleware(v, { scopes: ['orders:write'] }), (_req, res) => {
    res.json({ created: true });
  });
  app.get('/open', (req, res) => {
    res.json({ auth: req.auth ?? null });
  });
  app.get('/down', bearerMiddleware(down), (_req, res) => {
    res.json({ reached: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve).once('error', reject);
  });
  return server;
}

describe('Fastify plugin and Express middleware over HTTP', () => {
  let issuer: Issuer;
  let readToken: string;
  let fullToken: string;
  const bases: Record<'fastify' | 'express', string> = { fastify: '', express: '' };
  let fastify: FastifyInstance;
  let expressServer: Awaited<ReturnType<typeof startExpress>>;

  before(async () => {
    issuer = await startIssuer();
    readToken = await issuer.token('orders:read');
    fullToken = await issuer.token();
    const options = { issuer: issuer.url, audience: issuer.url, clock: issuer.t.clock.read };
    const v = createBearerVerifier({ ...options, realm: REALM });
    // One each: a failed fetch pauses that verifier's fetches (and sets its Retry-After).
    const down = () =>
      createBearerVerifier({ ...options, realm: REALM, jwksUri: `${issuer.url}/no-key-set-here` });
    fastify = await startFastify(v, down());
    bases.fastify = `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`;
    expressServer = await startExpress(v, down());
    bases.express = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    // Every server is closed even if another one fails to: one left listening would keep
    // this test process alive.
    const closing = await Promise.allSettled([
      fastify?.close(),
      expressServer && closeServer(expressServer),
    ]);
    await issuer?.close();
    for (const c of closing) if (c.status === 'rejected') throw c.reason;
  });

  for (const framework of ['fastify', 'express'] as const) {
    describe(framework, () => {
      const at = (path: string, opts?: Parameters<typeof call>[2]) =>
        call(bases[framework], path, opts);

      test('a valid token with the route scope → 200, the claims reach the handler', async () => {
        assert.deepEqual(await at('/orders', { headers: bearer(readToken) }), {
          status: 200,
          body: { client_id: issuer.client.client_id, scope: 'orders:read' },
          challenge: null,
          cacheControl: null,
          retryAfter: null,
        });
        assert.deepEqual(
          (await at('/orders', { method: 'POST', headers: bearer(fullToken) })).body,
          {
            created: true,
          },
        );
      });

      test('no Authorization → 401, bare challenge', async () => {
        assert.deepEqual(
          await at('/orders'),
          error(401, 'invalid_token', 'a bearer token is required', `Bearer realm="${REALM}"`),
        );
      });

      test('a malformed or repeated header, a query token → 400 invalid_request', async () => {
        const malformed = 'malformed Authorization header (expected Bearer <token>)';
        assert.deepEqual(
          await at('/orders', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
          error(
            400,
            'invalid_request',
            malformed,
            `Bearer realm="${REALM}", error="invalid_request", error_description="${malformed}"`,
          ),
        );
        assert.deepEqual(
          await at('/orders', {
            // The list form adds no Host header of its own; without one Node answers 400 itself.
            headers: [
              'Host',
              '127.0.0.1',
              'Authorization',
              `Bearer ${readToken}`,
              'Authorization',
              'Basic dXNlcjpwYXNz',
            ],
          }),
          error(
            400,
            'invalid_request',
            'more than one Authorization header',
            `Bearer realm="${REALM}", error="invalid_request", error_description="more than one Authorization header"`,
          ),
        );
        const both = 'the access token was sent by more than one method';
        assert.deepEqual(
          await at(`/orders?access_token=${readToken}`, { headers: bearer(readToken) }),
          error(
            400,
            'invalid_request',
            both,
            `Bearer realm="${REALM}", error="invalid_request", error_description="${both}"`,
          ),
        );
      });

      test('a forged token → 401 invalid_token', async () => {
        const description = 'the token signature is invalid';
        assert.deepEqual(
          await at('/orders', {
            headers: bearer(tamperPayload(readToken, { scope: 'orders:write' })),
          }),
          error(
            401,
            'invalid_token',
            description,
            `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`,
          ),
        );
      });

      test('a token without the route scope → 403 insufficient_scope naming it', async () => {
        const description = 'the token lacks scope orders:write';
        assert.deepEqual(
          await at('/orders', { method: 'POST', headers: bearer(readToken) }),
          error(
            403,
            'insufficient_scope',
            description,
            `Bearer realm="${REALM}", error="insufficient_scope", error_description="${description}", scope="orders:write"`,
          ),
        );
      });

      test('routes left open, or outside the protected scope, need no token', async () => {
        assert.deepEqual((await at('/open')).body, { auth: null });
        assert.equal((await at('/outside')).status, 200);
      });

      test('the issuer keys cannot be fetched → 503 temporarily_unavailable, no challenge', async () => {
        assert.deepEqual(
          await at('/down', { headers: bearer(readToken) }),
          error(
            503,
            'temporarily_unavailable',
            'the token issuer keys cannot be fetched right now',
            null,
            // The first failure of this verifier: the full default cooldown.
            '5',
          ),
        );
      });
    });
  }

  test('fastify: refused in onRequest, before the body is parsed', async () => {
    const res = await call(bases.fastify, '/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(res.status, 401);
  });

  test('fastify: the decorator stays in the protected scope', async () => {
    assert.deepEqual((await call(bases.fastify, '/outside')).body, {
      outside: true,
      decorated: false,
    });
  });

  test('fastify: registering without a verifier fails at startup', async () => {
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(tesseraBearer, {} as { verifier: BearerVerifier });
      await app.ready();
    }, /tesseraBearer needs \{ verifier/);
    await app.close();
  });

  test('a scope name that cannot go into a challenge is refused when it is configured', async () => {
    const v = createBearerVerifier({ issuer: issuer.url, audience: issuer.url });
    assert.throws(() => bearerMiddleware(v, { scopes: ['orders read'] }), TypeError);
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(async (api) => {
        await api.register(tesseraBearer, { verifier: v });
        api.get('/x', { config: { tessera: { scopes: ['say "hi"'] } } }, async () => ({}));
      });
      await app.ready();
    }, /GET \/x config.tessera.scopes: "say "hi"" is not a valid scope name/);
  });

  test('express: a token in a parsed JSON body → 400', async () => {
    const res = await call(bases.express, '/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(fullToken) },
      body: JSON.stringify({ access_token: fullToken }),
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_request',
      error_description: 'the access token was sent by more than one method',
    });
  });
});
