/**
 * Accounts (DESIGN §7) against a listening Tessera and a real SMTP server on loopback
 * (smtp-server), reading each delivered message: invitation → setup → sign-in; forgot →
 * reset (old password, sessions and refresh tokens end); single use, expiry, tampering,
 * identical answers, throttling, a mail server down at send time, the pending authorization
 * resuming only in the browser that started it, and what the database keeps.
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { disableUser, inviteUser, resetPasswordLink, createUser } from '../../src/admin/users.js';
import { linkHash } from '../../src/oauth/account/links.js';
import { smtpTransport } from '../../src/oauth/account/mailer.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { type Answer, Browser, isLoginPage, logInAt, redirected } from '../helpers/browser.js';
import { formState, inputs } from '../helpers/html.js';
import { type MailCatcher, linkIn, startMailCatcher } from '../helpers/smtp.js';
import { startListeningApp } from '../helpers/spaces.js';

const REDIRECT = 'https://rp.example/callback';
const APP = { id: 'web', secret: 'web-secret-0123456789abcdef' };
const NEW_PASSWORD = 'a new password 42';
const SENT_PAGE = 'If an account uses that address, a link to choose a new password is on its way.';

/** The hidden fields and the given passwords, as the setup or reset form posts them. */
function passwordForm(page: Answer, password: string, confirm = password): Record<string, string> {
  const hidden = Object.fromEntries(
    inputs(page.body)
      .filter((i) => i['type'] === 'hidden')
      .map((i) => [i['name'] ?? '', i['value'] ?? '']),
  );
  return {
    csrf: hidden['csrf'] ?? '',
    token: hidden['token'] ?? '',
    password,
    password_confirm: confirm,
  };
}

const pathOf = (link: URL) => `${link.pathname}${link.search}`;

describe('accounts: invitations and password reset over real SMTP', () => {
  let smtp: MailCatcher;
  let t: TestApp & { url: string };
  const clock = new TestClock(Math.floor(Date.now() / 1000));
  let ip = 0;
  /** A browser from an address of its own (behind the one trusted proxy), so IP limits stay apart. */
  const browser = () => new Browser(t.url, { 'x-forwarded-for': `198.51.100.${++ip}` });

  before(async () => {
    smtp = await startMailCatcher();
    t = await startListeningApp({
      clock,
      flags: {
        smtpUrl: smtp.url,
        mailPollInterval: 0.05,
        forgotPasswordLimit: 2,
        forgotPasswordIpLimit: 4,
        trustProxy: 1,
      },
    });
    await t.tenant('acme');
    await t.client({
      clientId: APP.id,
      secret: APP.secret,
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
      scopes: ['offline_access'],
    });
  });
  after(async () => {
    await t?.close();
    await smtp?.stop();
  });

  function authorizeUrl(state = 'st-1'): URL {
    const url = new URL('/oauth/authorize', t.url);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: APP.id,
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
      state,
    }).toString();
    return url;
  }

  async function token(body: Record<string, string>) {
    const res = await fetch(new URL('/oauth/token', t.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: APP.id, client_secret: APP.secret, ...body }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  /** Signs in through the authorization endpoint and redeems the code. */
  async function signIn(b: Browser, who: { email: string; password: string }) {
    const answer = await logInAt(b, authorizeUrl(), who);
    if (answer.status !== 303) return { answer };
    const code = redirected(answer).searchParams.get('code') ?? '';
    const tokens = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    return { answer, tokens };
  }

  async function auditTypes(type: string) {
    return t.deps.store.listAuditEvents({ type, limit: 100 });
  }

  async function outbox() {
    return t.rows<{ purpose: string; user_id: string | null; address: string }>(
      'SELECT purpose, user_id, address FROM mail_outbox',
    );
  }

  async function forgot(b: Browser, email: string): Promise<Answer> {
    const page = await b.get('/account/forgot');
    assert.equal(page.status, 200);
    const csrf = inputs(page.body).find((i) => i['name'] === 'csrf')?.['value'] ?? '';
    return b.post({ csrf, email }, '/account/forgot');
  }

  test('an invitation mails a setup link; setting the password signs in, verifies the address, and the link is used up', async () => {
    const invited = await inviteUser(t.deps, { email: 'ivy@acme.example', tenants: ['acme'] });
    assert.equal(invited.mailed, true);
    assert.equal(invited.link, undefined);
    assert.equal(invited.password_set, false);
    const mail = await smtp.next();
    assert.equal(mail.to, 'ivy@acme.example');
    assert.equal(mail.from, '"Tessera" <no-reply@127.0.0.1>');
    assert.equal(mail.subject, 'Your Tessera account');
    const link = linkIn(mail.text);
    assert.deepEqual(linkIn(mail.html), link, 'the HTML part carries the same link, once');
    assert.equal(`${link.origin}${link.pathname}`, `${t.url}/account/setup`);
    assert.deepEqual([...link.searchParams.keys()], ['token'], 'nothing but the token');
    assert.match(mail.text, /The link works once, for 7 day\(s\)\./);
    await waitFor(async () => (await outbox()).length === 0);

    // Invited, no password yet: not even the dummy hash's password signs in.
    const refused = await signIn(browser(), {
      email: 'ivy@acme.example',
      password: 'tessera: no such user',
    });
    assert.equal(refused.answer.status, 401);

    // Opening the link (twice: a mail scanner first) uses nothing up.
    const b = browser();
    assert.equal((await b.get(pathOf(link))).status, 200);
    const page = await b.get(pathOf(link));
    assert.equal(page.status, 200);
    assert.match(page.body, /<h1>Set your password<\/h1>/);
    assert.match(page.body, /For the account ivy@acme\.example\./);

    const differ = await b.post(
      passwordForm(page, NEW_PASSWORD, 'something else 42'),
      '/account/setup',
    );
    assert.equal(differ.status, 400);
    assert.match(differ.body, /The two passwords are not the same\./);
    const short = await b.post(passwordForm(page, 'short'), '/account/setup');
    assert.equal(short.status, 400);
    assert.match(short.body, /at least 8 characters/);
    const noCsrf = await b.post(
      { ...passwordForm(page, NEW_PASSWORD), csrf: '' },
      '/account/setup',
    );
    assert.equal(noCsrf.status, 400);
    assert.match(noCsrf.body, /This page has expired/);
    const wrongPurpose = await b.post(passwordForm(page, NEW_PASSWORD), '/account/reset');
    assert.equal(wrongPurpose.status, 400, 'a setup link does not open the reset page');
    assert.equal((await t.deps.store.getUserByEmail('ivy@acme.example'))?.passwordHash, '');

    const done = await b.post(passwordForm(page, NEW_PASSWORD), '/account/setup');
    assert.equal(done.status, 200);
    assert.match(done.body, /You are signed in\. You can return to the app\./);
    const user = await t.deps.store.getUserByEmail('ivy@acme.example');
    assert.equal(user?.emailVerified, true);
    assert.deepEqual(
      (await auditTypes('password.set')).map((e) => [e.userId, e.reason]),
      [[invited.id, 'setup']],
    );

    // Signed in by the setup: the authorization needs no password in this browser.
    const signedIn = await b.get(authorizeUrl().toString());
    const code = redirected(signedIn).searchParams.get('code') ?? '';
    const tokens = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    assert.equal(tokens.status, 200);
    const info = await fetch(new URL('/oauth/userinfo', t.url), {
      headers: { authorization: `Bearer ${tokens.body['access_token']}` },
    });
    assert.deepEqual(await info.json(), {
      sub: invited.id,
      email: 'ivy@acme.example',
      email_verified: true,
      tenant_id: 'acme',
    });

    // Single use: the same link again, opened or posted, is no longer valid.
    const again = await browser().get(pathOf(link));
    assert.equal(again.status, 400);
    assert.match(again.body, /This link is no longer valid\./);
    const replay = await b.post(passwordForm(page, 'yet another password'), '/account/setup');
    assert.equal(replay.status, 400);
    assert.match(replay.body, /This link is no longer valid\./);
    // And the password works from a browser that never saw the link.
    assert.equal(
      (await signIn(browser(), { email: 'ivy@acme.example', password: NEW_PASSWORD })).tokens
        ?.status,
      200,
    );
    // An invitation once accepted is not sent again: the service says to reset instead.
    await assert.rejects(
      inviteUser(t.deps, { email: 'ivy@acme.example', tenants: ['acme'] }),
      /has set a password already/,
    );
  });

  describe('forgot → reset', () => {
    const ann = { email: 'ann@acme.example', password: 'ann-old-password-1' };
    let annId: string;
    before(async () => {
      annId = (await createUser(t.deps, { ...ann, tenants: ['acme'] })).id;
    });

    test('every address gets the same page and status; only an enabled account gets mail', async () => {
      const b = browser();
      const known = await forgot(b, 'ANN@acme.example ');
      const unknown = await forgot(b, 'nobody@acme.example');
      assert.equal(known.status, 200);
      assert.equal(unknown.status, 200);
      assert.equal(known.body, unknown.body, 'byte for byte');
      assert.ok(known.body.includes(SENT_PAGE));
      const mail = await smtp.next();
      // Mailed to the address stored on the account, not as typed.
      assert.equal(mail.to, 'ann@acme.example');
      assert.equal(mail.subject, 'Reset your Tessera password');
      assert.match(mail.text, /The link works once, for 30 minute\(s\)\./);
      assert.equal(linkIn(mail.text).pathname, '/account/reset');
      await waitFor(async () => (await auditTypes('mail.dropped')).length === 1);
      assert.deepEqual(
        (await auditTypes('mail.dropped')).map((e) => [e.userId, e.reason]),
        [[null, 'reset: no account with this address']],
      );
      assert.equal(smtp.received.filter((m) => m.to.includes('nobody')).length, 0);
      assert.deepEqual(
        (await auditTypes('password.reset_requested')).map((e) => e.reason),
        ['queued', 'queued'],
      );
    });

    test('the reset ends every session and refresh token; the old password stops, the new one works', async () => {
      const other = browser();
      const before = await signIn(other, ann);
      assert.equal(before.tokens?.status, 200);
      const refresh = before.tokens?.body['refresh_token'] ?? '';
      assert.ok(refresh);

      const b = browser();
      assert.equal((await forgot(b, ann.email)).status, 200);
      const link = linkIn((await smtp.next()).text);
      const page = await b.get(pathOf(link));
      assert.match(page.body, /<h1>Choose a new password<\/h1>/);
      const done = await b.post(passwordForm(page, NEW_PASSWORD), '/account/reset');
      assert.equal(done.status, 200);
      assert.match(done.body, /You can return to the app/);

      assert.equal((await signIn(browser(), ann)).answer.status, 401, 'old password');
      assert.equal(
        (await signIn(browser(), { ...ann, password: NEW_PASSWORD })).tokens?.status,
        200,
      );
      const refreshed = await token({ grant_type: 'refresh_token', refresh_token: refresh });
      assert.equal(refreshed.status, 400);
      assert.equal(refreshed.body['error'], 'invalid_grant');
      // The other browser's session ended: it is asked for a password again.
      assert.ok(isLoginPage(await other.get(authorizeUrl().toString())));
      assert.equal((await t.deps.store.getUser(annId))?.emailVerified, true);
    });

    test('per address, requests past the limit send nothing and the page does not say so', async () => {
      await t.deps.store.createUser(
        {
          id: 'u-limit',
          email: 'lim@acme.example',
          name: null,
          passwordHash: '',
          disabledAt: null,
          createdAt: clock.now,
          updatedAt: clock.now,
          emailVerified: false,
        },
        ['acme'],
      );
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await forgot(browser(), 'lim@acme.example'));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200],
      );
      assert.equal(answers[2]?.body, answers[0]?.body);
      await smtp.next();
      await smtp.next();
      await assert.rejects(smtp.next(1500), /no mail arrived/);
      const reasons = (await auditTypes('password.reset_requested')).map((e) => e.reason);
      assert.equal(
        reasons.filter((r) => r === 'over the per-address limit: nothing queued').length,
        1,
      );
    });

    test('per IP, requests past the limit get 429 with Retry-After', async () => {
      const b = browser();
      const statuses = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await forgot(b, `x${i}@elsewhere.example`)).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
      const page = await b.get('/account/forgot');
      const csrf = inputs(page.body).find((i) => i['name'] === 'csrf')?.['value'] ?? '';
      const res = await fetch(new URL('/account/forgot', t.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': `198.51.100.${ip}`,
          cookie: b.jar.header('/account/forgot') ?? '',
        },
        body: new URLSearchParams({ csrf, email: 'ann@acme.example' }),
      });
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      assert.match(await res.text(), /Too many requests from your network/);
    });

    test('a hostile address gets the form again (400), never a 500, and queues nothing', async () => {
      const before = (await auditTypes('password.reset_requested')).length;
      for (const email of [
        'a\u0000@acme.example',
        'no-at-sign',
        `${'a'.repeat(250)}@acme.example`,
        '',
      ]) {
        const res = await forgot(browser(), email);
        assert.equal(res.status, 400, JSON.stringify(email));
        assert.match(res.body, /Enter the email address you sign in with\./);
      }
      assert.equal((await auditTypes('password.reset_requested')).length, before);
    });

    test('a forgot post without its CSRF token queues nothing', async () => {
      const before = await auditTypes('password.reset_requested');
      const b = browser();
      const res = await b.post({ email: 'ann@acme.example' }, '/account/forgot');
      assert.equal(res.status, 400);
      assert.match(res.body, /This page has expired/);
      assert.equal((await auditTypes('password.reset_requested')).length, before.length);
    });
  });

  describe('links', () => {
    let bob: { id: string; email: string };
    before(async () => {
      bob = await createUser(t.deps, {
        email: 'bob@acme.example',
        password: 'bob-password-123',
        tenants: ['acme'],
      });
    });

    const printed = async () => {
      const r = await resetPasswordLink(t.deps, bob.email, true);
      assert.equal(r.mailed, false);
      return new URL(r.link ?? '');
    };

    test('only the keyed hash of a link is stored, and neither the link nor the password reaches the outbox or the audit trail', async () => {
      const link = await printed();
      const raw = link.searchParams.get('token') ?? '';
      assert.equal(raw.length, 43, '256 bits, base64url');
      const rows = await t.rows<{ token_hash: string; user_id: string; purpose: string }>(
        'SELECT token_hash, user_id, purpose FROM account_links WHERE user_id = ?',
        bob.id,
      );
      assert.deepEqual(rows, [
        { token_hash: linkHash(t.deps.crypto, raw), user_id: bob.id, purpose: 'reset' },
      ]);
      assert.notEqual(rows[0]?.token_hash, raw);
      // Tagged: never the hash a session id or secret of the same bytes would have.
      assert.notEqual(rows[0]?.token_hash, t.deps.crypto.hashSecret(raw));
      assert.ok(!rows[0]?.token_hash.includes(raw));
      const audit = JSON.stringify(await t.deps.store.listAuditEvents({ limit: 1000 }));
      assert.ok(!audit.includes(raw));
      assert.ok(!audit.includes(NEW_PASSWORD));
      assert.ok(!JSON.stringify(await outbox()).includes(raw));
    });

    test('a tampered, truncated, overlong or repeated token is no longer valid, and nothing changes', async () => {
      const link = await printed();
      const raw = link.searchParams.get('token') ?? '';
      const flipped = `${raw.slice(0, -1)}${raw.endsWith('A') ? 'B' : 'A'}`;
      for (const query of [
        `token=${flipped}`,
        `token=${raw.slice(0, -1)}`,
        `token=${raw}${'A'.repeat(5000)}`,
        `token=${raw}&token=${raw}`,
        'token=',
        '',
        `token=${encodeURIComponent("' OR 1=1 --")}`,
      ]) {
        const page = await browser().get(`/account/reset?${query}`);
        assert.equal(page.status, 400, query.slice(0, 80));
        assert.match(page.body, /This link is no longer valid\./);
      }
      const b = browser();
      const page = await b.get(pathOf(link));
      assert.equal(page.status, 200, 'the real link still works');
      const form = passwordForm(page, NEW_PASSWORD);
      const posted = await b.post({ ...form, token: flipped }, '/account/reset');
      assert.equal(posted.status, 400);
      assert.equal((await auditTypes('password.link_refused')).length > 0, true);
      assert.equal((await b.get(pathOf(link))).status, 200, 'still unused');
    });

    test('a link expires after passwordResetTtl; a newer link or user disable voids older ones', async () => {
      const first = await printed();
      const second = await printed();
      assert.equal((await browser().get(pathOf(first))).status, 400, 'voided by the newer link');
      assert.equal((await browser().get(pathOf(second))).status, 200);
      clock.advance(1800);
      assert.equal((await browser().get(pathOf(second))).status, 400, 'expired');
      const third = await printed();
      assert.equal((await browser().get(pathOf(third))).status, 200);
      await disableUser(t.deps, bob.email);
      assert.equal((await browser().get(pathOf(third))).status, 400, 'voided by user disable');
      await assert.rejects(resetPasswordLink(t.deps, bob.email), /is disabled/);
    });
  });

  test('the pending authorization resumes only in the browser that started it, never through the link', async () => {
    const cy = await createUser(t.deps, {
      email: 'cy@acme.example',
      password: 'cy-old-password-1',
      tenants: ['acme'],
    });
    const started = browser();
    const login = await started.get(authorizeUrl('resume-me').toString());
    assert.ok(isLoginPage(login));
    assert.match(login.body, /<a href="\/account\/forgot">Forgot password\?<\/a>/);
    assert.equal((await forgot(started, cy.email)).status, 200);
    const link = linkIn((await smtp.next()).text);
    assert.deepEqual([...link.searchParams.keys()], ['token']);

    // Another browser (the attacker's, or the same person's phone) gets no code.
    const elsewhere = browser();
    const page2 = await elsewhere.get(pathOf(link));
    const second = await resetPasswordLink(t.deps, cy.email, true);
    const page3 = await elsewhere.get(pathOf(new URL(second.link ?? '')));
    const done = await elsewhere.post(passwordForm(page3, NEW_PASSWORD), '/account/reset');
    assert.equal(done.status, 200);
    assert.match(done.body, /You can return to the app/);
    assert.equal(page2.status, 200);

    // In the browser that started it, a reset resumes the authorization, checked again.
    const third = await resetPasswordLink(t.deps, cy.email, true);
    const page = await started.get(pathOf(new URL(third.link ?? '')));
    const resumed = await started.post(passwordForm(page, 'cy-newest-password'), '/account/reset');
    const back = redirected(resumed);
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    assert.equal(back.searchParams.get('state'), 'resume-me');
    assert.equal(back.searchParams.get('iss'), t.url);
    const tokens = await token({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT,
    });
    assert.equal(tokens.status, 200);
    // Used once: the cookie is gone, a second reset here only says "return to the app".
    const fourth = await resetPasswordLink(t.deps, cy.email, true);
    const page4 = await started.get(pathOf(new URL(fourth.link ?? '')));
    const again = await started.post(passwordForm(page4, 'cy-newer-password-2'), '/account/reset');
    assert.equal(again.status, 200);
  });

  test('a mail server that is down at send time: the mail waits in the outbox and arrives once it is back', async () => {
    await smtp.stop();
    const invited = await inviteUser(t.deps, { email: 'dee@acme.example', tenants: ['acme'] });
    await waitFor(async () => {
      const rows = await t.rows<{ attempts: number; lease_until: number | null }>(
        'SELECT attempts, lease_until FROM mail_outbox WHERE user_id = ?',
        invited.id,
      );
      return rows.length === 1 && Number(rows[0]?.attempts) >= 1 && rows[0]?.lease_until === null;
    });
    assert.equal(
      (await t.rows('SELECT * FROM account_links WHERE user_id = ?', invited.id)).length <= 1,
      true,
    );
    await smtp.start();
    clock.advance(10);
    const mail = await smtp.next();
    assert.equal(mail.to, 'dee@acme.example');
    const page = await browser().get(pathOf(linkIn(mail.text)));
    assert.equal(page.status, 200, 'the link sent is the live one');
    await waitFor(async () => (await outbox()).length === 0);
    assert.equal((await auditTypes('mail.given_up')).length, 0);
    const sent = (await auditTypes('mail.sent')).find((e) => e.userId === invited.id);
    assert.match(sent?.reason ?? '', /^setup, attempt [2-9]\d*$/, 'sent on a later attempt');
  });

  test('a mail server down for over an hour: the mail is given up, audited', async () => {
    await smtp.stop();
    const invited = await inviteUser(t.deps, { email: 'eve@acme.example', tenants: ['acme'] });
    await waitFor(async () => {
      const rows = await t.rows<{ lease_until: number | null }>(
        'SELECT lease_until FROM mail_outbox WHERE user_id = ?',
        invited.id,
      );
      return rows.length === 1 && rows[0]?.lease_until === null;
    });
    clock.advance(3601);
    await waitFor(async () => (await auditTypes('mail.given_up')).length === 1);
    assert.match(
      (await auditTypes('mail.given_up'))[0]?.reason ?? '',
      /^after \d+ attempts; last: /,
    );
    assert.deepEqual(await outbox(), []);
    await smtp.start();
  });
});

describe('accounts without smtpUrl', () => {
  let t: TestApp & { url: string };
  before(async () => {
    t = await startListeningApp();
    await t.tenant('acme');
    await t.client({
      clientId: APP.id,
      secret: APP.secret,
      grants: ['authorization_code'],
      redirectUris: [REDIRECT],
    });
  });
  after(() => t?.close());

  test('the login page has no "Forgot password?", the forgot page says to ask the administrator, and nothing is queued', async () => {
    const b = new Browser(t.url);
    const login = await b.get(
      `/oauth/authorize?response_type=code&client_id=${APP.id}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );
    assert.ok(isLoginPage(login));
    assert.ok(!login.body.includes('/account/forgot'));
    assert.equal(b.jar.get('tessera_pending'), undefined);
    const page = await b.get('/account/forgot');
    assert.equal(page.status, 200);
    assert.match(page.body, /Please ask your administrator to reset your password\./);
    assert.ok(!page.body.includes('<form'));
    const csrf = formState(login.body).csrf;
    const posted = await b.post({ csrf, email: 'ann@acme.example' }, '/account/forgot');
    assert.equal(posted.status, 200);
    assert.match(posted.body, /ask your administrator/);
    assert.deepEqual(await t.rows('SELECT * FROM mail_outbox'), []);
  });

  test('user invite prints the link instead of mailing it', async () => {
    const invited = await inviteUser(t.deps, { email: 'ivy@acme.example', tenants: ['acme'] });
    assert.equal(invited.mailed, false);
    const link = new URL(invited.link ?? '');
    assert.equal(`${link.origin}${link.pathname}`, `${t.url}/account/setup`);
    assert.equal((await new Browser(t.url).get(`${link.pathname}${link.search}`)).status, 200);
    assert.deepEqual(await t.rows('SELECT * FROM mail_outbox'), []);
  });
});

describe('smtp:// off loopback requires STARTTLS', () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  test(
    'a server without STARTTLS on a non-loopback address gets no message',
    { skip: external === undefined && 'no non-loopback IPv4 address here' },
    async () => {
      const server = await startMailCatcher({ host: external as string });
      try {
        await assert.rejects(
          smtpTransport(server.url).sendMail({
            from: 'a@b.example',
            to: 'c@d.example',
            subject: 'x',
            text: 'x',
          }),
          /STARTTLS/,
        );
        assert.deepEqual(server.received, []);
      } finally {
        await server.stop();
      }
    },
  );
});

/** Polls `check` (the worker runs on its own schedule) until it holds, for up to 10 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
