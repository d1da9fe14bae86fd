/**
 * `tessera simulate` against deliberately broken sites: each flaw fails exactly the check
 * that looks for it, with a reason, and a site that hangs fails by timeout.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type Check, textReport } from '../../src/simulate/report.js';
import { UNKNOWN_CODE_CHECK } from '../../src/simulate/cisco-spaces.js';
import { runSimulation } from '../../src/simulate/run.js';
import {
  type FakeSite,
  PARTNER,
  type PartnerFlaws,
  captureIo,
  startNumericExpirySite,
  startPartnerSite,
} from './fixtures.js';

const sites: FakeSite[] = [];
after(async () => {
  for (const s of sites) await s.close();
});

async function simulatePartner(
  flaws: PartnerFlaws,
  timeout?: string,
  password: string = PARTNER.password,
) {
  const site = await startPartnerSite(flaws);
  sites.push(site);
  const c = captureIo({ TESSERA_CLIENT_SECRET: PARTNER.secret, TESSERA_USER_PASSWORD: password });
  const r = await runSimulation(
    'cisco-spaces',
    {
      loginUrl: `${site.url}/login`,
      tokenUrl: `${site.url}/token`,
      appInfoUrl: `${site.url}/app-info`,
      clientId: PARTNER.clientId,
      redirectUri: PARTNER.redirectUri,
      email: PARTNER.email,
      ...(timeout !== undefined && { timeout }),
    },
    c.io,
  );
  const out = c.stdout() + c.stderr();
  for (const s of [PARTNER.secret, PARTNER.password])
    assert.ok(!out.includes(s), 'a secret was printed');
  return { ...r, out };
}

function failed(checks: readonly Check[]): Check[] {
  return checks.filter((c) => !c.ok);
}

describe('simulate against broken sites', () => {
  test('the fixture partner without flaws passes every check', async () => {
    const r = await simulatePartner({});
    assert.equal(r.exitCode, 0, r.out);
    assert.equal(r.checks.length, 9);
    assert.ok(r.checks.some((c) => c.name === UNKNOWN_CODE_CHECK));
  });

  test('a wrong user password: the authorize check says the login form came back', async () => {
    const r = await simulatePartner({}, undefined, 'not-the-password-1');
    assert.equal(r.exitCode, 1);
    const authorize = r.checks.find((c) => c.name.startsWith('authorize:'));
    assert.match(
      authorize?.reason ?? '',
      /login form came back \(HTTP 401\) after signing in as admin@acme\.example/,
    );
    assert.ok(!r.out.includes('not-the-password-1'));
  });

  test('a site that accepts any client secret fails the wrong-secret check', async () => {
    const r = await simulatePartner({ anySecret: true });
    assert.equal(r.exitCode, 1);
    const f = failed(r.checks);
    assert.equal(f.length, 1, textReport(r.checks));
    assert.match(f[0]?.name ?? '', /wrong client secret/);
    assert.match(f[0]?.reason ?? '', /accepted \(HTTP 200, issued access_token\)/);
    assert.match(r.out, /^FAIL negative: a wrong client secret is refused .* — accepted/m);
  });

  test('a site that redirects to an unregistered redirect_uri fails that check', async () => {
    const r = await simulatePartner({ anyRedirect: true });
    const f = failed(r.checks);
    assert.equal(f.length, 1, textReport(r.checks));
    assert.match(f[0]?.name ?? '', /unregistered redirect_uri/);
    assert.match(
      f[0]?.reason ?? '',
      /redirected to the unregistered redirect_uri https:\/\/tessera-simulate\.invalid/,
    );
    assert.ok(!(f[0]?.reason ?? '').includes('code='), 'the code is not printed');
  });

  test('a site that lets a code be redeemed twice fails the replay check', async () => {
    const r = await simulatePartner({ reuseCodes: true });
    const f = failed(r.checks);
    assert.equal(f.length, 1, textReport(r.checks));
    assert.match(f[0]?.name ?? '', /replayed code/);
    assert.match(f[0]?.reason ?? '', /accepted/);
  });

  test('a site that answers App Info for any tenant fails the wrong-tenant check', async () => {
    const r = await simulatePartner({ anyTenant: true });
    const f = failed(r.checks);
    assert.equal(f.length, 1, textReport(r.checks));
    assert.match(f[0]?.name ?? '', /another partnerTenantId/);
    assert.match(f[0]?.reason ?? '', /HTTP 200 .*expected 401 or 403/);
  });

  test('a token endpoint that hangs: the checks fail by timeout, the run finishes', async () => {
    const started = Date.now();
    const r = await simulatePartner({ hangToken: true }, '300');
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal(r.exitCode, 1);
    const token = r.checks.find((c) => c.name.startsWith('token:'));
    assert.equal(token?.ok, false);
    assert.match(
      token?.reason ?? '',
      /^timed out: no complete answer from http:\/\/127\.0\.0\.1:\d+\/token within 300 ms/,
    );
    // The steps that never reached the token endpoint still pass.
    assert.equal(r.checks.find((c) => c.name.startsWith('authorize:'))?.ok, true);
    assert.equal(r.checks.find((c) => c.name.includes('unregistered redirect_uri'))?.ok, true);
  });

  test('a token endpoint that hangs on an unknown code fails that check by timeout, only it', async () => {
    const r = await simulatePartner({ unknownCode: 'hang' }, '300');
    assert.equal(r.exitCode, 1);
    const f = failed(r.checks);
    assert.equal(f.length, 1, textReport(r.checks));
    assert.equal(f[0]?.name, UNKNOWN_CODE_CHECK);
    assert.match(
      f[0]?.reason ?? '',
      /^timed out: no complete answer from http:\/\/127\.0\.0\.1:\d+\/token within 300 ms/,
    );
    assert.match(r.out, /^FAIL negative: an unknown or malformed code is refused .* — timed out/m);
  });

  for (const [flaws, reason] of [
    [{ unknownCode: 'crash' }, 'an unknown code: HTTP 500, expected 400'],
    [
      { unknownCode: 'invalid_request' },
      'an unknown code: HTTP 400 with error "invalid_request", expected "invalid_grant"',
    ],
    [
      { crashOnMalformedCode: true },
      'a malformed code (quotes, <>, a NUL byte, non-ASCII, 300 characters): HTTP 500, expected 400',
    ],
  ] satisfies [PartnerFlaws, string][])
    test(`a token endpoint with ${JSON.stringify(flaws)} fails that check, only it`, async () => {
      const r = await simulatePartner(flaws);
      assert.equal(r.exitCode, 1);
      const f = failed(r.checks);
      assert.equal(f.length, 1, textReport(r.checks));
      assert.equal(f[0]?.name, UNKNOWN_CODE_CHECK);
      assert.equal(f[0]?.reason, reason);
    });

  test('bright-pattern: a numeric expires_in fails that check with the reason', async () => {
    const secret = 'bp-secret-0123456789abcdef';
    const site = await startNumericExpirySite(secret);
    sites.push(site);
    const c = captureIo({ TESSERA_CLIENT_SECRET: secret });
    const r = await runSimulation(
      'bright-pattern',
      { tokenUrl: `${site.url}/configapi/v2/oauth/token`, clientId: 'bp', scope: 'acme' },
      c.io,
    );
    assert.equal(r.exitCode, 1);
    const f = failed(r.checks);
    assert.equal(f.length, 1, c.stdout());
    assert.match(f[0]?.name ?? '', /expires_in is a string of digits/);
    assert.equal(f[0]?.reason, 'expires_in is a number (3599), not a string');
    assert.ok(!c.stdout().includes(secret));
  });
});

describe('simulate reports', () => {
  test('JUnit escapes reasons; Markdown escapes pipes; a secret a site echoes is redacted', async () => {
    const { junitReport, markdownReport } = await import('../../src/simulate/report.js');
    const checks = [
      { name: 'a <b> & "c"', ok: false, reason: `it's <broken> & | piped\u0001` },
      { name: 'fine', ok: true, reason: null },
    ];
    const xml = junitReport(checks, 'suite');
    assert.ok(xml.includes('name="a &lt;b&gt; &amp; &quot;c&quot;"'));
    assert.ok(xml.includes('>it&apos;s &lt;broken&gt; &amp; | piped\uFFFD</failure>'));
    assert.ok(!xml.includes('\u0001'));
    const md = markdownReport(checks, 'title');
    assert.ok(md.includes('| a <b> & "c" | FAIL | it\'s <broken> & \\| piped\u0001 |'), md);

    const secret = 'echoed-secret-0123456789';
    const { createServer } = await import('node:http');
    const { closeServer, listenLoopback } = await import('../../src/simulate/launch-keys.js');
    const server = createServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `bad secret ${secret}` }));
    });
    const port = await listenLoopback(server);
    try {
      const c = captureIo({ TESSERA_CLIENT_SECRET: secret });
      const r = await runSimulation(
        'bright-pattern',
        { tokenUrl: `http://127.0.0.1:${port}/t`, clientId: 'x', scope: 's', json: true },
        c.io,
      );
      assert.equal(r.exitCode, 1);
      assert.ok(!c.stdout().includes(secret), c.stdout());
      assert.ok(c.stdout().includes('[redacted]'), c.stdout());
    } finally {
      await closeServer(server);
    }
  });
});
