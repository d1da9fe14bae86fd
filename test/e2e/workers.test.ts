/**
 * `serve --workers N` (node:cluster) on one machine: the primary announces its URL once every
 * worker listens, the workers answer token requests on the shared port, and SIGTERM to the
 * primary stops it and every worker. SQLite, as one machine needs nothing else.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { freePort } from '../helpers/postgres.js';
import { type RunningServer, postForm, startServer } from '../helpers/server.js';

/** Pids of the live (not zombie) children of `parent` whose command line runs the CLI. */
function cliChildren(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces, so parse after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== parent || state === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('src/cli/main.ts'))
        out.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

/** True while `pid` is a live process (a zombie has exited). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

const skip = existsSync('/proc/self/stat') ? false : 'needs /proc to find the worker processes';

describe('serve --workers', { skip }, () => {
  let ws: Workspace;
  let server: RunningServer | undefined;
  /** Worker pids seen, killed in `after` if a failed test left any behind. */
  let workers: number[] = [];

  before(() => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() } });
  });
  after(async () => {
    await server?.stop();
    for (const pid of workers.filter(running)) process.kill(pid, 'SIGKILL');
    ws.remove();
  });

  it('answers token requests from two workers and stops them all on SIGTERM', async () => {
    server = await startServer({
      database: ws.database,
      cwd: ws.dir,
      env: ws.env,
      port: await freePort(),
      args: ['--workers', '2', '--demo'],
    });
    const client = server.announced.demo?.clients.find((c) => c.dialect === 'standard');
    assert.ok(client?.client_secret, 'the demo seeded a standard client');
    const auth = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;

    // Announced only once both workers listen: the first request already gets an answer.
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        postForm(
          `${server?.url}/oauth/token`,
          { grant_type: 'client_credentials' },
          { authorization: auth },
        ),
      ),
    );
    for (const res of results) {
      assert.equal(res.status, 200, res.text);
      assert.equal(typeof res.body['access_token'], 'string');
    }

    workers = cliChildren(server.pid);
    assert.equal(workers.length, 2, 'the primary runs two workers');

    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, 'the primary exits cleanly on SIGTERM');
    // Workers finish their shutdown on their own; give them a bounded moment.
    const deadline = Date.now() + 20_000;
    while (workers.some(running) && Date.now() < deadline) await sleep(100);
    assert.deepEqual(workers.filter(running), [], 'no worker is left running');
  });

  it('fails (exit 1) instead of announcing when the workers cannot listen', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startServer({
          database: ws.database,
          cwd: ws.dir,
          env: ws.env,
          port,
          args: ['--workers', '2'],
        }),
        (err: Error) => {
          assert.match(err.message, /exited \(1\) before listening/);
          assert.match(err.message, /EADDRINUSE/);
          return true;
        },
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
