/**
 * Express / Connect middleware, typed against `node:http` so that Express is not a
 * dependency: it works with anything that calls `(req, res, next)` with Node's request and
 * response objects. On success `req.auth` holds the claims; refusals are answered here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BearerError, type BearerErrorBody, KeySetUnavailableError, scopeList } from './errors.js';
import type { BearerVerifier, TesseraAccessTokenClaims } from './verifier.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types `req` through this global namespace; merging `auth` in is how its middleware add properties
  namespace Express {
    interface Request {
      /** Set by Tessera's `bearerMiddleware`: the verified access token's claims. */
      auth?: TesseraAccessTokenClaims;
    }
  }
}

export type NextFunction = (err?: unknown) => void;

export interface BearerMiddlewareOptions {
  /** Scopes the routes behind this middleware need, beyond the verifier's `requiredScopes`. */
  readonly scopes?: readonly string[];
}

export type BearerMiddleware = (
  req: IncomingMessage & { auth?: TesseraAccessTokenClaims },
  res: ServerResponse,
  next: NextFunction,
) => void;

function answer(
  res: ServerResponse,
  status: number,
  body: BearerErrorBody,
  headers: Record<string, string>,
): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

export function bearerMiddleware(
  verifier: BearerVerifier,
  options: BearerMiddlewareOptions = {},
): BearerMiddleware {
  const scopes = scopeList('bearerMiddleware scopes', options.scopes);
  return (req, res, next) => {
    // Not an async function: Connect (and Express 4) ignore a returned promise, so every
    // outcome is settled here and a rejection can never go unhandled.
    verifier.verifyRequest(req, { scopes }).then(
      (claims) => {
        req.auth = claims;
        next();
      },
      (err: unknown) => {
        if (res.headersSent) next(err);
        else if (err instanceof BearerError)
          answer(res, err.status, err.body, { 'www-authenticate': err.wwwAuthenticate });
        else if (err instanceof KeySetUnavailableError)
          answer(res, err.status, err.body, { 'retry-after': String(err.retryAfter) });
        else next(err);
      },
    );
  };
}
