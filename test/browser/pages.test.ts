/**
 * The pages in a real browser (Debian's Chromium through playwright-core), with branding:
 * the full activation with a tenant pick, a wrong password, a lockout, a configuration
 * mismatch, session reuse, an expired form, RP-Initiated Logout's pages, a phone viewport and
 * keyboard-only completion.
 * axe-core runs on every page and must find no serious or critical violation; each page is
 * saved as a screenshot under test-results/pages/ (git-ignored).
 *
 * Without /usr/bin/chromium the suite is skipped, except with CI=true, where it fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { updateClient } from '../../src/admin/clients.js';
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
import { type AxeRuns, axeCheck, fitsWidth } from '../helpers/axe.js';

const needsChromium = requirement(
  existsSync(CHROMIUM),
  `${CHROMIUM} is not installed (apt-get install chromium)`,
);

/** A small "T" mark, the client's uploaded logo. */
const LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" viewBox="0 0 40 40">' +
    '<rect width="40" height="40" rx="9" fill="#5b2a9e"/>' +
    '<path d="M10 11h20v5h-7.5v14h-5V16H10z" fill="#fff"/></svg>',
);

describe('pages in a real browser', { skip: needsChromium.skip, timeout: 180_000 }, () => {
  let t: TestApp & { url: string };
  let catcher: Catcher;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** How many violations of any impact axe reported per page (proves it ran). */
  const axeRuns: AxeRuns = [];
  const CLIENT = { id: 'pages-app', secret: 'pages-app-secret-0123456789' };
  const CONSENT_CLIENT = 'pages-consent-app';
  const REDIRECT = () => catcher.redirectUri;
  const alice = { email: 'alice@acme.example', password: 'alice-password-1' };
  const carol = { email: 'carol@acme.example', password: 'carol-password-1' };
  const dave = { email: 'dave@acme.example', password: 'dave-password-1' };
  const erin = { email: 'erin@acme.example', password: 'erin-password-1' };

  before(async () => {
    needsChromium.check();
    catcher = await startCatcher();
    t = await startListeningApp({ flags: { loginFailureLimit: 2 } });
    await t.tenant('acme');
    await t.tenant('globex');
    for (const u of [alice, carol, dave, erin])
      await createUser(t.deps, { ...u, tenants: ['acme', 'globex'] });
    await t.client({
      clientId: CLIENT.id,
      secret: CLIENT.secret,
      name: 'Floor Insights',
      grants: ['authorization_code'],
      redirectUris: [catcher.redirectUri],
    });
    await updateClient(t.deps, CLIENT.id, {
      branding: {
        name: 'Acme Workplace',
        color: '#5b2a9e',
        logo: LOGO,
        supportUrl: 'mailto:help@acme.example',
      },
    });
    await t.client({
      clientId: CONSENT_CLIENT,
      secret: CLIENT.secret,
      name: 'Partner Planner',
      grants: ['authorization_code'],
      redirectUris: [catcher.redirectUri],
      tenants: ['acme'],
      scopes: ['calendar.read'],
      consent: true,
      branding: { name: 'Acme Workplace', color: '#5b2a9e' },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    assert.ok(axeRuns.length >= 8, `axe ran on every page: ${JSON.stringify(axeRuns)}`);
    for (const c of contexts) await c.close();
    await browser?.close();
    await t?.close();
    await catcher?.close();
  });

  /** A fresh browser profile (no cookies) with one page. */
  async function freshPage(viewport = { width: 1024, height: 700 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  function authorizeUrl(state: string, extra: Record<string, string> = {}): string {
    const q = new URLSearchParams({
      client_id: CLIENT.id,
      redirect_uri: REDIRECT(),
      response_type: 'code',
      state,
      ...extra,
    });
    return `${t.url}/oauth/authorize?${q.toString()}`;
  }

  const check = (page: Page, name: string) => axeCheck(page, name, axeRuns);

  async function pick(page: Page, tenant: string): Promise<URL> {
    await page.waitForSelector('input[name=tenant]');
    await page.check(`input[name=tenant][value="${tenant}"]`);
    const caught = catcher.next();
    await page.click('button[type=submit]');
    await page.waitForURL((u) => u.href.startsWith(REDIRECT()));
    return caught;
  }

  describe('one browser, one session', () => {
    let page: Page;
    before(async () => {
      page = await freshPage();
    });

    test('full activation: branded login, tenant pick, code and exact state at the catcher', async () => {
      const state = randomBytes(16).toString('hex');
      const response = await page.goto(authorizeUrl(state));
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'Sign in — Floor Insights');
      assert.equal(await page.locator('.product').innerText(), 'Acme Workplace');
      const logo = page.locator('img.logo');
      assert.equal(
        await logo.evaluate((img) => {
          const i = img as unknown as { complete: boolean; naturalWidth: number };
          return i.complete && i.naturalWidth > 0;
        }),
        true,
        'the uploaded logo loads under the CSP',
      );
      const accent = await page.evaluate(
        "getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor",
      );
      assert.equal(accent, 'rgb(91, 42, 158)', 'the brand stylesheet applies the accent colour');
      assert.equal(await page.locator('footer a').getAttribute('href'), 'mailto:help@acme.example');
      await check(page, 'login');

      await page.fill('input[name=email]', alice.email);
      await page.fill('input[name=password]', alice.password);
      await page.click('button[type=submit]');
      await page.waitForSelector('input[name=tenant]');
      assert.equal(await page.locator('legend').innerText(), 'Organisation');
      await check(page, 'tenant-picker');
      const received = await pick(page, 'globex');
      assert.equal(received.searchParams.get('state'), state);
      assert.equal(received.searchParams.get('iss'), t.url);
      const token = await formTokenRequest(t, {
        grant_type: 'authorization_code',
        code: codeOf(received),
        redirect_uri: REDIRECT(),
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
      });
      assert.equal(token.statusCode, 200, token.body);
    });

    test('session reuse: the second authorization asks no password', async () => {
      const state = randomBytes(16).toString('hex');
      await page.goto(authorizeUrl(state));
      assert.equal(await page.locator('input[name=password]').count(), 0);
      const received = await pick(page, 'acme');
      assert.equal(received.searchParams.get('state'), state);
      codeOf(received);
    });
  });

  test('consent page (a --consent client): branded, the scopes worded, axe-clean, Allow reaches the app', async () => {
    const page = await freshPage();
    const state = randomBytes(16).toString('hex');
    const q = new URLSearchParams({
      client_id: CONSENT_CLIENT,
      redirect_uri: REDIRECT(),
      response_type: 'code',
      scope: 'openid email offline_access calendar.read',
      state,
    });
    await page.goto(`${t.url}/oauth/authorize?${q.toString()}`);
    await page.fill('input[name=email]', erin.email);
    await page.fill('input[name=password]', erin.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('button[value=allow]');
    assert.equal(await page.title(), 'Allow access — Partner Planner');
    assert.equal(await page.locator('.product').innerText(), 'Acme Workplace');
    assert.deepEqual(await page.locator('ul.scopes li').allInnerTexts(), [
      'Know who you are when you sign in',
      'See your email address',
      'Keep access while you are not signed in',
      'Use the “calendar.read” permission',
    ]);
    await check(page, 'consent');
    const caught = catcher.next();
    await page.click('button[value=allow]');
    const received = await caught;
    assert.equal(received.searchParams.get('state'), state);
    assert.ok(received.searchParams.get('code'));
  });

  test('wrong password: a 401 page that keeps the email and announces the error', async () => {
    const page = await freshPage();
    await page.goto(authorizeUrl('s1'));
    await page.fill('input[name=email]', carol.email);
    await page.fill('input[name=password]', 'not-her-password');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    assert.equal(response.status(), 401);
    const error = page.locator('p.error');
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.equal(
      await page.locator('[aria-live=assertive]').locator('p.error').count(),
      1,
      'the error sits in a live region',
    );
    assert.equal(
      await error.innerText(),
      'That email and password do not match an active account.',
    );
    assert.equal(await page.inputValue('input[name=email]'), carol.email);
    assert.equal(await page.getAttribute('input[name=password]', 'aria-invalid'), 'true');
    assert.equal(
      await page.evaluate("document.activeElement?.getAttribute('name')"),
      'password',
      'focus goes to the password',
    );
    await check(page, 'login-wrong-password');
  });

  test('lockout: the second failure (limit 2) from one address locks it out of the account: a 429 page', async () => {
    const page = await freshPage();
    await page.goto(authorizeUrl('s2'));
    let status = 0;
    for (let i = 0; i < 2; i++) {
      await page.fill('input[name=email]', dave.email);
      await page.fill('input[name=password]', `wrong-${i}`);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.click('button[type=submit]'),
      ]);
      status = response.status();
    }
    assert.equal(status, 429);
    assert.match(await page.locator('p.error').innerText(), /^Too many sign-in attempts\./);
    await check(page, 'login-locked');
    // Even the right password is refused while locked.
    await page.fill('input[name=password]', dave.password);
    const [again] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    assert.equal(again.status(), 429);
  });

  test('configuration mismatch: a 400 page for the user and the administrator, no redirect', async () => {
    const page = await freshPage();
    const before = catcher.received.length;
    const response = await page.goto(
      authorizeUrl('s3', { redirect_uri: `${REDIRECT()}/elsewhere` }),
    );
    assert.equal(response?.status(), 400);
    assert.equal(page.url().startsWith(t.url), true, 'still on Tessera');
    assert.equal(catcher.received.length, before);
    const text = await page.locator('main').innerText();
    assert.match(text, /configuration-mismatch/);
    assert.match(text, /Field that did not match: redirect_uri/);
    assert.match(text, /administrator/);
    assert.ok(text.includes(`redirect_uri sent: ${REDIRECT()}/elsewhere`), text);
    assert.equal(await page.locator('input[name=password]').count(), 0);
    await check(page, 'configuration-mismatch');
  });

  test('an expired form (CSRF cookie gone): the error page', async () => {
    const page = await freshPage();
    await page.goto(authorizeUrl('s4'));
    await page.context().clearCookies();
    await page.fill('input[name=email]', alice.email);
    await page.fill('input[name=password]', alice.password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    assert.equal(response.status(), 400);
    assert.match(await page.locator('main').innerText(), /login-expired/);
    await check(page, 'error-expired');
  });

  test('end-session: the branded confirmation, the signed-out page, the unregistered-URI page', async () => {
    const page = await freshPage();
    await page.goto(authorizeUrl('s6'));
    await page.fill('input[name=email]', carol.email);
    await page.fill('input[name=password]', carol.password);
    await page.click('button[type=submit]');
    await pick(page, 'acme');
    const refused = await page.goto(
      `${t.url}/oauth/end-session?client_id=${CLIENT.id}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`,
    );
    assert.equal(refused?.status(), 400);
    assert.equal(page.url().startsWith(t.url), true, 'still on Tessera');
    assert.match(await page.locator('main').innerText(), /logout-unregistered-redirect/);
    await check(page, 'end-session-unregistered');
    const confirm = await page.goto(`${t.url}/oauth/end-session?client_id=${CLIENT.id}`);
    assert.equal(confirm?.status(), 200);
    assert.match(await page.locator('main').innerText(), /Floor Insights/);
    assert.match(await page.locator('header').innerText(), /Acme Workplace/);
    await check(page, 'end-session-confirm');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('button[type=submit]'),
    ]);
    assert.equal(response.status(), 200);
    assert.match(await page.locator('main').innerText(), /signed-out/);
    await check(page, 'end-session-signed-out');
    // The session is over: the next authorization asks for the password again.
    await page.goto(authorizeUrl('s7'));
    assert.equal(await page.locator('input[name=password]').count(), 1);
  });

  test('a phone (375×667): every page fits without horizontal scrolling', async () => {
    const page = await freshPage({ width: 375, height: 667 });
    await page.goto(authorizeUrl('s5'));
    assert.ok(await fitsWidth(page), 'login fits');
    const box = await page.locator('form').boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 375, JSON.stringify(box));
    await check(page, 'phone-login');
    await page.fill('input[name=email]', erin.email);
    await page.fill('input[name=password]', erin.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('input[name=tenant]');
    assert.ok(await fitsWidth(page), 'tenant picker fits');
    await check(page, 'phone-tenant-picker');
    await page.goto(
      authorizeUrl('s5', { redirect_uri: `${REDIRECT()}/a-rather-long-path/${'x'.repeat(120)}` }),
    );
    assert.ok(await fitsWidth(page), 'mismatch page fits');
    await check(page, 'phone-configuration-mismatch');
  });

  test('keyboard only: Tab through the fields, type, Enter, pick with the arrows', async () => {
    const page = await freshPage();
    const state = randomBytes(16).toString('hex');
    await page.goto(authorizeUrl(state));
    const focused = () => page.evaluate("document.activeElement?.getAttribute('name') ?? null");
    assert.equal(await focused(), 'email', 'the email field has focus on load');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.type(alice.email);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'password');
    await page.keyboard.type(alice.password);
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate('document.activeElement?.tagName'),
      'BUTTON',
      'then the button',
    );
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('input[name=tenant]');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'tenant');
    await page.keyboard.press('ArrowDown');
    const caught = catcher.next();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.href.startsWith(REDIRECT()));
    const received = await caught;
    assert.equal(received.searchParams.get('state'), state);
    codeOf(received);
  });
});
