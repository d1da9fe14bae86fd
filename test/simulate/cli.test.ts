/** The real command line: `tessera simulate …` as a child process. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { type FakeSite, PARTNER, startPartnerSite } from './fixtures.js';

describe('tessera simulate (spawned)', () => {
  let good: FakeSite;
  let bad: FakeSite;
  let dir: string;
  before(async () => {
    good = await startPartnerSite();
    bad = await startPartnerSite({ anySecret: true });
    dir = mkdtempSync(join(tmpdir(), 'tessera-simulate-cli-'));
  });
  after(async () => {
    await good.close();
    await bad.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const args = (site: FakeSite) => [
    'simulate',
    'cisco-spaces',
    '--login-url',
    `${site.url}/login`,
    '--token-url',
    `${site.url}/token`,
    '--app-info-url',
    `${site.url}/app-info`,
    '--client-id',
    PARTNER.clientId,
    '--redirect-uri',
    PARTNER.redirectUri,
    '--email',
    PARTNER.email,
    '--timeout',
    '5000',
  ];

  test('secrets on stdin, text output, exit 0; --json and a junit report, exit 1 on a failure', async () => {
    const ok = await runCli(args(good), { stdin: `${PARTNER.secret}\n${PARTNER.password}\n` });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.stderr, '');
    const lines = ok.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 9);
    for (const l of lines) assert.match(l, /^PASS /);

    const report = join(dir, 'report.xml');
    const bad1 = await runCli([...args(bad), '--json', '--report', `junit:${report}`], {
      env: { TESSERA_CLIENT_SECRET: PARTNER.secret },
      stdin: `${PARTNER.password}\n`,
    });
    assert.equal(bad1.code, 1, bad1.stderr);
    const out = JSON.parse(bad1.stdout) as {
      checks: { name: string; ok: boolean; reason: string | null }[];
    };
    assert.equal(out.checks.filter((c) => !c.ok).length, 1);
    const xml = readFileSync(report, 'utf8');
    assert.match(xml, /<failure message="accepted \(HTTP 200, issued access_token\)">/);
    for (const text of [ok.stdout, ok.stderr, bad1.stdout, bad1.stderr, xml])
      for (const s of [PARTNER.secret, PARTNER.password]) assert.ok(!text.includes(s));

    const usage = await runCli(['simulate', 'setu', '--client-id', 'x']);
    assert.equal(usage.code, 2);
    assert.equal(usage.stdout, '');
    assert.equal(usage.stderr.trimEnd().split('\n').length, 1);
  });
});
