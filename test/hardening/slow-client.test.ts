/**
 * Slow clients (issue 7): a client that drips its headers or its body, or keeps a connection
 * open and idle, is answered 408 or disconnected once the configured limit passes, and never
 * holds the server: a normal request is served meanwhile. The server runs with short limits
 * (`--headers-timeout 0.5 --request-timeout 1 --keep-alive-timeout 0.5`) so the test is quick;
 * the defaults (20 s, 30 s, 5 s) take the same path.
 */
import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { type RunningServer, startServer } from '../helpers/server.js';

/** How long past its limit a connection may live before the test calls the limit unenforced. */
const GRACE_MS = 4000;

interface Connection {
  readonly socket: Socket;
  /** Everything the server sent, once it closed the connection (or the test gave up). */
  readonly closed: Promise<{ data: string; afterMs: number }>;
}

function open(url: string): Promise<Connection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveOpen, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const opened = Date.now();
    let data = '';
    socket.setEncoding('utf8').on('data', (s: string) => (data += s));
    const closed = new Promise<{ data: string; afterMs: number }>((resolveClosed) => {
      const giveUp = setTimeout(() => socket.destroy(), 30_000);
      socket.once('close', () => {
        clearTimeout(giveUp);
        resolveClosed({ data, afterMs: Date.now() - opened });
      });
    });
    // The server may reset a connection it is done with; the close event reports it.
    socket.on('error', () => undefined);
    socket.once('connect', () => resolveOpen({ socket, closed }));
    socket.once('error', reject);
  });
}

/** Writes `chunks` one at a time, `everyMs` apart, while the socket stays open. */
async function drip(socket: Socket, chunks: readonly string[], everyMs: number): Promise<void> {
  for (const chunk of chunks) {
    if (socket.destroyed) return;
    socket.write(chunk);
    await sleep(everyMs);
  }
}

describe('slow clients', () => {
  let ws: Workspace;
  let server: RunningServer;

  before(async () => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() } });
    server = await startServer({
      database: ws.database,
      env: ws.env,
      cwd: ws.dir,
      args: ['--headers-timeout', '0.5', '--request-timeout', '1', '--keep-alive-timeout', '0.5'],
    });
  });
  after(async () => {
    await server?.stop();
    ws?.remove();
  });

  test('headers dripped a line at a time are cut off with 408 while others are served', async () => {
    const slow = await open(server.url);
    const lines = Array.from({ length: 100 }, (_, i) => `x-drip-${i}: ${i}\r\n`);
    void drip(slow.socket, ['GET /healthz HTTP/1.1\r\nhost: tessera\r\n', ...lines], 100);
    // Served while the slow client is still dripping.
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });

    const { data, afterMs } = await slow.closed;
    assert.match(data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(afterMs < 500 + GRACE_MS, `closed after ${afterMs} ms`);
  });

  test('a body dripped a byte at a time is cut off with 408 at the request timeout', async () => {
    const slow = await open(server.url);
    const body = 'grant_type=client_credentials&client_id=x&client_secret=y';
    const head =
      'POST /oauth/token HTTP/1.1\r\nhost: tessera\r\n' +
      `content-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\n\r\n`;
    void drip(slow.socket, [head, ...body], 100);
    const { data, afterMs } = await slow.closed;
    assert.match(data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(afterMs < 1000 + GRACE_MS, `closed after ${afterMs} ms`);
  });

  test('connections that never send a byte are closed, and the server keeps answering', async () => {
    const idle = await Promise.all(Array.from({ length: 50 }, () => open(server.url)));
    const closed = await Promise.all(idle.map((c) => c.closed));
    for (const { afterMs } of closed) assert.ok(afterMs < 500 + GRACE_MS, `open ${afterMs} ms`);
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
  });

  test('clients that hang up right after their request leave the server answering', async () => {
    // Each client is gone before its answer is written: the write must fail quietly.
    const body = 'grant_type=client_credentials&client_id=x&client_secret=y';
    const request =
      'POST /oauth/token HTTP/1.1\r\nhost: tessera\r\n' +
      `content-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    const gone = await Promise.all(Array.from({ length: 100 }, () => open(server.url)));
    for (const c of gone) c.socket.end(request, () => c.socket.destroy());
    await Promise.all(gone.map((c) => c.closed));
    const res = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error?: string }).error, 'invalid_client');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });

  test('an idle kept-alive connection is closed after the keep-alive timeout', async () => {
    const conn = await open(server.url);
    conn.socket.write('GET /healthz HTTP/1.1\r\nhost: tessera\r\n\r\n');
    const { data, afterMs } = await conn.closed;
    assert.match(data, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(afterMs < 500 + GRACE_MS, `closed after ${afterMs} ms`);
  });

  test('a headers timeout above the request timeout is refused at start', async () => {
    const r = await ws.cli([
      'serve',
      '--port',
      '0',
      '--headers-timeout',
      '5',
      '--request-timeout',
      '1',
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid headersTimeout: must not exceed requestTimeout/);
  });
});
