/**
 * Many nodes, one PostgreSQL (issue 4): three real `tessera serve` processes on their own
 * ports share one database and one master key, and must behave as one server. They share an
 * issuer, as nodes behind one load balancer do. Every check goes over HTTP; operator actions
 * go through the CLI, as an operator would run them against the shared database.
 *
 * Runs only on PostgreSQL: skipped without TESSERA_TEST_PG_URL, a failure when CI=true.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '../../src/admin/clients.js';
import { createTenant } from '../../src/admin/tenants.js';
import { createUser } from '../../src/admin/users.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { openRuntime } from '../../src/server/runtime.js';
import { newMasterKey, runCli } from '../helpers/cli.js';
import { type FreshPostgresDatabase, createPostgresDatabase } from '../helpers/engines.js';
import { cookieHeader, formState } from '../helpers/html.js';
import { loginForm, postLogin } from '../helpers/login.js';
import { freePort } from '../helpers/postgres.js';
import { type HttpResult, type RunningServer, postForm, startServer } from '../helpers/server.js';

const pgUrl = process.env.TESSERA_TEST_PG_URL;
const inCi = process.env.CI === 'true';
const skip =
  !pgUrl && !inCi
    ? 'TESSERA_TEST_PG_URL is not set (run the tests through test/run.ts with PostgreSQL installed)'
    : false;

/** The staleness bound the issue allows for a deleted client, a rotated secret or a new key. */
const BOUND_MS = 5_000;
const CACHE_TTL = '1';

const MASTER_KEY = newMasterKey();
const EMAIL = 'ann@example.com';
const PASSWORD = 'correct horse battery staple';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

type TokenBody = {
  access_token?: string;
  refresh_token?: string;
  error?: string;
  active?: boolean;
};

interface Credentials {
  readonly id: string;
  readonly secret: string;
}

const basic = (c: Credentials) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;

function token(
  node: RunningServer,
  client: Credentials,
  params: Readonly<Record<string, string>>,
): Promise<HttpResult<TokenBody>> {
  return postForm<TokenBody>(`${node.url}/oauth/token`, params, { authorization: basic(client) });
}

const clientCredentials = (node: RunningServer, client: Credentials) =>
  token(node, client, { grant_type: 'client_credentials' });

function introspect(node: RunningServer, client: Credentials, value: string) {
  return postForm<TokenBody>(
    `${node.url}/oauth/introspect`,
    { token: value },
    { authorization: basic(client) },
  );
}

function jwtHeader(jwt: string): { kid?: string } {
  return JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
    kid?: string;
  };
}

async function jwksKids(node: RunningServer): Promise<string[]> {
  const res = await fetch(`${node.url}/.well-known/jwks.json`, {
    signal: AbortSignal.timeout(30_000),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { keys: { kid: string }[] };
  return body.keys.map((k) => k.kid);
}

/** Polls `probe` until it returns a value (not undefined), or fails after `BOUND_MS`. */
async function within<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + BOUND_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not seen within ${BOUND_MS} ms`);
    await sleep(100);
  }
}

/** `tessera --database <db> --json …` against the shared database; fails unless it exits 0. */
async function cli<T = Record<string, unknown>>(database: string, args: string[]): Promise<T> {
  const r = await runCli(['--database', database, '--json', ...args], {
    env: { TESSERA_MASTER_KEY: MASTER_KEY },
  });
  assert.equal(r.code, 0, `tessera ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('many nodes on one PostgreSQL', { skip }, () => {
  let database: FreshPostgresDatabase | undefined;
  let nodes: RunningServer[] = [];
  const node = (i: number) => nodes[i] as RunningServer;
  /** Clients seeded before the nodes start; secrets known only to the test. */
  const clients: Record<string, Credentials> = {};

  before(async () => {
    if (!pgUrl) {
      throw new Error(
        'PostgreSQL is required when CI=true: TESSERA_TEST_PG_URL is not set (run through test/run.ts)',
      );
    }
    database = await createPostgresDatabase({ migrate: false });
    const url = database.url;

    // Once per deployment (and per upgrade), before the nodes start.
    const migrated = await cli<{ applied: string[] }>(url, ['migrate']);
    assert.ok(migrated.applied.length > 0, 'migrate applied the schema');

    // Seed in-process through the same services the CLI uses (faster than a CLI per row);
    // this also creates the first signing key, so every node starts with the same one.
    const issuer = `http://127.0.0.1:${await freePort()}`;
    const config = loadConfig({
      env: {},
      file: false,
      flags: { database: url, masterKey: MASTER_KEY, issuer, logLevel: 'silent' },
    });
    const admin = await openRuntime(config, { logger: createLogger('silent'), migrate: false });
    try {
      await createTenant(admin, 't1', { name: 'Tenant One' });
      await createUser(admin, { email: EMAIL, tenants: ['t1'], password: PASSWORD });
      for (const [name, input] of Object.entries({
        refresh: { grants: ['client_credentials', 'refresh_token'] },
        revoke: { grants: ['client_credentials', 'refresh_token'] },
        doomed: { grants: ['client_credentials'] },
        rotating: { grants: ['client_credentials'] },
        keys: { grants: ['client_credentials'] },
        throttled: { grants: ['client_credentials'] },
        web: { grants: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT_URI] },
      })) {
        const view = await createClient(admin, { name, clientId: name, tenants: ['t1'], ...input });
        clients[name] = { id: view.client_id, secret: view.client_secret ?? '' };
      }
    } finally {
      await admin.close();
    }

    const started = await Promise.allSettled(
      [0, 1, 2].map(() =>
        startServer({
          database: url,
          env: { TESSERA_MASTER_KEY: MASTER_KEY },
          args: [
            '--issuer',
            issuer,
            '--client-cache-ttl',
            CACHE_TTL,
            '--key-cache-ttl',
            CACHE_TTL,
            '--pool-size',
            '4',
            '--client-auth-failure-limit',
            '4',
            '--login-account-failure-limit',
            '3',
          ],
        }),
      ),
    );
    nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    assert.equal(new Set(nodes.map((n) => n.url)).size, 3, 'three nodes on three ports');
    for (const n of nodes) assert.equal(n.issuer, issuer);
  });

  after(async () => {
    // SIGTERM, then SIGKILL after the helper's bound.
    await Promise.all(nodes.map((n) => n.stop()));
    await database?.drop();
  });

  it('rotates a refresh token from A on B, refuses its reuse on C and kills the family', async () => {
    const client = clients['refresh'] as Credentials;
    const first = await clientCredentials(node(0), client);
    assert.equal(first.status, 200, first.text);
    const rt0 = first.body.refresh_token as string;
    assert.ok(rt0, 'client_credentials issued a refresh token');

    const rotated = await token(node(1), client, {
      grant_type: 'refresh_token',
      refresh_token: rt0,
    });
    assert.equal(rotated.status, 200, rotated.text);
    const rt1 = rotated.body.refresh_token as string;
    const at1 = rotated.body.access_token as string;
    assert.ok(rt1 && rt1 !== rt0, 'a new refresh token');

    const reused = await token(node(2), client, {
      grant_type: 'refresh_token',
      refresh_token: rt0,
    });
    assert.equal(reused.status, 400, reused.text);
    assert.equal(reused.body.error, 'invalid_grant');

    // The reuse revoked the whole family: the successor and its access token are dead everywhere.
    const successor = await token(node(0), client, {
      grant_type: 'refresh_token',
      refresh_token: rt1,
    });
    assert.equal(successor.status, 400, successor.text);
    assert.equal(successor.body.error, 'invalid_grant');
    for (const n of nodes) {
      assert.deepEqual((await introspect(n, client, at1)).body, { active: false });
      assert.deepEqual((await introspect(n, client, rt1)).body, { active: false });
    }
  });

  it('counts failed client authentication across nodes', async () => {
    const client = clients['throttled'] as Credentials;
    const wrong = { ...client, secret: `${client.secret}-wrong` };
    // Two failures on A and one on B stay under the limit of 4 …
    for (const n of [node(0), node(0), node(1)]) {
      const res = await clientCredentials(n, wrong);
      assert.equal(res.status, 401, res.text);
      assert.equal(res.headers.get('retry-after'), null);
    }
    // … the fourth, on C (which has seen no failure of its own), reaches it: the count is shared.
    const fourth = await clientCredentials(node(2), wrong);
    assert.equal(fourth.status, 401);
    assert.ok(Number(fourth.headers.get('retry-after')) > 0, 'C refuses with Retry-After');
    // C now refuses even the right secret from this address; A learns at its next failure.
    assert.equal((await clientCredentials(node(2), client)).status, 401);
    const onA = await clientCredentials(node(0), wrong);
    assert.ok(Number(onA.headers.get('retry-after')) > 0, 'A refuses with Retry-After');
  });

  it('counts failed logins for an account across nodes: the node that sees the limit-th makes it wait', async () => {
    const guesser = {
      clientId: 'web',
      redirectUri: REDIRECT_URI,
      email: 'nobody@example.com',
      password: 'guess',
    };
    for (const n of [node(0), node(1)]) {
      const res = await postLogin(n.url, await loginForm(n.url, guesser));
      assert.equal(res.status, 401, await res.text());
    }
    // C has seen no failure of this account, but the count is shared: the third one waits.
    const third = await postLogin(node(2).url, await loginForm(node(2).url, guesser));
    assert.equal(third.status, 429, await third.text());
    assert.equal(third.headers.get('retry-after'), '1');
    // The wait is the account's alone: another account signs in from the same address.
    const owner = { ...guesser, email: EMAIL, password: PASSWORD };
    const signedIn = await postLogin(node(2).url, await loginForm(node(2).url, owner));
    assert.equal(signedIn.status, 303, await signedIn.text());
  });

  it('refuses at introspection on B a token revoked on A', async () => {
    const client = clients['revoke'] as Credentials;
    const issued = await clientCredentials(node(0), client);
    assert.equal(issued.status, 200, issued.text);
    const { access_token: at, refresh_token: rt } = issued.body as Required<TokenBody>;
    assert.equal((await introspect(node(1), client, at)).body.active, true);
    assert.equal((await introspect(node(1), client, rt)).body.active, true);

    for (const value of [at, rt]) {
      const revoked = await postForm(
        `${node(0).url}/oauth/revoke`,
        { token: value },
        { authorization: basic(client) },
      );
      assert.equal(revoked.status, 200, revoked.text);
    }
    for (const value of [at, rt]) {
      const res = await introspect(node(1), client, value);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { active: false });
    }
  });

  it('refuses on B, within the bound, a client deleted through the CLI', async () => {
    const client = clients['doomed'] as Credentials;
    // B has the client cached now.
    assert.equal((await clientCredentials(node(1), client)).status, 200);
    await cli(database?.url ?? '', ['client', 'delete', client.id]);
    const refused = await within('the deleted client refused on B', async () => {
      const res = await clientCredentials(node(1), client);
      if (res.status === 200) return undefined;
      return res;
    });
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.body.error, 'invalid_client');
    for (const n of nodes) assert.equal((await clientCredentials(n, client)).status, 401);
  });

  it('stops the old secret on B, within the bound, after a rotation through the CLI', async () => {
    const client = clients['rotating'] as Credentials;
    assert.equal((await clientCredentials(node(1), client)).status, 200);
    const rotated = await cli<{ client_secret: string }>(database?.url ?? '', [
      'client',
      'rotate-secret',
      client.id,
    ]);
    assert.ok(rotated.client_secret && rotated.client_secret !== client.secret);
    const refused = await within('the rotated-out secret refused on B', async () => {
      const res = await clientCredentials(node(1), client);
      if (res.status === 200) return undefined;
      return res;
    });
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.body.error, 'invalid_client');
    const renewed = { id: client.id, secret: rotated.client_secret };
    for (const n of nodes) {
      const res = await clientCredentials(n, renewed);
      assert.equal(res.status, 200, res.text);
    }
  });

  it('publishes a key rotated through the CLI on every node before any node signs with it', async () => {
    const client = clients['keys'] as Credentials;
    const kidsBefore = await Promise.all(nodes.map(jwksKids));
    const signer = async (n: RunningServer) => {
      const res = await clientCredentials(n, client);
      assert.equal(res.status, 200, res.text);
      return jwtHeader(res.body.access_token as string).kid;
    };
    const oldKid = await signer(node(0));
    assert.ok(oldKid);
    for (const [i, kids] of kidsBefore.entries()) {
      assert.ok(kids.includes(oldKid), `node ${i} publishes the current key`);
      assert.equal(await signer(node(i)), oldKid, `node ${i} signs with the current key`);
    }

    // Staged: published now, signs after keyPublishAhead (default 3600 s).
    const rotated = await cli<{ kid: string; status: string }>(database?.url ?? '', [
      'key',
      'rotate',
    ]);
    assert.equal(rotated.status, 'next');
    assert.notEqual(rotated.kid, oldKid);

    for (const [i, n] of nodes.entries()) {
      const kids = await within(`the new key in node ${i}'s JWKS`, async () => {
        const current = await jwksKids(n);
        return current.includes(rotated.kid) ? current : undefined;
      });
      assert.ok(kids.includes(oldKid), `node ${i} still publishes the signing key`);
    }
    for (const [i, n] of nodes.entries()) {
      assert.equal(await signer(n), oldKid, `node ${i} still signs with the old key`);
    }
  });

  it('redeems on B an authorization code issued on A (login form from C), once', async () => {
    const client = clients['web'] as Credentials;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: REDIRECT_URI,
      state: 'st-123',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    // The browser may land on any node: no sticky sessions. The form comes from C...
    const page = await fetch(`${node(2).url}/oauth/authorize?${query}`, {
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(page.status, 200);
    const html = await page.text();
    const form = new URLSearchParams({
      ...formState(html),
      email: EMAIL,
      password: PASSWORD,
    });
    // ...and is posted to A, which issues the code.
    const login = await fetch(`${node(0).url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: cookieHeader(page),
      },
      body: form.toString(),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(login.status, 303, await login.text());
    const location = new URL(login.headers.get('location') ?? '');
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI);
    assert.equal(location.searchParams.get('state'), 'st-123');
    assert.equal(location.searchParams.get('iss'), node(0).issuer);
    const code = location.searchParams.get('code');
    assert.ok(code, 'the redirect carries a code');

    const params = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    };
    const redeemed = await token(node(1), client, params);
    assert.equal(redeemed.status, 200, redeemed.text);
    assert.ok(redeemed.body.access_token);
    const replayed = await token(node(2), client, params);
    assert.equal(replayed.status, 400, replayed.text);
    assert.equal(replayed.body.error, 'invalid_grant');
    // The replay revoked what the first redemption issued, on every node.
    for (const n of nodes) {
      assert.deepEqual((await introspect(n, client, redeemed.body.access_token as string)).body, {
        active: false,
      });
    }
  });
});
