/**
 * Graceful shutdown: SIGTERM while requests are in flight lets every one of them finish with
 * its normal answer, then the process exits 0.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { type WebApp, loginForm, postLogin, seedWebApp } from '../helpers/login.js';
import { type RunningServer, startServer } from '../helpers/server.js';

const APP: WebApp = {
  clientId: 'app',
  redirectUri: 'https://app.example.com/cb',
  email: 'ann@acme.example',
  password: 'graceful password 1',
};
const IN_FLIGHT = 8;

describe('SIGTERM', () => {
  let ws: Workspace;
  let server: RunningServer;

  before(async () => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() } });
    await seedWebApp(ws, APP, { grants: ['authorization_code'] });
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
      Array.from({ length: IN_FLIGHT }, () => loginForm(server.url, APP)),
    );
    const posts = forms.map((f) =>
      postLogin(server.url, f, 30_000).then(
        (r) => r.status,
        // A failed request shows up by its error code in the assertion below.
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
