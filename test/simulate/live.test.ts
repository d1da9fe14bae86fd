/**
 * `tessera simulate` against a live, correctly configured Tessera (every check passes),
 * including the launch (the key server's loopback URL allow-listed) and the report formats.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTelemetry, updateTenant } from '../../src/admin/tenants.js';
import { createUser } from '../../src/admin/users.js';
import { closeServer, listenLoopback } from '../../src/simulate/launch-keys.js';
import { UNKNOWN_CODE_CHECK } from '../../src/simulate/cisco-spaces.js';
import { runSimulation } from '../../src/simulate/run.js';
import { type TestApp, TestClock } from '../helpers/app.js';
import { startListeningApp } from '../helpers/spaces.js';
import { captureIo } from './fixtures.js';

const SPACES = { id: 'dnaspaces', secret: 'spaces-secret-0123456789abcdef' };
const BRIGHT = { id: 'bright', secret: 'bright-secret-0123456789abcdef' };
const SETU = { id: 'setu', secret: 'setu-secret-0123456789abcdefgh' };
const REDIRECT = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const bob = { email: 'bob@acme.example', password: 'bob-password-0987' };
const SECRETS = [SPACES.secret, BRIGHT.secret, SETU.secret, bob.password];

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenLoopback(probe);
  await closeServer(probe);
  return port;
}

function assertNoSecrets(text: string, where: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} contains a secret`);
}

describe('simulate against a live Tessera', () => {
  let t: TestApp & { url: string };
  let keyPort: number;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-simulate-'));
    keyPort = await freePort();
    t = await startListeningApp({
      flags: { spacesLaunchAllowedBaseUrls: [`http://127.0.0.1:${keyPort}`] },
      // Launch tokens carry a real `exp`; the server's clock must be the real one.
      clock: new TestClock(Math.floor(Date.now() / 1000)),
    });
    await t.tenant('acme');
    await t.tenant('globex');
    await updateTenant(t.deps, 'acme', {
      appUrl: 'https://app.acme.example/',
      supportEmail: 'help@acme.example',
    });
    await updateTenant(t.deps, 'globex', { appUrl: 'https://app.globex.example/' });
    await setTelemetry(t.deps, 'acme', {
      type: 'metric',
      name: 'devices',
      value: '42',
      units: 'count',
    });
    await createUser(t.deps, { ...bob, tenants: ['acme', 'globex'] });
    await t.client({
      clientId: SPACES.id,
      secret: SPACES.secret,
      dialect: 'cisco-spaces',
      redirectUris: [REDIRECT],
    });
    await t.client({
      clientId: BRIGHT.id,
      secret: BRIGHT.secret,
      dialect: 'bright-pattern',
      tenants: ['acme'],
    });
    await t.client({ clientId: SETU.id, secret: SETU.secret, dialect: 'setu' });
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const spacesOptions = () => ({
    loginUrl: `${t.url}/oauth/authorize`,
    tokenUrl: `${t.url}/oauth/token`,
    appInfoUrl: `${t.url}/spaces/app-info`,
    clientId: SPACES.id,
    redirectUri: REDIRECT,
    email: bob.email,
  });

  test('cisco-spaces: every check passes, launch accepted; secrets from stdin', async () => {
    const c = captureIo({}, `${SPACES.secret}\n${bob.password}\n`);
    const r = await runSimulation(
      'cisco-spaces',
      { ...spacesOptions(), launchUrl: `${t.url}/spaces/launch`, keyServerPort: String(keyPort) },
      c.io,
    );
    assert.equal(r.exitCode, 0, c.stdout() + c.stderr());
    assert.ok(r.checks.length >= 9, c.stdout());
    assert.ok(r.checks.every((x) => x.ok && x.reason === null));
    const lines = c.stdout().trimEnd().split('\n');
    assert.equal(lines.length, r.checks.length);
    for (const line of lines) assert.match(line, /^PASS /);
    assert.ok(
      lines.some((l) => /^PASS launch: .* accepted/.test(l)),
      c.stdout(),
    );
    assert.ok(lines.includes(`PASS ${UNKNOWN_CODE_CHECK}`), c.stdout());
    assertNoSecrets(c.stdout() + c.stderr(), 'output');
  });

  test('cisco-spaces: a site that does not trust the key server refuses the launch (a pass)', async () => {
    const c = captureIo({
      TESSERA_CLIENT_SECRET: SPACES.secret,
      TESSERA_USER_PASSWORD: bob.password,
    });
    const r = await runSimulation(
      'cisco-spaces',
      { ...spacesOptions(), launchUrl: `${t.url}/spaces/launch`, keyBits: '2048', json: true },
      c.io,
    );
    assert.equal(r.exitCode, 0, c.stdout());
    const out = JSON.parse(c.stdout()) as { checks: { name: string; ok: boolean; reason: null }[] };
    assert.deepEqual(Object.keys(out), ['checks']);
    for (const check of out.checks) assert.deepEqual(Object.keys(check), ['name', 'ok', 'reason']);
    assert.ok(
      out.checks.some((x) => /launch: .*2048-bit.* refused/.test(x.name)),
      c.stdout(),
    );
  });

  test(
    'cisco-spaces --browser: Chromium signs in, every check passes',
    {
      skip: existsSync('/usr/bin/chromium') ? false : '/usr/bin/chromium is not installed',
      timeout: 120_000,
    },
    async () => {
      const c = captureIo({
        TESSERA_CLIENT_SECRET: SPACES.secret,
        TESSERA_USER_PASSWORD: bob.password,
      });
      const r = await runSimulation(
        'cisco-spaces',
        { ...spacesOptions(), browser: true, timeout: '20000' },
        c.io,
      );
      assert.equal(r.exitCode, 0, c.stdout() + c.stderr());
      assert.match(c.stdout(), /^PASS browser: start Chromium$/m);
      assert.match(c.stdout(), /^PASS authorize: sign in \(Chromium\)/m);
      assertNoSecrets(c.stdout() + c.stderr(), 'output');
    },
  );

  test('bright-pattern: every check passes', async () => {
    const c = captureIo({ TESSERA_CLIENT_SECRET: BRIGHT.secret });
    const r = await runSimulation(
      'bright-pattern',
      { tokenUrl: `${t.url}/configapi/v2/oauth/token`, clientId: BRIGHT.id, scope: 'acme' },
      c.io,
    );
    assert.equal(r.exitCode, 0, c.stdout());
    assert.equal(r.checks.length, 5);
  });

  test('setu: every check passes, family revocation its own check', async () => {
    const c = captureIo({}, `${SETU.secret}\n`);
    const r = await runSimulation(
      'setu',
      { tokenUrl: `${t.url}/auth/token`, clientId: SETU.id },
      c.io,
    );
    assert.equal(r.exitCode, 0, c.stdout());
    assert.ok(r.checks.some((x) => x.name.includes('family revoked')));
    assert.equal(r.checks.length, 5);
  });

  test('reports: json, junit and markdown files, no secrets in them', async () => {
    const files = {
      json: join(dir, 'r.json'),
      junit: join(dir, 'r.xml'),
      markdown: join(dir, 'r.md'),
    };
    for (const [format, file] of Object.entries(files)) {
      const c = captureIo({ TESSERA_CLIENT_SECRET: SETU.secret });
      // A wrong client id: some checks fail, so the reports carry failures too.
      const r = await runSimulation(
        'setu',
        {
          tokenUrl: `${t.url}/auth/token`,
          clientId: format === 'json' ? SETU.id : 'nobody',
          report: `${format}:${file}`,
        },
        c.io,
      );
      assert.equal(r.exitCode, format === 'json' ? 0 : 1);
      const text = readFileSync(file, 'utf8');
      assertNoSecrets(text + c.stdout() + c.stderr(), file);
      if (format === 'json') {
        const parsed = JSON.parse(text) as { checks: { ok: boolean }[] };
        assert.equal(parsed.checks.length, r.checks.length);
        assert.ok(parsed.checks.every((x) => x.ok));
      } else if (format === 'junit') {
        assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuite /);
        const suite = /<testsuite [^>]*tests="(\d+)" failures="(\d+)"/.exec(text);
        assert.equal(Number(suite?.[1]), r.checks.length);
        assert.equal(Number(suite?.[2]), r.checks.filter((x) => !x.ok).length);
        assert.equal((text.match(/<testcase /g) ?? []).length, r.checks.length);
        assert.equal(
          (text.match(/<failure message="/g) ?? []).length,
          r.checks.filter((x) => !x.ok).length,
        );
        assert.ok(text.trimEnd().endsWith('</testsuite>'));
        // Every element opened is closed (a minimal well-formedness check), no raw `<` in text.
        const opened = (text.match(/<(testsuite|testcase|failure)\b[^>]*[^/]>/g) ?? []).length;
        const closed = (text.match(/<\/(testsuite|testcase|failure)>/g) ?? []).length;
        assert.equal(opened, closed);
        assert.ok(text.includes('→'));
      } else {
        const rows = text.split('\n').filter((l) => /^\| .* \| (PASS|FAIL) \|/.test(l));
        assert.equal(rows.length, r.checks.length);
        assert.ok(text.includes('| check | result | reason |'));
        assert.ok(
          rows.some((l) => l.includes('| FAIL |') && l.includes('401')),
          text,
        );
      }
    }
  });

  test('bad usage: one stderr line, exit 2, nothing on stdout', async () => {
    for (const [profile, opts] of [
      ['nope', {}],
      ['setu', { clientId: 'x' }],
      ['setu', { tokenUrl: 'ftp://x', clientId: 'x' }],
      ['setu', { tokenUrl: `${t.url}/auth/token`, clientId: 'x', report: 'pdf:x.pdf' }],
      ['setu', { tokenUrl: `${t.url}/auth/token`, clientId: 'x', timeout: 'soon' }],
      ['cisco-spaces', { ...spacesOptions(), keyBits: '512' }],
    ] as const) {
      const c = captureIo({ TESSERA_CLIENT_SECRET: 'x', TESSERA_USER_PASSWORD: 'y' });
      const r = await runSimulation(profile, opts, c.io);
      assert.equal(r.exitCode, 2, `${profile} ${JSON.stringify(opts)}`);
      assert.equal(c.stdout(), '');
      assert.match(c.stderr(), /^tessera: [^\n]+\n$/);
    }
    const none = captureIo({}, '');
    assert.equal(
      (await runSimulation('setu', { tokenUrl: `${t.url}/auth/token`, clientId: 'x' }, none.io))
        .exitCode,
      2,
    );
    assert.match(none.stderr(), /TESSERA_CLIENT_SECRET/);
  });
});
