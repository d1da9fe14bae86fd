/**
 * examples/express-app (express-openid-connect and tessera-oauth/verify) against a listening
 * Tessera, driven in Debian's Chromium: sign-in through Tessera's login page, the ID Token's
 * claims, the app calling its API with the user's access token, a refused API call without
 * or with a forged token, a tampered callback, and sign-out ending the Tessera session too.
 *
 * Without /usr/bin/chromium the suite is skipped, except with CI=true, where it fails.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { createUser } from '../../src/admin/users.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../src/simulate/browser.js';
import { createExampleApp } from '../../examples/express-app/app.js';
import type { TestApp } from '../helpers/app.js';
import { requirement } from '../helpers/requirement.js';
import { closeServer, listenLoopback, startListeningApp } from '../helpers/spaces.js';

const needsChromium = requirement(
  existsSync(CHROMIUM),
  `${CHROMIUM} is not installed (apt-get install chromium)`,
);

describe(
  'the example web app (express-openid-connect)',
  { skip: needsChromium.skip, timeout: 120_000 },
  () => {
    let t: TestApp & { url: string };
    let server: Server;
    let base: string;
    let browser: Browser;
    let page: Page;
    let annId: string;
    let other: { client_id: string; client_secret: string };
    const ann = { email: 'ann@acme.example', password: 'ann-password-123' };

    before(async () => {
      needsChromium.check();
      t = await startListeningApp();
      await t.tenant('acme');
      annId = (await createUser(t.deps, { ...ann, name: 'Ann Example', tenants: ['acme'] })).id;
      server = (await import('node:http')).createServer();
      const port = await listenLoopback(server);
      base = `http://127.0.0.1:${port}`;
      // As examples/express-app/README.md registers it.
      const { client_secret } = await t.client({
        clientId: 'example-app',
        name: 'Example app',
        grants: ['authorization_code', 'refresh_token'],
        redirectUris: [`${base}/callback`],
        postLogoutRedirectUris: [base],
        audience: `${base}/api`,
      });
      // Another client of the same Tessera: its tokens are not for the example's API.
      other = await t.client({ clientId: 'other-app', grants: ['client_credentials'] });
      server.on(
        'request',
        createExampleApp({
          issuer: t.url,
          clientId: 'example-app',
          clientSecret: client_secret,
          baseUrl: base,
          sessionSecret: 'a-session-secret-of-at-least-32-characters',
        }),
      );
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(15_000);
    });
    after(async () => {
      await browser?.close();
      if (server) await closeServer(server);
      await t?.close();
    });

    test('signs in through Tessera’s login page and shows the ID Token’s claims', async () => {
      await page.goto(`${base}/profile`);
      await page.waitForURL((u) => u.href.startsWith(`${t.url}/oauth/authorize`));
      const authorize = new URL(page.url());
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorize.searchParams.get('nonce'));
      await page.fill('input[name=email]', ann.email);
      await page.fill('input[name=password]', ann.password);
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/profile`);
      const claims = JSON.parse(await page.locator('#claims').innerText()) as Record<
        string,
        unknown
      >;
      assert.equal(claims['sub'], annId);
      assert.equal(claims['email'], ann.email);
      assert.equal(claims['name'], 'Ann Example');
      assert.equal(claims['tenant_id'], 'acme');
    });

    test('the app calls its API with the user’s access token; the API refuses none, a forged one, or another client’s', async () => {
      await page.goto(`${base}/call-api`);
      assert.deepEqual(JSON.parse(await page.locator('body').innerText()), { hello: annId });
      const none = await fetch(`${base}/api/hello`);
      assert.equal(none.status, 401);
      const forged = await fetch(`${base}/api/hello`, {
        headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
      });
      assert.equal(forged.status, 401);
      assert.match(forged.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      const minted = await fetch(`${t.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', ...other }),
      });
      assert.equal(minted.status, 200);
      const foreign = ((await minted.json()) as { access_token: string }).access_token;
      const elsewhere = await fetch(`${base}/api/hello`, {
        headers: { authorization: `Bearer ${foreign}` },
      });
      assert.equal(elsewhere.status, 401, 'another client’s token, for the issuer’s audience');
    });

    test('a forged callback signs nobody in: no state this browser sent, no code Tessera issued', async () => {
      const stranger = await (await browser.newContext()).newPage();
      const forged = await stranger.goto(
        `${base}/callback?code=forged&state=forged&iss=${encodeURIComponent(t.url)}`,
      );
      assert.equal(forged?.status(), 400);
      await stranger.goto(`${base}/`);
      assert.match(await stranger.locator('body').innerText(), /Signed out\./);
      await stranger.context().close();
    });

    test('signing out of the app ends the Tessera session too', async () => {
      await page.goto(`${base}/logout`);
      await page.waitForURL((u) => u.href === `${base}/` || u.href === base);
      assert.match(await page.locator('body').innerText(), /Signed out\./);
      // Tessera asks for the password again: its session ended with the app's.
      await page.goto(`${base}/profile`);
      await page.waitForURL((u) => u.href.startsWith(`${t.url}/oauth/authorize`));
      assert.equal(await page.locator('input[name=password]').count(), 1);
    });
  },
);
