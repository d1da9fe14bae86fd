/**
 * Back-Channel Logout 1.0 against a listening Tessera over real HTTP: openid-client signs in
 * (code + PKCE), the session is ended, and a real node:http receiver on loopback takes the
 * POSTed logout token and checks it with jose against Tessera's JWKS. The worker polls every
 * 50 ms; retries are due on the test clock, which the tests move on.
 */
import assert from 'node:assert/strict';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { createUser, disableUser } from '../../src/admin/users.js';
import { DELIVERY_TIMEOUT_MS } from '../../src/oauth/backchannel-logout.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { formState, inputs } from '../helpers/html.js';
import { startListeningApp } from '../helpers/spaces.js';

const REDIRECT = 'https://rp.example/callback';
const RP = { id: 'rp', secret: 'rp-secret-0123456789abcdefgh' };
/** Signed into in the same sessions, but without a back-channel logout URI. */
const PLAIN = { id: 'plain-rp', secret: 'plain-secret-0123456789abcdef' };
const erin = { email: 'erin@acme.example', password: 'erin-password-12' };
const finn = { email: 'finn@acme.example', password: 'finn-password-12' };
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What the receiver does with the next request. */
type Behaviour = number | 'hang' | 'redirect' | 'endless';

interface Delivery {
  readonly contentType: string | undefined;
  readonly form: URLSearchParams;
  readonly token: string;
}

/** The relying party's back-channel logout endpoint. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  /** Requests to anywhere but the logout path (where a followed redirect would land). */
  readonly elsewhere: string[] = [];
  /** Behaviours for the next requests, in order; then 200. */
  plan: Behaviour[] = [];
  /** Resolves once the response of an `endless` answer was closed by the other side. */
  endlessClosed: Promise<void> = Promise.resolve();
  private readonly hanging: ServerResponse[] = [];
  private readonly server = createServer((req, res) => void this.answer(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/backchannel`;
  }

  reset(): void {
    this.deliveries.length = 0;
    this.elsewhere.length = 0;
    this.plan = [];
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    if (req.url !== '/backchannel') {
      this.elsewhere.push(req.url ?? '');
      res.writeHead(200).end();
      return;
    }
    const form = new URLSearchParams(body);
    this.deliveries.push({
      contentType: req.headers['content-type'],
      form,
      token: form.get('logout_token') ?? '',
    });
    const behaviour = this.plan.shift() ?? 200;
    if (behaviour === 'hang') {
      this.hanging.push(res);
    } else if (behaviour === 'redirect') {
      res.writeHead(302, { location: '/elsewhere' }).end();
    } else if (behaviour === 'endless') {
      this.endlessClosed = new Promise((resolve) => res.once('close', resolve));
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    } else {
      res.writeHead(behaviour).end();
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Polls `check` until it holds (the worker runs beside the test); fails after `ms`. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openApp(
  hook: string,
  options: { pollInterval?: number; database?: string; clock?: TestClock } = {},
): Promise<TestApp & { url: string }> {
  const t = await startListeningApp({
    clock: options.clock ?? new TestClock(Math.floor(Date.now() / 1000)),
    flags: { backchannelLogoutPollInterval: options.pollInterval ?? 0.05 },
    ...(options.database !== undefined && { database: options.database }),
  });
  if (options.database !== undefined && (await t.deps.store.getClient(RP.id))) return t;
  await t.tenant('acme');
  await createUser(t.deps, { ...erin, tenants: ['acme'] });
  await createUser(t.deps, { ...finn, tenants: ['acme'] });
  for (const rp of [RP, PLAIN]) {
    await t.client({
      clientId: rp.id,
      secret: rp.secret,
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
      ...(rp === RP && { backchannelLogoutUri: hook }),
    });
  }
  return t;
}

/** Signs `who` in to `rp` through `browser`; the ID Token and the refresh token. */
async function signIn(
  t: TestApp & { url: string },
  browser: Browser,
  opts: { who?: typeof erin; rp?: typeof RP; scope?: string; prompt?: string } = {},
) {
  const rp = opts.rp ?? RP;
  const config = await client.discovery(new URL(t.url), rp.id, rp.secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: opts.scope ?? 'openid',
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...(opts.prompt !== undefined && { prompt: opts.prompt }),
  });
  let page = await browser.get(url.href);
  if (page.status === 200 && inputs(page.body).some((i) => i['name'] === 'password'))
    page = await browser.post(
      {
        ...formState(page.body),
        ...(opts.who ?? erin),
      },
      '/oauth/authorize',
    );
  assert.equal(page.status, 303, page.body.slice(0, 300));
  const tokens = await client.authorizationCodeGrant(config, page.location as URL, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return { idToken: tokens.id_token as string, refreshToken: tokens.refresh_token, config };
}

/** RP-Initiated Logout with the ID Token as hint: ends the session at once. */
async function endSession(browser: Browser, idToken: string): Promise<void> {
  const answer = await browser.get(`/oauth/end-session?id_token_hint=${idToken}`);
  assert.equal(answer.status, 200, answer.body.slice(0, 300));
}

async function queued(
  t: TestApp,
): Promise<{ attempts: number; due_at: number; lease_until: number | null }[]> {
  return t.rows('select attempts, due_at, lease_until from logout_jobs');
}

/** Whether the one queued job was attempted `attempts` times and released for a retry. */
async function awaitingRetry(t: TestApp, attempts: number): Promise<boolean> {
  const [job, ...more] = await queued(t);
  return more.length === 0 && job?.attempts === attempts && job.lease_until === null;
}

/** The reasons of the audit events of `type` (the app is shared: other tests' events too). */
async function audited(t: TestApp, type: string): Promise<(string | null | undefined)[]> {
  const events = await t.deps.store.listAuditEvents({ type, limit: 100 });
  return events.map((e) => e.reason);
}

describe('Back-Channel Logout', () => {
  const receiver = new Receiver();
  let hook: string;
  let t: TestApp & { url: string };
  let browser: Browser;

  before(async () => {
    hook = await receiver.start();
    t = await openApp(hook);
  });
  after(async () => {
    await t.close();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.reset();
    browser = new Browser(t.url);
  });
  afterEach(async () => {
    // Nothing a test queued may leak into the next one.
    await t.rows('delete from logout_jobs');
  });

  test('delivers a logout token the RP verifies against the JWKS; a client without a URI gets nothing', async () => {
    const { idToken } = await signIn(t, browser);
    await signIn(t, browser, { rp: PLAIN });
    await endSession(browser, idToken);
    await eventually(() => receiver.deliveries.length === 1);

    const [delivery] = receiver.deliveries;
    assert.ok(delivery);
    assert.equal(delivery.contentType, 'application/x-www-form-urlencoded');
    assert.deepEqual([...delivery.form.keys()], ['logout_token']);
    const { payload, protectedHeader } = await jwtVerify(
      delivery.token,
      createRemoteJWKSet(new URL(`${t.url}/.well-known/jwks.json`)),
      {
        issuer: t.url,
        audience: RP.id,
        typ: 'logout+jwt',
        algorithms: ['RS256'],
        currentDate: new Date(t.clock.now * 1000),
      },
    );
    const id = decodeJwt(idToken);
    assert.equal(protectedHeader.kid, decodeProtectedHeader(idToken).kid);
    assert.deepEqual(Object.keys(payload).sort(), [
      'aud',
      'events',
      'exp',
      'iat',
      'iss',
      'jti',
      'sid',
      'sub',
    ]);
    assert.equal(payload.sub, id.sub);
    assert.equal(typeof id['sid'], 'string');
    assert.equal(payload['sid'], id['sid']);
    assert.equal(payload.iat, t.clock.now);
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 120);
    assert.match(payload.jti ?? '', /^[\w-]{22}$/);
    assert.deepEqual(payload['events'], { [EVENT]: {} });

    await eventually(async () => (await audited(t, 'backchannel.delivered')).length === 1);
    await sleep(200);
    assert.deepEqual(await queued(t), []);
    assert.equal(receiver.deliveries.length, 1, 'delivered once');
    assert.deepEqual(await audited(t, 'backchannel.delivered'), ['attempt 1']);
  });

  test('a 503 is retried after the backoff with a fresh token, and delivered once', async () => {
    const { idToken } = await signIn(t, browser);
    receiver.plan = [503];
    await endSession(browser, idToken);
    await eventually(() => awaitingRetry(t, 1));
    const [job] = await queued(t);
    assert.equal(job?.due_at, t.clock.now + 5);
    await sleep(200);
    assert.equal(receiver.deliveries.length, 1, 'not before it is due');

    t.clock.advance(5);
    await eventually(() => receiver.deliveries.length === 2);
    await eventually(async () => (await audited(t, 'backchannel.delivered')).includes('attempt 2'));
    await sleep(200);
    assert.deepEqual(await queued(t), []);
    assert.equal(receiver.deliveries.length, 2);
    const [a, b] = receiver.deliveries.map((d) => decodeJwt(d.token));
    assert.notEqual(a?.jti, b?.jti);
    assert.equal(b?.iat, t.clock.now);
  });

  test('a 400 is final: not retried, audited as failed', async () => {
    const { idToken } = await signIn(t, browser);
    receiver.plan = [400];
    await endSession(browser, idToken);
    await eventually(async () => (await audited(t, 'backchannel.failed')).length === 1);
    assert.deepEqual(await audited(t, 'backchannel.failed'), ['the receiver answered 400']);
    assert.deepEqual(await queued(t), []);
    t.clock.advance(3600);
    await sleep(200);
    assert.equal(receiver.deliveries.length, 1);
  });

  test('a receiver that never answers times out, and the job is retried', async () => {
    const { idToken } = await signIn(t, browser);
    receiver.plan = ['hang'];
    await endSession(browser, idToken);
    await eventually(() => receiver.deliveries.length === 1);
    await eventually(
      async () => (await queued(t))[0]?.due_at === t.clock.now + 5,
      DELIVERY_TIMEOUT_MS + 2000,
    );
    t.clock.advance(5);
    await eventually(() => receiver.deliveries.length === 2);
    await eventually(async () => (await queued(t)).length === 0);
  });

  test('a redirect is not followed; the job stays queued for a retry', async () => {
    const { idToken } = await signIn(t, browser);
    receiver.plan = ['redirect'];
    await endSession(browser, idToken);
    await eventually(() => awaitingRetry(t, 1));
    await sleep(200);
    assert.deepEqual(receiver.elsewhere, []);
    assert.equal(receiver.deliveries.length, 1);
  });

  test('an endless response body is not read: delivered on the status, the connection dropped', async () => {
    const { idToken } = await signIn(t, browser);
    receiver.plan = ['endless'];
    await endSession(browser, idToken);
    await eventually(async () => (await queued(t)).length === 0);
    await receiver.endlessClosed;
    assert.equal(receiver.deliveries.length, 1);
  });

  test('gives up an hour after the logout, audited with the last error', async () => {
    const { idToken } = await signIn(t, browser);
    receiver.plan = [503, 503];
    await endSession(browser, idToken);
    await eventually(() => awaitingRetry(t, 1));
    t.clock.advance(3600);
    // The job is deleted first, then the event recorded: wait for the event.
    await eventually(async () => (await audited(t, 'backchannel.given_up')).length === 1);
    assert.deepEqual(await queued(t), []);
    assert.equal(receiver.deliveries.length, 2);
    const [event] = await t.deps.store.listAuditEvents({ type: 'backchannel.given_up', limit: 1 });
    assert.equal(event?.clientId, RP.id);
    assert.equal(event?.reason, 'after 2 attempts; last: answered 503');
  });

  test('signing in as someone else ends the previous session and tells the RP', async () => {
    const { idToken } = await signIn(t, browser);
    await signIn(t, browser, { who: finn, prompt: 'login' });
    await eventually(() => receiver.deliveries.length === 1);
    const token = decodeJwt(receiver.deliveries[0]?.token ?? '');
    assert.equal(token.sub, decodeJwt(idToken).sub);
    assert.equal(token['sid'], decodeJwt(idToken)['sid']);
  });

  test('POST /oauth/logout tells the RP', async () => {
    const { idToken, config } = await signIn(t, browser);
    // Any of our pages hands out the CSRF token the logout form posts.
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      prompt: 'login',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.get(url.href);
    const { csrf } = formState(page.body);
    assert.equal((await browser.post({ csrf }, '/oauth/logout')).status, 200);
    await eventually(() => receiver.deliveries.length === 1);
    assert.equal(decodeJwt(receiver.deliveries[0]?.token ?? '')['sid'], decodeJwt(idToken)['sid']);
  });

  test('an idle session that expires queues nothing', async () => {
    await signIn(t, browser);
    t.clock.advance(t.deps.config.sessionTtl + 1);
    await t.deps.store.sweepExpired(t.clock.now);
    await sleep(200);
    assert.deepEqual(await queued(t), []);
    assert.equal(receiver.deliveries.length, 0);
  });

  test('user disable ends every session with a logout token and revokes the refresh tokens', async () => {
    const first = await signIn(t, browser, { who: finn, scope: 'openid offline_access' });
    const second = await signIn(t, new Browser(t.url), { who: finn });
    assert.equal(typeof first.refreshToken, 'string');
    await disableUser(t.deps, finn.email);
    await eventually(() => receiver.deliveries.length === 2);
    const sids = receiver.deliveries.map((d) => decodeJwt(d.token)['sid']).sort();
    assert.deepEqual(
      sids,
      [decodeJwt(first.idToken)['sid'], decodeJwt(second.idToken)['sid']].sort(),
    );
    const live = await t.rows<{ n: number }>(
      'select count(*) as n from refresh_tokens where revoked_at is null and user_id = (select id from users where email = ?)',
      finn.email,
    );
    assert.equal(Number(live[0]?.n), 0);
    await assert.rejects(
      client.refreshTokenGrant(first.config, first.refreshToken as string),
      (err: client.ResponseBodyError) => err.error === 'invalid_grant',
    );
  });
});

describe('Back-Channel Logout across processes', () => {
  const receiver = new Receiver();
  let hook: string;
  let dir: string;

  before(async () => {
    hook = await receiver.start();
  });
  beforeEach(() => {
    receiver.reset();
    dir = mkdtempSync(join(tmpdir(), 'tessera-bcl-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  after(() => receiver.close());

  test('a job queued before a restart is delivered by the next process', async () => {
    const database = `sqlite:${join(dir, 'tessera.db')}`;
    // A worker that would not look for five minutes: the app closes first.
    const first = await openApp(hook, { database, pollInterval: 300 });
    const browser = new Browser(first.url);
    const { idToken } = await signIn(first, browser);
    await endSession(browser, idToken);
    await first.close();
    assert.equal(receiver.deliveries.length, 0);

    const second = await openApp(hook, { database });
    try {
      await eventually(() => receiver.deliveries.length === 1);
      assert.equal(
        decodeJwt(receiver.deliveries[0]?.token ?? '')['sid'],
        decodeJwt(idToken)['sid'],
      );
      await eventually(async () => (await queued(second)).length === 0);
    } finally {
      await second.close();
    }
  });

  test('two processes on one database deliver each job once', async () => {
    const database = `sqlite:${join(dir, 'tessera.db')}`;
    const a = await openApp(hook, { database });
    const b = await openApp(hook, { database });
    try {
      // Both workers look every 50 ms at the same queue; each job must be claimed once.
      const sids: unknown[] = [];
      for (let i = 0; i < 10; i++) {
        const browser = new Browser(i % 2 ? a.url : b.url);
        const { idToken } = await signIn(i % 2 ? a : b, browser);
        sids.push(decodeJwt(idToken)['sid']);
        await endSession(browser, idToken);
      }
      await eventually(async () => (await queued(a)).length === 0);
      await sleep(200);
      const delivered = receiver.deliveries.map((d) => decodeJwt(d.token)['sid']);
      assert.equal(delivered.length, 10);
      assert.deepEqual(new Set(delivered), new Set(sids));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
