/**
 * docs/api.md against the OpenAPI document of a default server: one `###` section per
 * operation, headed by its `METHOD /path` in code, and no section for an operation the
 * document does not have. (test/http/openapi.test.ts validates the page's JSON examples.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../src/config/load.js';
import { openApiDocument, operationsOf } from '../src/openapi/document.js';

const API_MD = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');

/** `GET /path` code spans of every `###` heading: the operations the page has a section for. */
export function documentedInApiMd(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('### '))
    .flatMap((line) => [...line.matchAll(/`((?:GET|POST|PUT|PATCH|DELETE) \/[^`\s]*)`/g)])
    .map((m) => m[1] as string);
}

test('docs/api.md has a section for exactly the operations of the OpenAPI document', () => {
  const config = loadConfig({ env: {}, file: false, flags: { issuer: 'http://127.0.0.1:8080' } });
  const paths = openApiDocument(config)['paths'] as Record<string, Record<string, unknown>>;
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    operationsOf(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const sections = documentedInApiMd(API_MD);
  assert.deepEqual(
    operations.filter((op) => !sections.includes(op)),
    [],
    'operations without a section',
  );
  assert.deepEqual(
    sections.filter((op) => !operations.includes(op)),
    [],
    'sections for operations the server does not have',
  );
  assert.equal(new Set(sections).size, sections.length, 'one section per operation');
  for (const path of Object.keys(paths)) assert.ok(API_MD.includes(path), `${path} is mentioned`);
});
