/**
 * Fastify plugin: every route in the scope it is registered in needs a valid Tessera access
 * token; the claims land on `request.tessera`. Per route, `config: { tessera: { scopes } }`
 * asks for more scopes and `config: { tessera: false }` leaves the route open.
 *
 * The plugin skips Fastify's encapsulation (`skip-override`, as fastify-plugin does), so its
 * hook and decorator belong to the scope that registers it, not to a private child scope
 * that would hold no routes. To protect only some routes, register it inside a plugin of
 * your own together with those routes.
 */
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { BearerError, KeySetUnavailableError, scopeList } from './errors.js';
import type { BearerVerifier, TesseraAccessTokenClaims } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token's claims; `null` on a route that `tesseraBearer` leaves open. */
    tessera: TesseraAccessTokenClaims | null;
  }
  interface FastifyContextConfig {
    /** `tesseraBearer`: scopes this route needs beyond the verifier's, or `false` for none. */
    tessera?: { readonly scopes?: readonly string[] } | false;
  }
}

export interface TesseraBearerOptions {
  readonly verifier: BearerVerifier;
}

/** Sends the RFC 6750 answer for a refusal; anything else is left to Fastify's error handler. */
export function sendBearerError(reply: FastifyReply, err: unknown): FastifyReply | undefined {
  if (err instanceof BearerError) {
    return reply
      .code(err.status)
      .header('www-authenticate', err.wwwAuthenticate)
      .header('cache-control', 'no-store')
      .send(err.body);
  }
  if (err instanceof KeySetUnavailableError) {
    reply.log.warn({ err }, 'tessera bearer: the issuer key set is unavailable');
    return reply
      .code(err.status)
      .header('retry-after', String(err.retryAfter))
      .header('cache-control', 'no-store')
      .send(err.body);
  }
  return undefined;
}

function plugin(
  fastify: Parameters<FastifyPluginCallback<TesseraBearerOptions>>[0],
  opts: TesseraBearerOptions,
  done: (err?: Error) => void,
): void {
  const { verifier } = opts;
  if (!verifier || typeof verifier.verifyRequest !== 'function') {
    done(new TypeError('tesseraBearer needs { verifier: createBearerVerifier(…) }'));
    return;
  }
  // A nested registration (a stricter verifier inside a protected scope) reuses the decorator.
  if (!fastify.hasRequestDecorator('tessera')) fastify.decorateRequest('tessera', null);
  // A bad scope name fails when the route is declared, not on its first request.
  fastify.addHook('onRoute', (route) => {
    const config = route.config?.tessera;
    if (config) scopeList(`${route.method} ${route.url} config.tessera.scopes`, config.scopes);
  });
  // onRequest: refuse before the body is read or parsed.
  fastify.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.config.tessera;
    if (route === false) return;
    try {
      request.tessera = await verifier.verifyRequest(request.raw, { scopes: route?.scopes });
    } catch (err) {
      const sent = sendBearerError(reply, err);
      if (sent) return sent;
      throw err;
    }
  });
  done();
}

export const tesseraBearer: FastifyPluginCallback<TesseraBearerOptions> = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'tessera-bearer',
});
