/**
 * Graceful shutdown: SIGTERM while requests are in flight lets every one of them finish with
 * its normal answer, then the process exits 0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const PASSWORD = 'graceful password 1';
const REDIRECT = 'https://app.example.com/cb';
const IN_FLIGHT = 8;

describe('SIGTERM', () => {
  let ws: Workspace;
  let server: RunningServer;

  before(async () => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() } });
    await ws.json(['tenant', 'create', '--id', 'acme', '--name', 'Acme']);
    await ws.json(
      ['user', 'create', '--email', 'ann@acme.example', '--tenant', 'acme', '--password-stdin'],
      { stdin: `${PASSWORD}\n` },
    );
    await ws.json([
      'client',
      'create',
      '--name',
      'App',
      '--client-id',
      'app',
      '--grant',
      'authorization_code',
      '--redirect-uri',
      REDIRECT,
    ]);
    server = await startServer({
      database: ws.database,
      env: ws.env,
      cwd: ws.dir,
      args: ['--log-level', 'info'],
    });
  });
  after(async () => {
    await server?.stop();
    ws?.remove();
  });

  test('finishes the requests in flight, then exits 0', async () => {
    // Login posts verify an argon2id hash: slow enough to be in flight when the signal lands.
    const forms = await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        const query = new URLSearchParams({
          client_id: 'app',
          redirect_uri: REDIRECT,
          response_type: 'code',
          state: 's',
        });
        const page = await fetch(`${server.url}/oauth/authorize?${query}`);
        const html = await page.text();
        const field = (name: string) =>
          new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
        const cookie =
          page.headers
            .getSetCookie()
            .find((c) => c.startsWith('tessera_csrf='))
            ?.split(';')[0] ?? '';
        return {
          cookie,
          body: new URLSearchParams({
            txn: field('txn'),
            csrf: field('csrf'),
            email: 'ann@acme.example',
            password: PASSWORD,
          }).toString(),
        };
      }),
    );
    const posts = forms.map((f) =>
      fetch(`${server.url}/oauth/authorize`, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(30_000),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: f.cookie },
        body: f.body,
      }).then(
        (r) => r.status,
        // A connection the server never accepted (opened after it stopped listening) is
        // refused; anything else — a reset, a hang-up — would be a request dropped mid-flight.
        (err: unknown) => (err as { cause?: { code?: string } }).cause?.code ?? String(err),
      ),
    );
    // Signal once the server has begun every one of them (its log says so), so all are in
    // flight — each still verifying its argon2id hash — when SIGTERM lands.
    const begun = () =>
      server
        .stderr()
        .split('\n')
        .filter((l) => l.includes('"incoming request"') && l.includes('"POST"')).length;
    for (let i = 0; i < 2000 && begun() < IN_FLIGHT; i++)
      await new Promise((resolve) => setTimeout(resolve, 2));
    assert.equal(begun(), IN_FLIGHT, 'all logins reached the server');
    const exit = server.stop('SIGTERM');
    const statuses = await Promise.all(posts);
    assert.deepEqual(await exit, { code: 0, signal: null });
    // What the server itself saw: every login post it began reading, it answered.
    const lines = server
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as {
            reqId?: string;
            msg?: string;
            req?: { method: string; path: string };
            res?: { statusCode: number };
          },
      );
    const received = new Set(
      lines
        .filter(
          (l) =>
            l.msg === 'incoming request' &&
            l.req?.method === 'POST' &&
            l.req.path === '/oauth/authorize',
        )
        .map((l) => l.reqId),
    );
    const answered = lines.filter((l) => l.msg === 'request completed' && received.has(l.reqId));
    assert.equal(answered.length, received.size, 'every login the server received was answered');
    assert.ok(answered.every((l) => l.res?.statusCode === 303));
    assert.equal(received.size, IN_FLIGHT);
    assert.deepEqual(statuses, Array(IN_FLIGHT).fill(303), 'every client got its answer');
    await assert.rejects(fetch(`${server.url}/healthz`), 'the port is closed afterwards');
  });
});
