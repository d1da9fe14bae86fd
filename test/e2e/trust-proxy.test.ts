/**
 * `--trust-proxy HOPS|ADDRS` (DESIGN §3): the client address is the right-most
 * `X-Forwarded-For` entry that is not a trusted proxy. A proxy that appends (nginx's
 * `$proxy_add_x_forwarded_for`, cloud load balancers) keeps whatever the client sent on the
 * left, so trusting the left-most entry would let every caller choose its own address: escape
 * the per-IP limits and write a lie into the audit trail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { postForm, startServer } from '../helpers/server.js';

const WINDOW = 600;
const WRONG = {
  grant_type: 'client_credentials',
  client_id: 'nobody',
  client_secret: 'wrong-0123456789',
};

/** A failed client authentication, as a proxy at `peer` forwards it. */
function failedAuth(t: TestApp, forwardedFor: string | undefined, peer = '127.0.0.1') {
  return t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    remoteAddress: peer,
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    payload: WRONG,
  });
}

/**
 * The address Tessera takes as the client's: with a limit of one failure, the failure is
 * throttled under that address and audited with it. The window is then let pass, so every
 * observation starts afresh.
 */
async function clientAddress(
  t: TestApp,
  forwardedFor: string | undefined,
  peer?: string,
): Promise<string | null | undefined> {
  const res = await failedAuth(t, forwardedFor, peer);
  assert.equal(res.statusCode, 401, res.body);
  assert.equal(res.headers['retry-after'], String(WINDOW));
  const rows = await t.rows<{ ip: string | null }>(
    "select ip from audit_events where type = 'client.throttled' and request_id = ?",
    res.headers['x-request-id'],
  );
  t.clock.advance(WINDOW + 1);
  return rows[0]?.ip;
}

/** An app with `trustProxy` as a flag value, where every failed client authentication throttles. */
function proxiedApp(trustProxy: string | undefined, ipLimit = 1): Promise<TestApp> {
  return createTestApp({
    flags: {
      ...(trustProxy === undefined ? {} : { trustProxy }),
      clientAuthFailureLimit: 1,
      clientAuthIpFailureLimit: ipLimit,
      throttleWindow: WINDOW,
    },
  });
}

describe('--trust-proxy 1: one hop', () => {
  let t: TestApp;
  before(async () => {
    t = await proxiedApp('1');
  });
  after(() => t.close());

  test('the client is the right-most X-Forwarded-For entry, not the left-most it wrote', async () => {
    assert.equal(await clientAddress(t, '6.6.6.6, 1.2.3.4'), '1.2.3.4');
    assert.equal(await clientAddress(t, '1.2.3.4'), '1.2.3.4');
  });

  test('without X-Forwarded-For the client is the peer', async () => {
    assert.equal(await clientAddress(t, undefined, '198.51.100.7'), '198.51.100.7');
  });
});

describe('--trust-proxy 1: a forged left-most entry does not escape the per-IP limit', () => {
  let t: TestApp;
  let secret: string;
  before(async () => {
    t = await createTestApp({
      flags: {
        trustProxy: '1',
        clientAuthFailureLimit: 100,
        clientAuthIpFailureLimit: 2,
        throttleWindow: WINDOW,
      },
    });
    ({ client_secret: secret } = await t.client({
      clientId: 'svc',
      secret: 'svc-secret-0123456789',
      grants: ['client_credentials'],
    }));
  });
  after(() => t.close());

  test('two failures behind 1.2.3.4 with different forged entries lock 1.2.3.4 only', async () => {
    const first = await failedAuth(t, '6.6.6.6, 1.2.3.4');
    assert.equal(first.statusCode, 401);
    assert.equal(first.headers['retry-after'], undefined);
    const second = await failedAuth(t, '7.7.7.7, 1.2.3.4');
    assert.equal(second.statusCode, 401);
    assert.equal(second.headers['retry-after'], String(WINDOW), 'the second failure of 1.2.3.4');

    const right = (forwardedFor: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'x-forwarded-for': forwardedFor },
        payload: { grant_type: 'client_credentials', client_id: 'svc', client_secret: secret },
      });
    const locked = await right('8.8.8.8, 1.2.3.4');
    assert.equal(locked.statusCode, 401, 'the right secret from the locked address is refused');
    assert.equal(locked.json().error, 'invalid_client');
    const elsewhere = await right('1.2.3.4, 1.2.3.5');
    assert.equal(elsewhere.statusCode, 200, 'another client behind the proxy is not locked');
  });
});

describe('--trust-proxy 127.0.0.1,10.0.0.0/8: named proxies', () => {
  let t: TestApp;
  before(async () => {
    t = await proxiedApp('127.0.0.1,10.0.0.0/8');
  });
  after(() => t.close());

  test('trusted hops are skipped from the right; the first untrusted entry is the client', async () => {
    assert.equal(await clientAddress(t, '6.6.6.6, 1.2.3.4, 10.1.2.3'), '1.2.3.4');
    assert.equal(await clientAddress(t, '6.6.6.6, 1.2.3.4', '10.200.0.1'), '1.2.3.4');
  });

  test('a caller that is not a named proxy is the client, whatever it forwards', async () => {
    assert.equal(await clientAddress(t, '1.2.3.4', '203.0.113.9'), '203.0.113.9');
  });
});

describe('no --trust-proxy', () => {
  let t: TestApp;
  before(async () => {
    t = await proxiedApp(undefined);
  });
  after(() => t.close());

  test('X-Forwarded-For is ignored: the client is the peer', async () => {
    assert.equal(await clientAddress(t, '6.6.6.6, 1.2.3.4', '198.51.100.7'), '198.51.100.7');
  });
});

describe('trustProxy values', () => {
  const load = (trustProxy: unknown, from: 'flags' | 'env' = 'flags') =>
    loadConfig({
      file: false,
      env: from === 'env' ? { TESSERA_TRUST_PROXY: String(trustProxy) } : {},
      flags: from === 'flags' ? { trustProxy } : {},
    }).trustProxy;

  test('a hop count, a list of addresses and CIDRs, the bare flag, off', () => {
    assert.equal(load('2'), 2);
    assert.equal(load(true), 1, 'the bare flag means one hop');
    assert.equal(load('true', 'env'), 1);
    assert.equal(load('false', 'env'), false);
    assert.equal(load('0'), false);
    assert.equal(load(undefined), false, 'off by default');
    assert.deepEqual(load(' 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8'), [
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
    ]);
    assert.deepEqual(load(['loopback', '192.168.0.0/16']), ['loopback', '192.168.0.0/16']);
  });

  for (const bad of [
    '1.2.3',
    '10.0.0.0/33',
    '::1/129',
    '-1',
    '1.5',
    'everything',
    '10.0.0.0/8,,x',
    '',
  ]) {
    test(`refuses ${JSON.stringify(bad)} naming the option`, () => {
      assert.throws(
        () => load(bad, 'env'),
        /^ConfigError: invalid trustProxy from environment TESSERA_TRUST_PROXY: /,
      );
    });
  }
});

describe('serve --trust-proxy', { timeout: 300_000 }, () => {
  let ws: Workspace;
  before(() => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() }, prefix: 'tessera-xff-' });
  });
  after(() => ws.remove());

  test('the bare flag trusts one hop: the audit trail records the right-most address', async () => {
    const server = await startServer({
      database: ws.database,
      cwd: ws.dir,
      env: ws.env,
      args: ['--client-auth-ip-failure-limit', '1', '--trust-proxy'],
    });
    try {
      const res = await postForm(`${server.url}/oauth/token`, WRONG, {
        'x-forwarded-for': '6.6.6.6, 1.2.3.4',
      });
      assert.equal(res.status, 401, res.text);
      const events = await ws.json<{ ip: string | null }[]>([
        'audit',
        'list',
        '--type',
        'client.throttled',
      ]);
      assert.deepEqual(
        events.map((e) => e.ip),
        ['1.2.3.4'],
      );
    } finally {
      await server.stop();
    }
  });

  for (const bad of ['1.2.3', '10.0.0.0/33', 'yes']) {
    test(`--trust-proxy ${bad} is refused at startup with one line`, async () => {
      const r = await ws.cli(['serve', '--port', '0', '--trust-proxy', bad]);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', /invalid trustProxy from flag --trust-proxy: /);
    });
  }
});
