/**
 * Failed logins are throttled hard per (account, IP), softly per account and hard per IP
 * (docs/security.md, "Brute force"): an attacker at one address locks only that address out
 * of the account, never the owner elsewhere; failures from many addresses make every
 * attempt on the account wait a doubling, capped time, told at once ("try again in N s");
 * every answer reads the same whether or not the account exists.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listAudit } from '../../src/admin/audit.js';
import { createUser } from '../../src/admin/users.js';
import { Throttle } from '../../src/oauth/throttle.js';
import type { Store } from '../../src/store/store.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  CookieJar,
  SESSION_COOKIE,
  authorizeUrl,
  browserGet,
  isLoginPage,
  redirectOf,
  setCookie,
  submitLogin,
} from '../helpers/spaces.js';

const REDIRECT = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const PASSWORD = 'correct horse battery';
const WINDOW = 600;
const MAX_WAIT = 20;
const USERS = ['ann', 'bob', 'cat', 'dan', 'eve'].map((n) => `${n}@acme.example`);

type Answer = Awaited<ReturnType<typeof submitLogin>>;

function errorText(html: string): string {
  return /<p class="error"[^>]*>([^<]*)<\/p>/.exec(html)?.[1] ?? '';
}

/** A refusal to try now: 429, Retry-After `seconds`, the wait on the page, no session. */
function assertWait(res: Answer, seconds: number, text: RegExp): void {
  assert.equal(res.statusCode, 429, res.body);
  assert.equal(res.headers['retry-after'], String(seconds));
  assert.match(errorText(res.body), text);
  assert.equal(setCookie(res, SESSION_COOKIE), undefined);
}

/** An answer with what differs between any two page loads blanked: form state and the email echoed. */
function comparable(res: Answer, email: string) {
  return {
    status: res.statusCode,
    retryAfter: res.headers['retry-after'],
    body: res.body
      .replace(/(name="(?:txn|csrf)" value=")[^"]*/g, '$1…')
      .replaceAll(email, '<email>'),
  };
}

describe('login throttling', () => {
  let t: TestApp;
  const query = { client_id: 'dnaspaces', redirect_uri: REDIRECT, response_type: 'code' };

  before(async () => {
    t = await createTestApp({
      flags: {
        loginFailureLimit: 3,
        loginAccountFailureLimit: 5,
        loginMaxWait: MAX_WAIT,
        loginIpFailureLimit: 8,
        throttleWindow: WINDOW,
      },
    });
    await t.tenant('acme');
    for (const email of USERS)
      await createUser(t.deps, { email, tenants: ['acme'], password: PASSWORD });
    await t.client({
      clientId: 'dnaspaces',
      secret: '31e08c21136c9102cdee',
      dialect: 'cisco-spaces',
      redirectUris: [REDIRECT],
    });
  });
  after(() => t.close());

  async function tryLogin(email: string, password: string, ip: string): Promise<Answer> {
    const jar = new CookieJar();
    const page = await browserGet(t, jar, authorizeUrl(query));
    assert.ok(isLoginPage(page));
    return submitLogin(t, jar, page, email, password, ip);
  }

  function signedIn(res: Answer): void {
    const to = redirectOf(res);
    assert.equal(to.origin + to.pathname, REDIRECT);
  }

  test('an attacker at one IP locks that IP out of the account, never the owner at another', async () => {
    const [ann] = USERS as [string];
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await tryLogin(ann, `wrong-${i}`, '203.0.113.1')).statusCode);
    assert.deepEqual(statuses, [401, 401, 429]);
    assertWait(
      await tryLogin(ann, 'wrong-3', '203.0.113.1'),
      WINDOW,
      /try again in 10 minute\(s\)/,
    );
    assertWait(await tryLogin(ann, PASSWORD, '203.0.113.1'), WINDOW, /Too many sign-in attempts/);

    signedIn(await tryLogin(ann, PASSWORD, '198.51.100.7'));
  });

  test('failures from many IPs: every attempt on the account waits, doubling up to loginMaxWait, answered at once', async () => {
    const bob = USERS[1] as string;
    let ip = 0;
    const attacker = () => `203.0.113.${100 + ip++}`;
    for (let i = 0; i < 4; i++)
      assert.equal((await tryLogin(bob, `guess-${i}`, attacker())).statusCode, 401);
    // The account's 5th failure (loginAccountFailureLimit) starts the wait: 1 s.
    assertWait(await tryLogin(bob, 'guess-4', attacker()), 1, /try again in 1 second\(s\)/);
    // During the wait the password is not even checked: the owner, elsewhere, waits too…
    assertWait(await tryLogin(bob, PASSWORD, '198.51.100.8'), 1, /try again in 1 second\(s\)/);
    // …and a refused attempt is not a failure: the wait stays 1 s, the next one doubles it.
    assertWait(await tryLogin(bob, 'guess-x', attacker()), 1, /try again in 1 second\(s\)/);
    const waits = [];
    for (let i = 0; i < 7; i++) {
      t.clock.advance(waits.at(-1) ?? 1);
      const res = await tryLogin(bob, `guess-${5 + i}`, attacker());
      assert.equal(res.statusCode, 429);
      waits.push(Number(res.headers['retry-after']));
    }
    assert.deepEqual(waits, [2, 4, 8, 16, MAX_WAIT, MAX_WAIT, MAX_WAIT]);

    assertWait(await tryLogin(bob, PASSWORD, '198.51.100.8'), MAX_WAIT, /20 second\(s\)/);
    t.clock.advance(MAX_WAIT);
    signedIn(await tryLogin(bob, PASSWORD, '198.51.100.8'));
  });

  test('known and unknown accounts answer alike: a failure, the IP lockout, the account wait', async () => {
    const run = async (email: string, ips: [string, string, string]) => {
      const answers: Answer[] = [];
      for (let i = 0; i < 3; i++) answers.push(await tryLogin(email, `w-${i}`, ips[0]));
      answers.push(await tryLogin(email, `w-3`, ips[1]));
      answers.push(await tryLogin(email, 'w-4', ips[1]));
      answers.push(await tryLogin(email, PASSWORD, ips[2]));
      return answers.map((a) => comparable(a, email));
    };
    const known = await run(USERS[2] as string, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    const unknown = await run('ghost@acme.example', ['192.0.2.11', '192.0.2.12', '192.0.2.13']);
    assert.deepEqual(
      known.map((a) => [a.status, a.retryAfter]),
      [
        [401, undefined],
        [401, undefined],
        [429, String(WINDOW)],
        [401, undefined],
        [429, '1'],
        [429, '1'],
      ],
    );
    assert.deepEqual(unknown, known);
  });

  test('the per-IP limit holds across accounts, for that IP only', async () => {
    const ip = '203.0.113.200';
    const statuses = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await tryLogin(`nobody-${i}@acme.example`, 'x', ip)).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 401, 429]);
    const dan = USERS[3] as string;
    assertWait(await tryLogin(dan, PASSWORD, ip), WINDOW, /Too many sign-in attempts/);
    signedIn(await tryLogin(dan, PASSWORD, '198.51.100.9'));
  });

  test('an email typed with a newline and the owner’s IP counts against no key of the owner', async () => {
    const eve = USERS[4] as string;
    const owner = '198.51.100.10';
    for (let i = 0; i < 5; i++) {
      const res = await tryLogin(`${eve}\n${owner}`, 'x', `203.0.113.${210 + i}`);
      assert.notEqual(res.statusCode, 303);
    }
    signedIn(await tryLogin(eve, PASSWORD, owner));
  });

  test('hostile emails get the ordinary failure, never a 500', async () => {
    for (const email of ['', ' ', 'a\u0000b@acme.example', 'x'.repeat(5000), '%00\r\n@']) {
      const res = await tryLogin(email, 'x', '203.0.113.250');
      assert.equal(res.statusCode, 401, `${JSON.stringify(email.slice(0, 20))}: ${res.body}`);
    }
  });

  test('lockouts are audited with the limit that was hit', async () => {
    const reasons = (await listAudit(t.deps, { type: 'login.locked' })).map((e) => e.reason);
    assert.ok(
      reasons.includes(`refused for ${WINDOW} s: this account from this IP`),
      reasons.join(),
    );
    assert.ok(reasons.includes('refused for 1 s: this account'), reasons.join());
    assert.ok(reasons.includes(`refused for ${WINDOW} s: this IP`), reasons.join());
    const failed = await listAudit(t.deps, { type: 'login.failed', limit: 3 });
    assert.deepEqual(
      failed.map((e) => [e.reason, e.ip]),
      [
        ['wrong password', '203.0.113.1'],
        ['wrong password', '203.0.113.1'],
        ['wrong password', '203.0.113.1'],
      ],
    );
  });

  test('a soft wait starts when the failure is answered: a slow store write does not use it up', async () => {
    const slowStore = {
      ...t.deps.store,
      recordFailure: async (...args: Parameters<Store['recordFailure']>) => {
        const counted = await t.deps.store.recordFailure(...args);
        t.clock.advance(1);
        return counted;
      },
    };
    const throttle = new Throttle(slowStore, t.clock.read, WINDOW);
    const rule = { key: 'login-account:slow@acme.example', limit: 1, maxWait: MAX_WAIT };
    assert.equal(await throttle.fail([rule]), 1);
    assert.equal(throttle.retryAfter([rule.key]), 1);
  });

  test('after the window the locked IP signs in again', async () => {
    t.clock.advance(WINDOW + 1);
    signedIn(await tryLogin(USERS[0] as string, PASSWORD, '203.0.113.1'));
  });
});
