import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CLASSES } from '../src/errors.js';
import { withOptionsTable } from '../scripts/config-docs.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('docs/configuration.md lists every option with its current default (npm run docs)', () => {
  const doc = read('docs/configuration.md');
  assert.equal(doc, withOptionsTable(doc));
});

test('docs/errors.md lists exactly the error codes and statuses the server can send', () => {
  const documented = [
    ...read('docs/errors.md').matchAll(/^\| `([a-z_]+)`\s*\| (\d{3})\s*\|/gm),
  ].map((m) => `${m[1]} ${m[2]}`);
  const actual = ERROR_CLASSES.map((E) => {
    const e = new E('x');
    return `${e.code} ${e.status}`;
  });
  assert.deepEqual([...documented].sort(), [...actual].sort());
});

test('docs/operations.md lists exactly the audit event types', async () => {
  const { AUDIT_EVENT_TYPES } = await import('../src/observability/audit.js');
  const doc = read('docs/operations.md');
  const table = doc.slice(doc.indexOf('<!-- audit-types'));
  const documented = [...table.matchAll(/^\| `([a-z_]+\.[a-z_]+)`\s*\|/gm)].map((m) => m[1]);
  assert.deepEqual(documented, Object.keys(AUDIT_EVENT_TYPES));
});
