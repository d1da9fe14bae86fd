/**
 * The `--browser` login: Debian's Chromium driven by playwright-core. playwright-core is a
 * development dependency, imported only here and only when asked for, so the CLI works
 * without it. The redirect back to the platform is intercepted, never loaded.
 */
import type { Authorizer, Outcome } from './cisco-spaces.js';
import { isTarget } from './cisco-spaces.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export class BrowserUnavailable extends Error {
  override name = 'BrowserUnavailable';
}

type Playwright = typeof import('playwright-core');

/**
 * Chromium as the platform's user. A request route cannot stop the redirect back to the
 * platform (routes see only the first request of a redirect chain), so the redirect URI's
 * host is made unresolvable for this browser (`--host-resolver-rules`) and the redirect is
 * read from the request it starts: the code never reaches the real platform.
 */
export async function chromiumAuthorizer(
  user: { email: string; password: string },
  timeoutMs: number,
  unreachableHosts: readonly string[] = [],
): Promise<Authorizer> {
  let pw: Playwright;
  try {
    pw = await import('playwright-core');
  } catch {
    throw new BrowserUnavailable(
      '--browser needs the playwright-core package (npm install playwright-core), which is not installed',
    );
  }
  const rules = unreachableHosts.map((h) => `MAP ${h} ~NOTFOUND`).join(', ');
  const browser = await pw.chromium
    .launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, ...(rules ? [`--host-resolver-rules=${rules}`] : [])],
      timeout: Math.max(timeoutMs, 30_000),
    })
    .catch((err: unknown) => {
      throw new BrowserUnavailable(
        `could not start ${CHROMIUM} (apt-get install chromium): ${(err as Error).message.split('\n')[0] ?? ''}`,
      );
    });
  const context = await browser.newContext();
  let target: URL | undefined;
  let caught: ((url: URL) => void) | undefined;
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (target !== undefined && isTarget(url, target)) caught?.(url);
  });
  return {
    async run(start, to): Promise<Outcome> {
      target = to;
      let result: URL | undefined;
      const reached = new Promise<void>((resolve) => {
        caught = (url) => {
          result ??= url;
          resolve();
        };
      });
      const page = await context.newPage();
      page.setDefaultTimeout(timeoutMs);
      page.setDefaultNavigationTimeout(timeoutMs);
      try {
        await Promise.race([
          page.goto(start.href, { waitUntil: 'domcontentloaded' }).catch((err: unknown) => {
            if (result === undefined) throw err;
          }),
          reached,
        ]);
        let signedIn = false;
        let picked = false;
        for (let step = 0; step < 10 && result === undefined; step++) {
          const login = page.locator('form:has(input[name="email"]):has(input[name="password"])');
          const picker = page.locator('form:has(input[type="radio"][name="tenant"])');
          let form;
          if ((await login.count()) > 0) {
            if (signedIn)
              return { stopped: `the login form came back after signing in as ${user.email}` };
            signedIn = true;
            form = login.first();
            await form.locator('input[name="email"]').fill(user.email);
            await form.locator('input[name="password"]').fill(user.password);
          } else if ((await picker.count()) > 0) {
            if (picked) return { stopped: 'the tenant picker came back after choosing a tenant' };
            picked = true;
            form = picker.first();
            await form.locator('input[type="radio"][name="tenant"]').first().check();
          } else {
            const here = new URL(page.url());
            return {
              stopped: `${here.origin}${here.pathname}: no login form (inputs named email and password), no tenant picker and no redirect`,
            };
          }
          await Promise.all([
            Promise.race([page.waitForEvent('domcontentloaded'), reached]),
            form
              .evaluate((f) => (f as unknown as { requestSubmit(): void }).requestSubmit())
              // The navigation may tear the page down before the call returns.
              .catch(() => undefined),
          ]);
        }
        return result === undefined
          ? { stopped: 'the browser never reached the redirect URI' }
          : { caught: result };
      } finally {
        await page.close();
      }
    },
    async close() {
      await context.close();
      await browser.close();
    },
  };
}
