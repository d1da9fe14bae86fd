/**
 * docs/cisco-spaces.md, the go-live guide, run as an operator would: every `sh` block in
 * order in one shell (test/helpers/doc-shell.ts) against a production-like server (no demo,
 * the default launch allow-list), its example issuer replaced by that server's URL. Then what
 * the guide says those commands leave behind: both redirect URIs registered, App Tile URLs
 * that are the discovery document's, passing simulate reports for sandbox and live, and the
 * audit events its troubleshooting table points at.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SPACES_REDIRECT_URIS } from '../src/admin/demo.js';
import { AUDIT_EVENT_TYPES } from '../src/observability/audit.js';
import { ROOT, runCli } from './helpers/cli.js';
import { runAndCheck, shellBlocks } from './helpers/doc-shell.js';
import { type RunningServer, getJson, startServer } from './helpers/server.js';

const GUIDE = readFileSync(join(ROOT, 'docs/cisco-spaces.md'), 'utf8');
const EXAMPLE_ISSUER = 'https://auth.example.com';

/** The value column of the App Tile table, by field. */
function appTile(): Map<string, string> {
  const section = GUIDE.slice(GUIDE.indexOf('## 3. The App Tile'), GUIDE.indexOf('## 4.'));
  return new Map(
    [...section.matchAll(/^\| ([A-Z][^|]*?)\s*\| `([^`]+)`/gm)].map((m) => [
      m[1] as string,
      m[2] as string,
    ]),
  );
}

describe('docs/cisco-spaces.md', () => {
  let dir: string;
  let server: RunningServer;
  const audit = async (type: string) => {
    const r = await runCli(['--json', 'audit', 'list', '--type', type], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { client_id: string | null; reason: string | null }[];
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-spaces-guide-'));
    server = await startServer({ database: 'sqlite:./data/tessera.db', cwd: dir });
    runAndCheck([shellBlocks(GUIDE).join('\n')], {
      cwd: dir,
      replace: [[EXAMPLE_ISSUER, server.url]],
    });
  });

  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the Spaces client has both redirect URIs, sandbox and live, and serves every tenant', async () => {
    const r = await runCli(['--json', 'client', 'show', 'dnaspaces'], { cwd: dir });
    const client = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(client['redirect_uris'], SPACES_REDIRECT_URIS);
    assert.deepEqual(client['tenants'], []);
    assert.equal(client['dialect'], 'cisco-spaces');
  });

  test('the App Tile URLs are the ones the server publishes', async () => {
    const tile = appTile();
    const url = (field: string) => tile.get(field)?.replace(EXAMPLE_ISSUER, server.url);
    const meta = (await getJson(server.discovery)).body;
    assert.equal(url('OAuth Login URL'), meta['authorization_endpoint']);
    assert.equal(url('OAuth Token URL'), meta['token_endpoint']);
    assert.equal(url('App Info URL'), `${server.issuer}/spaces/app-info`);
    assert.equal(url('App launch URL'), `${server.issuer}/spaces/launch`);
    assert.equal(tile.get('Client ID'), 'dnaspaces');
  });

  test('the pre-submission check passed for the sandbox and the live redirect URI, launch included', () => {
    for (const target of ['sandbox', 'live']) {
      const xml = readFileSync(join(dir, `spaces-${target}.xml`), 'utf8');
      assert.doesNotMatch(xml, /<failure/, target);
      assert.match(xml, /refused \(the site does not trust this key server\)/, target);
    }
  });

  test('the troubleshooting table names real audit types, and the check left each behind', async () => {
    const types = [...GUIDE.matchAll(/--type ([a-z_]+\.[a-z_]+)/g)].map((m) => m[1] as string);
    for (const type of types) assert.ok(type in AUDIT_EVENT_TYPES, type);
    const mismatch = await audit('authorize.mismatch');
    assert.ok(
      mismatch.some((e) => e.client_id === 'dnaspaces' && /redirect/i.test(e.reason ?? '')),
    );
    assert.ok((await audit('token.refused')).some((e) => e.client_id === 'dnaspaces'));
    assert.ok((await audit('code.replayed')).length > 0);
    assert.ok((await audit('launch.refused')).some((e) => /baseUrl/.test(e.reason ?? '')));
  });
});
