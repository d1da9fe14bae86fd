/**
 * A browser for the tests that drive a listening Tessera's pages: `fetch` with a cookie jar,
 * redirects not followed, forms posted URL-encoded.
 */
import assert from 'node:assert/strict';
import { formState, inputs } from './html.js';
import { CookieJar } from './spaces.js';

export interface Answer {
  readonly status: number;
  readonly location: URL | undefined;
  readonly body: string;
}

export class Browser {
  jar = new CookieJar();
  /** `headers` go with every request (e.g. an `X-Forwarded-For` behind a trusted proxy). */
  constructor(
    private readonly base: string,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  private async send(url: string, init: RequestInit): Promise<Answer> {
    const target = new URL(url, this.base);
    const cookie = this.jar.header(target.pathname);
    const res = await fetch(target, {
      ...init,
      redirect: 'manual',
      headers: {
        ...this.headers,
        ...(init.headers as Record<string, string>),
        ...(cookie && { cookie }),
      },
    });
    this.jar.absorb({ headers: { 'set-cookie': res.headers.getSetCookie() } });
    const location = res.headers.get('location');
    return {
      status: res.status,
      location: location === null ? undefined : new URL(location),
      body: await res.text(),
    };
  }

  get(url: string): Promise<Answer> {
    return this.send(url, { method: 'GET' });
  }

  post(form: Record<string, string>, path = '/oauth/authorize'): Promise<Answer> {
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }
}

export const isLoginPage = (a: Answer): boolean =>
  a.status === 200 && inputs(a.body).some((i) => i['name'] === 'password');

/** The 303's target; fails on anything else. */
export function redirected(a: Answer): URL {
  assert.equal(a.status, 303, `expected a 303, got ${a.status}: ${a.body.slice(0, 300)}`);
  assert.ok(a.location);
  return a.location;
}

/** GETs the authorization URL and posts the login form when one is shown; the page after it. */
export async function logInAt(
  browser: Browser,
  url: URL | string,
  who: { email: string; password: string },
): Promise<Answer> {
  const page = await browser.get(url.toString());
  if (!isLoginPage(page)) return page;
  return browser.post({ ...formState(page.body), email: who.email, password: who.password });
}
