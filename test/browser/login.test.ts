/**
 * The login page in a real browser (Debian's Chromium through playwright-core): a listening
 * Tessera, a client whose redirect URI is a local catcher, the login form filled and posted,
 * the tenant picked, and the code and exact `state` arriving at the catcher — which also
 * proves the CSP does not block the redirect that follows the form post. A second
 * authorization in the same browser skips the password.
 *
 * Without /usr/bin/chromium the suite is skipped, except with CI=true, where it fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { createUser } from '../../src/admin/users.js';
import { CHROMIUM, CHROMIUM_ARGS as ARGS } from '../../src/simulate/browser.js';
import type { TestApp } from '../helpers/app.js';
import {
  type Catcher,
  codeOf,
  formTokenRequest,
  startCatcher,
  startListeningApp,
} from '../helpers/spaces.js';
import { requirement } from '../helpers/requirement.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

const needsChromium = requirement(
  existsSync(CHROMIUM),
  `${CHROMIUM} is not installed (apt-get install chromium)`,
);

describe('login in a real browser', { skip: needsChromium.skip, timeout: 120_000 }, () => {
  let t: TestApp & { url: string };
  let catcher: Catcher;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const CLIENT = { id: 'browser-app', secret: 'browser-app-secret-0123456789' };
  const alice = { email: 'alice@acme.example', password: 'alice-password-1' };

  before(async () => {
    needsChromium.check();
    catcher = await startCatcher();
    t = await startListeningApp();
    await t.tenant('acme');
    await t.tenant('globex');
    await createUser(t.deps, { ...alice, tenants: ['acme', 'globex'] });
    await t.client({
      clientId: CLIENT.id,
      secret: CLIENT.secret,
      name: 'Browser app',
      grants: ['authorization_code'],
      redirectUris: [catcher.redirectUri],
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
    await catcher?.close();
  });

  function authorizeUrl(state: string): string {
    const q = new URLSearchParams({
      client_id: CLIENT.id,
      redirect_uri: catcher.redirectUri,
      response_type: 'code',
      state,
    });
    return `${t.url}/oauth/authorize?${q.toString()}`;
  }

  /** Picks `tenant` on the picker the page shows and returns what the catcher received. */
  async function pickTenant(tenant: string): Promise<URL> {
    await page.waitForSelector('input[name=tenant]');
    await page.check(`input[name=tenant][value="${tenant}"]`);
    const caught = catcher.next();
    await page.click('button[type=submit]');
    // Bounded by the page timeout: a blocked redirect fails here instead of hanging.
    await page.waitForURL((u) => u.href.startsWith(catcher.redirectUri));
    return caught;
  }

  test('log in, pick a tenant: the catcher receives the code and the exact state', async () => {
    const state = randomBytes(16).toString('hex');
    const response = await page.goto(authorizeUrl(state));
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('input[name=email]').count(), 1);
    assert.equal(await page.locator('input[name=password]').count(), 1);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'login.png'), fullPage: true });

    await page.fill('input[name=email]', alice.email);
    await page.fill('input[name=password]', alice.password);
    await page.click('button[type=submit]');
    const received = await pickTenant('globex');

    assert.equal(received.searchParams.get('state'), state);
    assert.equal(received.searchParams.get('iss'), t.url);
    const code = codeOf(received);
    assert.deepEqual(
      catcher.received.map((u) => u.href),
      [received.href],
    );

    const cookie = (await context.cookies(t.url)).find((c) => c.name === 'tessera_session');
    assert.ok(cookie, 'the browser holds the session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');

    const token = await formTokenRequest(t, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: catcher.redirectUri,
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
    });
    assert.equal(token.statusCode, 200, token.body);
  });

  test('a second authorization in the same browser skips the password', async () => {
    const state = randomBytes(16).toString('hex');
    const response = await page.goto(authorizeUrl(state));
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('input[name=password]').count(), 0, 'no password asked');
    const received = await pickTenant('acme');
    assert.equal(received.searchParams.get('state'), state);
    assert.equal(received.searchParams.get('iss'), t.url);
    codeOf(received);
    assert.equal(catcher.received.length, 2);
  });
});
