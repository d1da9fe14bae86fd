/**
 * Crash safety: the server is killed with SIGKILL in the middle of a refresh and code load,
 * restarted on the same SQLite file, and then every refresh token a client had received
 * still works exactly once, and no authorization code is redeemed twice in total.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { type WebApp, loginForm, postLogin, seedWebApp } from '../helpers/login.js';
import { type RunningServer, postForm, startServer } from '../helpers/server.js';

const SECRET = 'crash-secret-0123456789';
const APP: WebApp = {
  clientId: 'app',
  redirectUri: 'https://app.example.com/callback',
  email: 'ann@acme.example',
  password: 'crash test password',
};
const REDIRECT = APP.redirectUri;
const CHAINS = 8;
const CODES = 12;

interface Chain {
  /** The newest refresh token this chain received in a complete response. */
  latest: string;
  /** A request presenting `latest` is outstanding. */
  pending: boolean;
  /**
   * Whether `latest` was being presented when the server died. Then the rotation may have
   * committed with its response lost, and the token is spent: only chains that were between
   * requests at the kill must find it unused.
   */
  inFlight: boolean;
}

/** Logs in through the form and returns a fresh authorization code (not redeemed). */
async function newCode(url: string): Promise<string> {
  const res = await postLogin(url, await loginForm(url, APP));
  assert.equal(res.status, 303);
  return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
}

const auth = { client_id: 'app', client_secret: SECRET };

describe('a SIGKILL under load loses nothing a client received', () => {
  let ws: Workspace;
  let server: RunningServer;

  before(async () => {
    ws = createWorkspace({ env: { TESSERA_MASTER_KEY: newMasterKey() } });
    await seedWebApp(ws, APP, {
      grants: ['authorization_code', 'refresh_token', 'client_credentials'],
      secret: SECRET,
    });
    server = await startServer({ database: ws.database, env: ws.env, cwd: ws.dir });
  });

  after(async () => {
    await server?.stop();
    ws?.remove();
  });

  test('refresh tokens work exactly once after the restart; no code is redeemed twice', async () => {
    const chains: Chain[] = [];
    for (let i = 0; i < CHAINS; i++) {
      const res = await postForm(`${server.url}/oauth/token`, {
        ...auth,
        grant_type: 'client_credentials',
      });
      assert.equal(res.status, 200);
      chains.push({ latest: res.body['refresh_token'] as string, pending: false, inFlight: false });
    }
    const codes: string[] = [];
    for (let i = 0; i < CODES; i++) codes.push(await newCode(server.url));
    const redeemedBeforeCrash = new Set<string>();

    // Load: every chain refreshes in a loop, and codes are redeemed, until the server dies.
    let alive = true;
    // Half the chains refresh a few times and then hold their newest token unpresented (as a
    // client between calls does); the other half keep refreshing until the kill.
    const refreshing = chains.map(async (chain, index) => {
      let rounds = index % 2 === 0 ? 3 : Number.POSITIVE_INFINITY;
      while (alive && rounds-- > 0) {
        try {
          chain.pending = true;
          const res = await postForm(`${server.url}/oauth/token`, {
            ...auth,
            grant_type: 'refresh_token',
            refresh_token: chain.latest,
          });
          chain.pending = false;
          // Only a complete 200 response hands the client a new token.
          if (res.status === 200) chain.latest = res.body['refresh_token'] as string;
          else assert.fail(`refresh refused under load: ${res.status} ${res.text}`);
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          return;
        }
      }
    });
    const redeeming = (async () => {
      for (const code of codes.slice(0, CODES / 2)) {
        try {
          const res = await postForm(`${server.url}/oauth/token`, {
            ...auth,
            grant_type: 'authorization_code',
            code,
            redirect_uri: REDIRECT,
          });
          if (res.status === 200) redeemedBeforeCrash.add(code);
        } catch {
          return;
        }
      }
    })();
    // Kill once the holding chains are idle, with the others (and the codes) still in motion.
    await Promise.all([
      Promise.all(refreshing.filter((_, i) => i % 2 === 0)),
      new Promise((r) => setTimeout(r, 500)),
    ]);
    // Which chains have a request outstanding, taken in the same tick as the kill.
    for (const chain of chains) chain.inFlight = chain.pending;
    const exit = await server.stop('SIGKILL');
    alive = false;
    await Promise.all([...refreshing, redeeming]);
    assert.equal(exit.signal, 'SIGKILL');

    server = await startServer({ database: ws.database, env: ws.env, cwd: ws.dir });

    const idle = chains.filter((c) => !c.inFlight);
    assert.ok(idle.length > 0, 'some chains were between requests at the kill');
    for (const chain of chains) {
      const first = await postForm(`${server.url}/oauth/token`, {
        ...auth,
        grant_type: 'refresh_token',
        refresh_token: chain.latest,
      });
      if (chain.inFlight) {
        // Either the rotation was lost with the process (the token works) or it committed
        // (the token is spent): never anything else.
        assert.ok(first.status === 200 || first.body['error'] === 'invalid_grant', first.text);
        continue;
      }
      assert.equal(
        first.status,
        200,
        `a received refresh token works after the crash: ${first.text}`,
      );
      const again = await postForm(`${server.url}/oauth/token`, {
        ...auth,
        grant_type: 'refresh_token',
        refresh_token: chain.latest,
      });
      assert.equal(again.status, 400, 'and only once');
    }
    let successes = redeemedBeforeCrash.size;
    for (const code of codes) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await postForm(`${server.url}/oauth/token`, {
          ...auth,
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT,
        });
        assert.ok(res.status === 200 || res.status === 400, `${res.status} ${res.text}`);
        if (res.status === 200) {
          assert.ok(
            !redeemedBeforeCrash.has(code),
            'a code redeemed before the crash is not redeemed again',
          );
          successes++;
        }
      }
    }
    // Every code was redeemed exactly once, before or after the crash — except one whose
    // redemption was in flight at the kill: committed, its response lost, it is spent.
    assert.ok(
      successes <= CODES && successes >= CODES - 1,
      `codes redeemed: ${successes} of ${CODES}`,
    );
  });
});
