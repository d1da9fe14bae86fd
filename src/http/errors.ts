import type { FastifyError, FastifyInstance } from 'fastify';
import { InvalidRequest, OAuthError, ServerError, TemporarilyUnavailable } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { isStoreUnavailable } from '../store/unavailable.js';

/** RFC 6749 §5.2 error body. */
export interface ErrorBody {
  readonly error: string;
  readonly error_description: string;
}

/**
 * The one function that turns any thrown value into an OAuth error. Framework errors for
 * malformed requests (bad JSON, body too large, bad content length) become `invalid_request`;
 * a store that cannot be reached becomes 503 `temporarily_unavailable`; anything else is a
 * `server_error` whose cause is logged but never shown.
 */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (isStoreUnavailable(err)) {
    const e = new TemporarilyUnavailable('the service is temporarily unavailable; retry shortly');
    e.headers['retry-after'] = '1';
    return e;
  }
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new InvalidRequest(
      status === 413 ? 'request body too large (16 KiB at most)' : 'malformed request',
    );
  }
  return new ServerError('internal error');
}

export function installErrorHandler(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler(async (err, request, reply) => {
    const oauth = toOAuthError(err);
    if (oauth instanceof TemporarilyUnavailable) metrics.storeErrors.inc();
    if (oauth instanceof ServerError || oauth instanceof TemporarilyUnavailable) {
      request.log.error({ err }, 'request failed');
    } else {
      request.log.info({ error: oauth.code, reason: oauth.description }, 'request refused');
    }
    const body: ErrorBody = { error: oauth.code, error_description: oauth.description };
    await reply.code(oauth.status).headers(oauth.headers).send(body);
  });
  app.setNotFoundHandler(async (_request, reply) => {
    await reply.code(404).send({ error: 'not_found', error_description: 'no such endpoint' });
  });
}
