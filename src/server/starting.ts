import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ErrorBody } from '../http/errors.js';
import { messages as m } from '../views/messages/index.js';
import { errorPage } from '../views/pages.js';
import { PAGE_HEADERS } from '../views/send.js';
import { PAGE_PATHS } from './app.js';
import { NO_STORE, everyResponseHeaders } from '../http/headers.js';

const PAGES: ReadonlySet<string> = new Set(Object.values(PAGE_PATHS));

const CODE = 'temporarily_unavailable';

/**
 * What the bound port answers until the app is ready (DESIGN §3): `/healthz` 200, since the
 * process is alive (a liveness probe must not kill it during a long migration); everything
 * else 503 `temporarily_unavailable` with `Retry-After`: an HTML page on the browser routes,
 * RFC 6749 JSON elsewhere (`/readyz` included). Without it a request reaching the port before
 * the app is attached would find no listener and never be answered.
 */
export function startingListener(issuer: string): RequestListener {
  const common = { ...everyResponseHeaders(issuer), ...NO_STORE };
  const json = (res: ServerResponse, status: number, body: object, extra = {}) =>
    res
      .writeHead(status, { ...common, ...extra, 'content-type': 'application/json; charset=utf-8' })
      .end(JSON.stringify(body));
  const page = errorPage({ title: m.unavailableTitle, code: CODE, message: m.unavailableMessage });
  return (req: IncomingMessage, res: ServerResponse) => {
    // The body is not needed; reading it lets the connection be reused.
    req.resume();
    // As the app routes it: without the query, a trailing slash ignored.
    const path = (req.url ?? '/').split('?')[0]?.replace(/(.)\/$/, '$1');
    if (req.method === 'GET' && path === '/healthz') {
      json(res, 200, { status: 'ok' });
      return;
    }
    if (path !== undefined && PAGES.has(path)) {
      res.writeHead(503, { ...common, ...PAGE_HEADERS, 'retry-after': '1' }).end(page);
      return;
    }
    const body: ErrorBody = {
      error: CODE,
      error_description: 'the server is starting; retry shortly',
    };
    json(res, 503, body, { 'retry-after': '1' });
  };
}
