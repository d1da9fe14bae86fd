/**
 * docs/api.md against the OpenAPI document of a default server: one `###` section per
 * operation, headed by its `METHOD /path` in code, and no section for an operation the
 * document does not have; the admin body fields a section names (`{"id","name"?}`) are
 * fields of the operation's (generated) request body. (test/http/openapi.test.ts validates
 * the page's JSON examples.)
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

const config = loadConfig({ env: {}, file: false, flags: { issuer: 'http://127.0.0.1:8080' } });
const doc = openApiDocument(config);
const paths = doc['paths'] as Record<string, Record<string, unknown>>;

test('docs/api.md has a section for exactly the operations of the OpenAPI document', () => {
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

type Json = Record<string, unknown>;

test('the admin body fields docs/api.md lists are fields of the documented request body', () => {
  const schemas = (doc['components'] as Record<string, Json>)['schemas'] as Record<string, Json>;
  let checked = 0;
  for (const section of API_MD.split(/^(?=### )/m).slice(1)) {
    const [op] = documentedInApiMd(section.slice(0, section.indexOf('\n')));
    // A field list is quoted names, `?` when optional, `:[…]` for a list; not an example
    // body such as `{"bogus":1}`.
    const fields = /`\{("[a-z_]+"\??(?::\[…\])?(?:,"[a-z_]+"\??(?::\[…\])?)*)\}`/.exec(
      section,
    )?.[1];
    if (op?.includes(' /admin/') !== true || fields === undefined) continue;
    const [method = '', path = ''] = op.split(' ');
    const body = (paths[path]?.[method.toLowerCase()] as Json | undefined)?.['requestBody'];
    const media = ((body as Json | undefined)?.['content'] as Record<string, Json> | undefined)?.[
      'application/json'
    ];
    const name =
      String((media?.['schema'] as Json | undefined)?.['$ref'])
        .split('/')
        .pop() ?? '';
    const properties = Object.keys((schemas[name]?.['properties'] as Json | undefined) ?? {});
    const named = [...fields.matchAll(/"([a-z_]+)"/g)].map((m) => m[1] as string);
    assert.deepEqual(
      named.filter((f) => !properties.includes(f)),
      [],
      `${op}: fields docs/api.md names that ${name} does not have`,
    );
    checked++;
  }
  assert.ok(checked >= 7, `${checked} sections with a field list`);
});
