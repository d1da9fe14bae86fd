/**
 * The `--brand-*` flags of `tenant` and `client` through the real CLI: a logo file is
 * sniffed and stored, a colour and support link validated, a logo URL refused with one line
 * on stderr, and an empty value clears a field.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createWorkspace, newMasterKey } from '../helpers/cli.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const ws = createWorkspace({
  env: { TESSERA_MASTER_KEY: newMasterKey() },
  prefix: 'tessera-brand-',
});
after(() => ws.remove());

test('tenant and client branding from the CLI', async () => {
  const logo = join(ws.dir, 'logo.png');
  writeFileSync(logo, PNG);
  const tenant = await ws.json([
    'tenant',
    'create',
    '--id',
    'acme',
    '--name',
    'Acme',
    '--brand-name',
    'Acme Workplace',
    '--brand-logo-file',
    logo,
    '--brand-color',
    '#5B2A9E',
    '--brand-support-url',
    'https://help.acme.example/',
  ]);
  assert.equal(tenant['brand_name'], 'Acme Workplace');
  assert.equal(tenant['brand_color'], '#5b2a9e');
  assert.equal(tenant['brand_logo'], '/branding/logo/tenant/acme');
  assert.equal(tenant['brand_support_url'], 'https://help.acme.example/');

  const cleared = await ws.json(['tenant', 'update', 'acme', '--brand-color', '']);
  assert.equal(cleared['brand_color'], null);
  assert.equal(cleared['brand_name'], 'Acme Workplace', 'other fields stay');

  const client = await ws.json([
    'client',
    'create',
    '--name',
    'App',
    '--client-id',
    'app',
    '--brand-support-url',
    'mailto:help@acme.example',
  ]);
  assert.equal(client['brand_support_url'], 'mailto:help@acme.example');
  const shown = await ws.json(['client', 'show', 'app']);
  assert.equal(shown['brand_support_url'], 'mailto:help@acme.example');

  const url = await ws.cli([
    'client',
    'update',
    'app',
    '--brand-logo-url',
    'https://cdn.example/l.png',
  ]);
  assert.equal(url.code, 1);
  assert.match(url.stderr, /logo URLs are not supported.*CSP/);
  assert.equal(url.stderr.trim().split('\n').length, 1, url.stderr);

  const text = join(ws.dir, 'logo.gif');
  writeFileSync(text, 'GIF89a');
  const gif = await ws.cli(['client', 'update', 'app', '--brand-logo-file', text]);
  assert.equal(gif.code, 1);
  assert.match(gif.stderr, /PNG, SVG, JPEG or WebP/);
  const colour = await ws.cli(['tenant', 'update', 'acme', '--brand-color', 'purple']);
  assert.equal(colour.code, 1);
  assert.match(colour.stderr, /#rrggbb/);
});
