/**
 * The account pages in Debian's Chromium (playwright-core) against a real SMTP server: from a
 * branded login page, "Forgot password?" → the forgot form → the mailed link → a new password
 * → back to the app with a code; an invitation's setup page on a phone, without JavaScript;
 * the page of a used link. axe-core runs on every page and must find no serious or critical
 * violation.
 *
 * Without /usr/bin/chromium the suite is skipped, except with CI=true, where it fails.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { createUser, inviteUser } from '../../src/admin/users.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../src/simulate/browser.js';
import type { TestApp } from '../helpers/app.js';
import { type AxeRuns, axeCheck, fitsWidth } from '../helpers/axe.js';
import { requirement } from '../helpers/requirement.js';
import { type MailCatcher, linkIn, startMailCatcher } from '../helpers/smtp.js';
import { type Catcher, startCatcher, startListeningApp } from '../helpers/spaces.js';

const needsChromium = requirement(
  existsSync(CHROMIUM),
  `${CHROMIUM} is not installed (apt-get install chromium)`,
);

describe('account pages in a real browser', { skip: needsChromium.skip, timeout: 120_000 }, () => {
  let t: TestApp & { url: string };
  let smtp: MailCatcher;
  let catcher: Catcher;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const axeRuns: AxeRuns = [];
  const check = (page: Page, name: string) => axeCheck(page, name, axeRuns);
  const CLIENT = 'accounts-app';
  const ann = { email: 'ann@acme.example', password: 'ann-old-password' };

  before(async () => {
    needsChromium.check();
    smtp = await startMailCatcher();
    catcher = await startCatcher();
    t = await startListeningApp({ flags: { smtpUrl: smtp.url, mailPollInterval: 0.05 } });
    await t.tenant('acme');
    await createUser(t.deps, { ...ann, tenants: ['acme'] });
    await t.client({
      clientId: CLIENT,
      secret: 'accounts-app-secret-0123456789',
      name: 'Floor Insights',
      grants: ['authorization_code'],
      redirectUris: [catcher.redirectUri],
      branding: { name: 'Acme Workplace', color: '#5b2a9e' },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    assert.ok(axeRuns.length >= 6, `axe ran on every page: ${JSON.stringify(axeRuns)}`);
    for (const c of contexts) await c.close();
    await browser?.close();
    await t?.close();
    await catcher?.close();
    await smtp?.stop();
  });

  async function freshPage(
    options: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean } = {},
  ): Promise<Page> {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1024, height: 700 },
      javaScriptEnabled: options.javaScriptEnabled ?? true,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  test('forgot password from the login page: the mailed link, a new password, and back to the app', async () => {
    const page = await freshPage();
    const state = 'forgot-state-0123456789abcdef';
    const q = new URLSearchParams({
      client_id: CLIENT,
      redirect_uri: catcher.redirectUri,
      response_type: 'code',
      state,
    });
    await page.goto(`${t.url}/oauth/authorize?${q.toString()}`);
    await page.click('text=Forgot password?');
    await page.waitForURL(`${t.url}/account/forgot`);
    assert.equal(await page.title(), 'Reset your password');
    assert.equal(await page.locator('.product').innerText(), 'Acme Workplace', 'the app’s brand');
    await check(page, 'account-forgot');

    await page.fill('input[name=email]', ann.email);
    await page.click('button[type=submit]');
    await page.waitForSelector('text=Check your email');
    await check(page, 'account-forgot-sent');

    const mail = await smtp.next();
    assert.equal(mail.to, ann.email);
    const link = linkIn(mail.text);
    await page.goto(link.href);
    assert.equal(await page.title(), 'Choose a new password');
    await check(page, 'account-reset');

    await page.fill('input[name=password]', 'a brand new password');
    await page.fill('input[name=password_confirm]', 'a different password');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    assert.equal(
      await page.locator('[role=alert]').innerText(),
      'The two passwords are not the same.',
    );
    assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');
    await check(page, 'account-reset-error');

    await page.fill('input[name=password]', 'a brand new password');
    await page.fill('input[name=password_confirm]', 'a brand new password');
    const caught = catcher.next();
    await page.click('button[type=submit]');
    const back = await caught;
    assert.equal(back.searchParams.get('state'), state);
    assert.ok(back.searchParams.get('code'));

    // The link is used up: its page says only that.
    const used = await page.goto(link.href);
    assert.equal(used?.status(), 400);
    assert.equal(await page.locator('h1').innerText(), 'This link is no longer valid');
    await check(page, 'account-link-invalid');
  });

  test('an invitation on a phone, and without JavaScript: the setup page fits and works', async () => {
    await inviteUser(t.deps, { email: 'ivy@acme.example', tenants: ['acme'] });
    const link = linkIn((await smtp.next()).text);
    const phone = { width: 360, height: 740 };
    const page = await freshPage({ viewport: phone });
    await page.goto(link.href);
    assert.equal(await page.title(), 'Set your password');
    assert.ok(await fitsWidth(page), 'no horizontal scrolling at 360 px');
    await check(page, 'account-setup-phone');

    await page.fill('input[name=password]', 'ivy chose this one');
    await page.fill('input[name=password_confirm]', 'ivy chose this one');
    await page.click('button[type=submit]');
    await page.waitForSelector('text=You can return to the app');
    assert.equal(await page.title(), 'Your password is set');
    await check(page, 'account-password-set');
    assert.equal((await t.deps.store.getUserByEmail('ivy@acme.example'))?.emailVerified, true);

    // The same, with scripts off: plain forms, nothing depends on JavaScript.
    await inviteUser(t.deps, { email: 'jo@acme.example', tenants: ['acme'] });
    const noScript = await freshPage({ viewport: phone, javaScriptEnabled: false });
    await noScript.goto(linkIn((await smtp.next()).text).href);
    await noScript.fill('input[name=password]', 'jo chose this one');
    await noScript.fill('input[name=password_confirm]', 'jo chose this one');
    await noScript.click('button[type=submit]');
    await noScript.waitForSelector('text=You can return to the app');
    assert.equal((await t.deps.store.getUserByEmail('jo@acme.example'))?.passwordHash !== '', true);
  });
});
