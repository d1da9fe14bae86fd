/**
 * The `tessera` command's `#!` line and `npm start` run Node with the young generation
 * capped (docs/deployment.md, "Memory"): the flag must be spelt so that both the kernel's
 * `env -S` and Node accept it, and must take effect.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, childEnv } from '../helpers/cli.js';

const shebang = readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').split('\n')[0] ?? '';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** The young generation's size after enough garbage to grow it to its limit, in MiB. */
function newSpaceMiB(interpreterArgs: readonly string[]): number {
  const script = `
    const keep = [];
    for (let r = 0; r < 60; r++) {
      const a = [];
      for (let i = 0; i < 100000; i++) a.push({ i, s: 'x' + i });
      keep.push(a.length);
    }
    const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    process.stdout.write(String(s.space_size / 1048576));`;
  return Number(
    execFileSync(interpreterArgs[0] as string, [...interpreterArgs.slice(1), '-e', script], {
      env: childEnv(),
      encoding: 'utf8',
    }),
  );
}

test('the #! line runs node with the memory flags, and npm start passes the same', () => {
  const flags = '--max-semi-space-size=8 --heap-growing-percent=50';
  assert.equal(shebang, `#!/usr/bin/env -S node ${flags}`);
  assert.ok(
    (pkg.scripts['start'] ?? '').startsWith(`node ${flags} dist/cli/main.js `),
    pkg.scripts['start'],
  );
});

test('started as the kernel starts the #! line, the young generation stays at 2 × 8 MiB', () => {
  // The kernel passes everything after the interpreter's path as one argument.
  const [interpreter, ...rest] = shebang.slice(2).split(' ');
  const capped = newSpaceMiB([interpreter as string, rest.join(' ')]);
  const uncapped = newSpaceMiB([process.execPath]);
  assert.ok(capped <= 16, `capped young generation: ${capped} MiB`);
  // Node's own default is larger, or this test could not tell the flag was applied.
  assert.ok(uncapped > 16, `default young generation: ${uncapped} MiB`);
});
