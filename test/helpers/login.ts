/**
 * A live server's login flow over real HTTP, as a browser does it, for the tests that drive
 * spawned servers: a workspace seeded with one tenant, one user and one web client, and the
 * authorization form read, filled and posted.
 */
import type { Workspace } from './cli.js';
import { cookieOf, formState } from './html.js';

export interface WebApp {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly email: string;
  readonly password: string;
}

/** Tenant `acme`, user `app.email` and client `app.clientId` with the given grants (and secret, if any). */
export async function seedWebApp(
  ws: Pick<Workspace, 'json'>,
  app: WebApp,
  opts: { grants: readonly string[]; secret?: string },
): Promise<void> {
  await ws.json(['tenant', 'create', '--id', 'acme', '--name', 'Acme']);
  await ws.json(['user', 'create', '--email', app.email, '--tenant', 'acme', '--password-stdin'], {
    stdin: `${app.password}\n`,
  });
  const grants = opts.grants.flatMap((g) => ['--grant', g]);
  const secret = opts.secret === undefined ? [] : ['--secret-stdin'];
  await ws.json(
    [
      'client',
      'create',
      '--name',
      'App',
      '--client-id',
      app.clientId,
      ...grants,
      '--redirect-uri',
      app.redirectUri,
      ...secret,
    ],
    {
      ...(opts.secret !== undefined && { stdin: `${opts.secret}\n` }),
    },
  );
}

export interface LoginForm {
  /** The CSRF cookie (`name=value`) the page set. */
  readonly cookie: string;
  /** The filled form, URL-encoded. */
  readonly body: string;
}

/** GETs the authorization page and fills its form with the app's user. */
export async function loginForm(
  baseUrl: string,
  app: WebApp,
  headers: Record<string, string> = {},
): Promise<LoginForm & { page: Response }> {
  const query = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    response_type: 'code',
    state: 's',
  });
  const page = await fetch(`${baseUrl}/oauth/authorize?${query}`, {
    headers,
    signal: AbortSignal.timeout(20_000),
  });
  const html = await page.text();
  const cookie = cookieOf(page, 'tessera_csrf') ?? '';
  const body = new URLSearchParams({
    ...formState(html),
    email: app.email,
    password: app.password,
  }).toString();
  return { cookie, body, page };
}

/** Posts a filled login form; the answer is not followed (a 303 carries the code). */
export function postLogin(baseUrl: string, form: LoginForm, timeoutMs = 20_000): Promise<Response> {
  return fetch(`${baseUrl}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
    body: form.body,
  });
}
