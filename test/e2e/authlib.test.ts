/**
 * A Python relying party against a listening Tessera: test/interop/authlib_rp.py, written
 * with Authlib 1.2 (Debian's python3-authlib) and requests, does discovery, the
 * authorization-code flow with PKCE (S256) and a nonce, ID Token validation (Authlib's JWT
 * with the discovered algorithms and JWKS, its CodeIDToken claims: iss, aud, nonce, at_hash),
 * UserInfo and a rotating refresh. The browser is this test: the script prints the
 * authorization URL, the login page is filled here, and the callback URL goes back on stdin.
 * Its JSON report is asserted whole, the refusals Authlib must make (another state, nonce,
 * access token or audience, a forged signature, a reused refresh token) included.
 *
 * Without /usr/bin/python3 and its authlib and requests the suite is skipped, except with
 * CI=true, where it fails.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { Browser, logInAt, redirected } from '../helpers/browser.js';
import { requirement } from '../helpers/requirement.js';
import { startListeningApp } from '../helpers/spaces.js';

/** Debian's interpreter: the one python3-authlib installs into (a pyenv shim may come first on PATH). */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../interop/authlib_rp.py', import.meta.url));
const needsAuthlib = requirement(
  spawnSync(PYTHON, ['-c', 'import authlib, requests'], { stdio: 'ignore' }).status === 0,
  `${PYTHON} cannot import authlib and requests (apt-get install python3-authlib python3-requests)`,
);

const REDIRECT = 'https://rp.example/callback';
const RP = { id: 'authlib-rp', secret: 'authlib-rp-secret-0123456789' };
const erin = { email: 'erin@acme.example', password: 'erin-password-12', name: 'Erin Example' };

interface Run {
  /** The authorization URL the script printed. */
  readonly authorizationUrl: URL;
  /** Where the browser was sent back to, as given to the script. */
  readonly callback: URL;
  /** The script's report. */
  readonly result: unknown;
}

/**
 * Runs the script: reads its authorization URL, signs Erin in there and writes the callback
 * URL back, then reads its report. Fails with its stderr when it exits otherwise.
 */
async function runRelyingParty(issuer: string): Promise<Run> {
  const child = spawn(PYTHON, [SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AUTHLIB_INSECURE_TRANSPORT: '1',
      TESSERA_ISSUER: issuer,
      RP_CLIENT_ID: RP.id,
      RP_CLIENT_SECRET: RP.secret,
      RP_REDIRECT_URI: REDIRECT,
    },
    timeout: 60_000,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextJson = async (what: string): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done === true) {
      const status = await exited; // 'close': stderr has been read to its end
      assert.fail(`the script ended (status ${status}) before ${what}:\n${stderr}`);
    }
    return JSON.parse(line.value as string) as Record<string, unknown>;
  };
  try {
    const authorizationUrl = new URL(String((await nextJson('its URL'))['authorization_url']));
    const callback = redirected(await logInAt(new Browser(issuer), authorizationUrl, erin));
    child.stdin.end(`${callback.href}\n`);
    const result = await nextJson('its report');
    assert.equal(await exited, 0, stderr);
    return { authorizationUrl, callback, result };
  } finally {
    child.kill();
  }
}

describe('Authlib (Python) relying party', { skip: needsAuthlib.skip, timeout: 120_000 }, () => {
  let t: TestApp & { url: string };
  let erinId: string;
  let run: Run;

  before(async () => {
    needsAuthlib.check();
    // The real clock: Authlib checks exp and iat against it.
    t = await startListeningApp({ clock: new TestClock(Math.floor(Date.now() / 1000)) });
    await t.tenant('acme');
    erinId = (await createUser(t.deps, { ...erin, tenants: ['acme'] })).id;
    await t.client({
      clientId: RP.id,
      secret: RP.secret,
      name: 'Authlib RP',
      grants: ['authorization_code', 'refresh_token'],
      redirectUris: [REDIRECT],
      // A request without PKCE would be refused: Authlib's S256 challenge is what passes.
      requirePkce: true,
    });
    run = await runRelyingParty(t.url);
  });
  after(() => t?.close());

  test('the authorization request: discovered endpoint, PKCE S256, state and nonce', () => {
    const url = run.authorizationUrl;
    assert.equal(url.origin + url.pathname, `${t.url}/oauth/authorize`);
    const params = Object.fromEntries(url.searchParams);
    assert.deepEqual(Object.keys(params).sort(), [
      'client_id',
      'code_challenge',
      'code_challenge_method',
      'nonce',
      'redirect_uri',
      'response_type',
      'scope',
      'state',
    ]);
    assert.equal(params['response_type'], 'code');
    assert.equal(params['client_id'], RP.id);
    assert.equal(params['redirect_uri'], REDIRECT);
    assert.equal(params['scope'], 'openid email profile offline_access');
    assert.equal(params['code_challenge_method'], 'S256');
    assert.match(params['code_challenge'] ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(params['nonce'] ?? '', /^[A-Za-z0-9]{20}$/);
    // The login page sent the browser back with the script's state and RFC 9207's iss.
    assert.equal(run.callback.origin + run.callback.pathname, REDIRECT);
    assert.equal(run.callback.searchParams.get('state'), params['state']);
    assert.equal(run.callback.searchParams.get('iss'), t.url);
  });

  test('the report: tokens, a validated ID Token, UserInfo, refresh, and every refusal', () => {
    const invalid = (claim: string) => ({
      error: 'invalid_claim',
      description: `Invalid claim "${claim}"`,
    });
    assert.deepEqual(run.result, {
      wrong_state: {
        error: 'mismatching_state',
        description: 'CSRF Warning! State not equal in request and response.',
      },
      token: {
        token_type: 'Bearer',
        scope: 'openid email profile offline_access',
        refresh_token: true,
      },
      id_token: {
        alg: 'RS256',
        iss: t.url,
        aud: RP.id,
        sub: erinId,
        email: erin.email,
        tenant_id: 'acme',
        nonce: true,
        at_hash: true,
      },
      refused: {
        wrong_nonce: invalid('nonce'),
        another_access_token: invalid('at_hash'),
        another_audience: invalid('aud'),
        forged_signature: { error: 'bad_signature', description: '' },
      },
      userinfo: {
        sub: erinId,
        name: erin.name,
        email: erin.email,
        email_verified: false,
        updated_at: t.clock.now,
        tenant_id: 'acme',
      },
      refresh: {
        new_access_token: true,
        rotated: true,
        sub: erinId,
        auth_time_kept: true,
        nonce: false,
        userinfo_sub: erinId,
      },
      reused_refresh_token: {
        error: 'invalid_grant',
        description: 'refresh token already used; its grant has been revoked',
      },
    });
  });
});
