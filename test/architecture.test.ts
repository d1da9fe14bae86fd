/**
 * The layer order of docs/architecture.md, checked with dependency-cruiser over the real
 * src/ tree, and the rules themselves checked on a small tree that breaks each of them (so a
 * rule that matched nothing would fail here, not pass silently).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ICruiseResult, cruise } from 'dependency-cruiser';
import config, { LAYERS, forbidden } from '../.dependency-cruiser.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function violations(baseDir: string): Promise<string[]> {
  const { output } = await cruise(
    ['src'],
    { ...config.options, baseDir, validate: true, ruleSet: { forbidden } },
    undefined,
    undefined,
  );
  return (output as ICruiseResult).summary.violations.map(
    (v) => `${v.rule.name}: ${v.from} → ${v.to}`,
  );
}

test('src/ imports only down its layers, with no cycles', async () => {
  assert.deepEqual(await violations(root), []);
});

test('every folder and top-level module of src/ has a layer', () => {
  const layered = new Set(LAYERS.flat());
  const places = readdirSync(join(root, 'src'), { withFileTypes: true }).map((e) =>
    e.isDirectory() ? e.name : e.name.replace(/\.ts$/, ''),
  );
  assert.deepEqual(
    places.filter((p) => !layered.has(p)),
    [],
  );
});

const scratch = mkdtempSync(join(tmpdir(), 'tessera-layers-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('the rules refuse an upward import, a sibling import, an import from errors, an unlayered folder and a cycle', async () => {
  const files: Record<string, string> = {
    'src/errors.ts': "import { x } from './config/options.js';\nexport const e = x;\n",
    'src/config/options.ts': 'export const x = 1;\n',
    'src/store/store.ts': "import { app } from '../server/app.js';\nexport const s = app;\n",
    'src/server/app.ts': 'export const app = 1;\n',
    'src/admin/users.ts':
      "import { launch } from '../spaces/launch.js';\nexport const u = launch;\n",
    'src/spaces/launch.ts': 'export const launch = 1;\n',
    'src/oauth/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'src/oauth/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    'src/stray/thing.ts': "import { x } from '../config/options.js';\nexport const t = x;\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), text);
  }
  writeFileSync(join(scratch, 'tsconfig.json'), '{ "compilerOptions": { "module": "nodenext" } }');
  assert.deepEqual((await violations(scratch)).sort(), [
    'layer-admin: src/admin/users.ts → src/spaces/launch.ts',
    'layer-errors: src/errors.ts → src/config/options.ts',
    'layer-store: src/store/store.ts → src/server/app.ts',
    'no-circular: src/oauth/a.ts → src/oauth/b.ts',
    'no-unlayered: src/stray/thing.ts → src/config/options.ts',
  ]);
});
