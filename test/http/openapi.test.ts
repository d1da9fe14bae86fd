/**
 * The OpenAPI document (src/openapi) against the server it describes:
 *
 * - it is a valid OpenAPI 3.1 document, every `$ref` resolves and operation ids are unique;
 * - its (method, path) pairs are exactly the routes the Fastify app registers, both ways;
 * - every operation is called for real (inject), and each answer — status, media type,
 *   body, fixed headers — must be one the document describes for that operation, its body
 *   valid against the document's schema (ajv, JSON Schema 2020-12); the requests sent as
 *   valid ones must be valid against the document's request schemas too, and those the
 *   document can tell are malformed must be refused by it;
 * - the admin request bodies, generated from the routes' zod schemas, show every zod field
 *   and accept and refuse the same bodies zod does;
 * - `GET /openapi.json` serves exactly `openApiDocument(config)`;
 * - the JSON answers docs/api.md shows are ones the document describes for that operation.
 */
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createUser, inviteUser, resetPasswordLink } from '../../src/admin/users.js';
import { ADMIN_BODIES } from '../../src/admin/bodies.js';
import { openApiDocument, operationsOf } from '../../src/openapi/document.js';
import { tokenResponseName } from '../../src/openapi/token.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { formState } from '../helpers/html.js';
import { CookieJar } from '../helpers/spaces.js';
import { basic } from './helpers.js';

type Json = Record<string, unknown>;
type Doc = ReturnType<typeof openApiDocument>;

/* ---------------------------------------------------------------------------------------- */
/* The routes an app registers                                                              */
/* ---------------------------------------------------------------------------------------- */

/**
 * Fastify publishes every new instance on this channel before any route exists, so an
 * `onRoute` hook added here sees every route createApp registers, prefixed ones included,
 * without the test building the app itself.
 */
const INIT_CHANNEL = 'fastify.initialization';
const registered = new WeakMap<object, string[]>();
function collectRoutes(message: unknown): void {
  const { fastify } = message as { fastify: FastifyInstance };
  const routes: string[] = [];
  registered.set(fastify, routes);
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push(`${method} ${route.url}`);
  });
}
dc.subscribe(INIT_CHANNEL, collectRoutes);
after(() => dc.unsubscribe(INIT_CHANNEL, collectRoutes));

/** `GET /a/{id}` for each route, in the document's path syntax. */
function routeSet(app: FastifyInstance): Set<string> {
  const routes = registered.get(app);
  assert.ok(routes, 'the app was created after the route collector subscribed');
  const set = new Set(routes.map((r) => r.replace(/:([A-Za-z0-9_]+)/g, '{$1}')));
  // Fastify adds a HEAD route for every GET (exposeHeadRoutes); the document describes the
  // GET. A HEAD route without its GET would still have to be documented.
  for (const r of [...set])
    if (r.startsWith('HEAD ') && set.has(`GET ${r.slice(5)}`)) set.delete(r);
  return set;
}

/** The document's operations served by the main listener, as `METHOD /path`. */
function documentedRoutes(doc: Doc): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc['paths'] as Record<string, Json>)) {
    // A path with servers of its own (`/metrics` under `metricsPort`) is not on this app.
    if (item['servers'] !== undefined) continue;
    for (const method of operationsOf(item)) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

function assertSameRoutes(doc: Doc, app: FastifyInstance): void {
  const routes = routeSet(app);
  const documented = documentedRoutes(doc);
  assert.deepEqual(
    [...routes].filter((r) => !documented.has(r)),
    [],
    'routes the app serves that the document lacks',
  );
  assert.deepEqual(
    [...documented].filter((r) => !routes.has(r)),
    [],
    'operations the document describes that the app does not serve',
  );
}

/* ---------------------------------------------------------------------------------------- */
/* Document checks                                                                          */
/* ---------------------------------------------------------------------------------------- */

async function assertValidOpenApi(doc: Doc): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc) as Json);
  assert.equal(validator.version, '3.1');
  assert.deepEqual(result.errors, undefined);
  assert.equal(result.valid, true);
}

/** The value a local `$ref` (`#/a/b`) points at. */
function resolvePointer(doc: Doc, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `local $ref: ${ref}`);
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    assert.ok(node !== null && typeof node === 'object' && key in node, `$ref ${ref} resolves`);
    node = (node as Json)[key];
  }
  return node;
}

function allRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) allRefs(v, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else allRefs(v, out);
    }
  }
  return out;
}

function assertSelfConsistent(doc: Doc): void {
  for (const r of allRefs(doc)) resolvePointer(doc, r);
  const ids = Object.values(doc['paths'] as Record<string, Json>).flatMap((item) =>
    operationsOf(item).map((m) => (item[m] as Json)['operationId']),
  );
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
}

/* ---------------------------------------------------------------------------------------- */
/* Requests checked against the document                                                    */
/* ---------------------------------------------------------------------------------------- */

const DOC_ID = 'https://tessera.test/openapi.json';
const API_MD = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Validates values against the schemas of one document, by JSON pointer, so that schemas
 * keep their `#/components/…` references exactly as the document states them.
 */
class Checker {
  private readonly ajv = new Ajv2020({
    strict: true,
    // `anyOf: [{required: [a]}, {required: [b]}]` names properties its parent declares.
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: true,
  });
  private readonly compiled = new Map<string, ValidateFunction>();
  /** `METHOD /path` of every operation a response was checked for. */
  readonly exercised = new Set<string>();

  constructor(readonly doc: Doc) {
    this.ajv.addFormat('date-time', {
      type: 'string',
      validate: (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) && !isNaN(Date.parse(v)),
    });
    this.ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // The document is added whole so `#/components/…` references resolve as written; ajv
    // compiles its root on the way, so the OpenAPI root fields are declared as annotations.
    this.ajv.addVocabulary(Object.keys(doc).filter((k) => !k.startsWith('$')));
    this.ajv.addSchema(doc, DOC_ID);
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      this.compiled.set(pointer, validate);
    }
    return validate;
  }

  /** Whether `value` is valid against the schema at `pointer` (`/components/schemas/X`). */
  isValid(value: unknown, pointer: string): boolean {
    return this.validator(pointer)(value);
  }

  /** Asserts `value` is valid against the schema at `pointer` (`/components/schemas/X`). */
  assertValid(value: unknown, pointer: string, what: string): void {
    const validate = this.validator(pointer);
    assert.ok(
      validate(value),
      `${what} does not match ${pointer}: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`,
    );
  }

  /** The document path template that matches a concrete URL path. */
  pathFor(url: string): string {
    const path = url.split('?')[0] ?? url;
    const paths = Object.keys(this.doc['paths'] as Json);
    const exact = paths.find((p) => p === path);
    if (exact !== undefined) return exact;
    const match = paths.find((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
    assert.ok(match !== undefined, `the document has a path for ${path}`);
    return match;
  }

  /** An object behind an OpenAPI `$ref` (response, request body, header), and its pointer. */
  private deref(node: Json, pointer: string): { node: Json; pointer: string } {
    const r = node['$ref'];
    if (typeof r !== 'string') return { node, pointer };
    return { node: resolvePointer(this.doc, r) as Json, pointer: r.slice(1) };
  }

  /** The request body against the document: valid, or refused by its schema. */
  assertRequest(path: string, method: string, opts: InjectOptions, valid: boolean): void {
    const op = ((this.doc['paths'] as Record<string, Json>)[path] as Json)[method] as Json;
    const type = String(opts.headers?.['content-type'] ?? '').split(';')[0] ?? '';
    if (op['requestBody'] === undefined || opts.payload === undefined) return;
    const body = this.deref(
      op['requestBody'] as Json,
      `/paths/${escape(path)}/${method}/requestBody`,
    );
    const content = body.node['content'] as Json;
    assert.ok(type in content, `${method} ${path} accepts ${type}`);
    const payload = String(opts.payload);
    const value =
      type === 'application/json'
        ? JSON.parse(payload)
        : Object.fromEntries(new URLSearchParams(payload));
    const pointer = `${body.pointer}/content/${escape(type)}/schema`;
    const what = `${method.toUpperCase()} ${path} request`;
    if (valid) this.assertValid(value, pointer, what);
    else assert.ok(!this.isValid(value, pointer), `${what} is refused by ${pointer}: ${payload}`);
  }

  /** The answer is one the document describes for this operation. */
  assertResponse(path: string, method: string, res: LightMyRequestResponse): void {
    const what = `${method.toUpperCase()} ${path} → ${res.statusCode}`;
    const op = ((this.doc['paths'] as Record<string, Json>)[path] as Json)[method] as Json;
    assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
    const status = String(res.statusCode);
    const responses = op['responses'] as Json;
    assert.ok(status in responses, `${what} is a documented status (${res.body.slice(0, 200)})`);
    const r = this.deref(
      responses[status] as Json,
      `/paths/${escape(path)}/${method}/responses/${status}`,
    );
    for (const [name, spec] of Object.entries((r.node['headers'] as Json | undefined) ?? {})) {
      const schema = this.deref(spec as Json, '').node['schema'] as Json | undefined;
      const actual = res.headers[name.toLowerCase()];
      if (schema?.['const'] !== undefined) assert.equal(actual, schema['const'], `${what} ${name}`);
    }
    const content = r.node['content'] as Json | undefined;
    if (content === undefined) {
      assert.equal(res.body, '', `${what} has no body`);
      return;
    }
    const type = String(res.headers['content-type']).split(';')[0]?.trim() ?? '';
    assert.ok(type in content, `${what} is documented as ${type}`);
    const schema = (content[type] as Json)['schema'];
    if (schema === undefined) return; // binary (an image): the media type is the contract
    const value = type.endsWith('json') ? (JSON.parse(res.body) as unknown) : res.body;
    this.assertValid(value, `${r.pointer}/content/${escape(type)}/schema`, what);
  }

  /** `value` is the body of one of the JSON responses (any status) of an operation. */
  assertSomeResponse(path: string, method: string, value: unknown, what: string): void {
    const responses = (((this.doc['paths'] as Record<string, Json>)[path] as Json)[method] as Json)[
      'responses'
    ] as Json;
    const failures: string[] = [];
    for (const [status, spec] of Object.entries(responses)) {
      const r = this.deref(spec as Json, `/paths/${escape(path)}/${method}/responses/${status}`);
      for (const type of Object.keys((r.node['content'] as Json | undefined) ?? {})) {
        if (!type.endsWith('json')) continue;
        const pointer = `${r.pointer}/content/${escape(type)}/schema`;
        try {
          this.assertValid(value, pointer, what);
          return;
        } catch (err) {
          failures.push((err as Error).message.split('\n')[0] ?? '');
        }
      }
    }
    assert.fail(
      `${what} matches no JSON response of ${method.toUpperCase()} ${path}:\n${failures.join('\n')}`,
    );
  }

  /**
   * Sends a request through the app and checks it against the document: always the
   * response, and the request as `request` says — `valid` (the default) per the document,
   * `refused` by the document's schema, or `unchecked` when the document cannot tell (a
   * client authenticated two ways, a body that is not JSON).
   */
  async call(
    t: TestApp,
    opts: InjectOptions & { url: string; method: string },
    { request = 'valid' }: { request?: 'valid' | 'refused' | 'unchecked' } = {},
  ): Promise<LightMyRequestResponse> {
    const path = this.pathFor(opts.url);
    const method = opts.method.toLowerCase();
    if (request !== 'unchecked') this.assertRequest(path, method, opts, request === 'valid');
    const res = await t.app.inject(opts);
    this.assertResponse(path, method, res);
    this.exercised.add(`${opts.method.toUpperCase()} ${path}`);
    return res;
  }
}

const form = (params: Record<string, string>, headers: Record<string, string> = {}) => ({
  payload: new URLSearchParams(params).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
});
const jsonBody = (value: unknown, headers: Record<string, string> = {}) => ({
  payload: JSON.stringify(value),
  headers: { 'content-type': 'application/json', ...headers },
});

/* ---------------------------------------------------------------------------------------- */
/* The default configuration                                                                */
/* ---------------------------------------------------------------------------------------- */

const SANDBOX = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const SECRET = (id: string) => `${id}-secret-0123456789abcdef`;
const ALICE = { email: 'alice@acme.example', password: 'alice-password-1' };
/** A 1×1 PNG, for a logo upload. */
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe('OpenAPI document, default configuration', () => {
  let t: TestApp;
  let doc: Doc;
  let c: Checker;
  let admin: string;

  const token = async (path: string, params: Record<string, string>) => {
    const res = await c.call(t, { method: 'POST', url: path, ...form(params) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<Json>();
  };
  const ccToken = (id: string, path = '/oauth/token', extra: Record<string, string> = {}) =>
    token(path, {
      grant_type: 'client_credentials',
      client_id: id,
      client_secret: SECRET(id),
      ...extra,
    });
  const adminCall = (method: string, url: string, body?: unknown, valid = true) =>
    c.call(
      t,
      {
        method,
        url: `/admin/v1${url}`,
        ...(body === undefined
          ? { headers: { authorization: `Bearer ${admin}` } }
          : jsonBody(body, { authorization: `Bearer ${admin}` })),
      },
      { request: valid ? 'valid' : 'refused' },
    );

  before(async () => {
    t = await createTestApp();
    doc = openApiDocument(t.deps.config);
    c = new Checker(doc);
    await t.tenant('acme', 'acme.example.com');
    await t.tenant('globex');
    await createUser(t.deps, { ...ALICE, tenants: ['acme'] });
    for (const [id, extra] of [
      ['std', { scopes: ['read'], grants: ['client_credentials', 'refresh_token'] }],
      ['ops', { scopes: ['tessera:admin'] }],
      ['bp', { dialect: 'bright-pattern', tenants: ['acme'] }],
      ['setu', { dialect: 'setu', tenants: ['acme'] }],
      ['spaces', { dialect: 'cisco-spaces', redirectUris: [SANDBOX] }],
    ] as const) {
      await t.client({ clientId: id, secret: SECRET(id), ...extra });
    }
    // Set-up requests go around the checker, so a mismatch fails the test that covers it.
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      ...form({ grant_type: 'client_credentials', client_id: 'ops', client_secret: SECRET('ops') }),
    });
    admin = res.json<Json>()['access_token'] as string;
  });
  after(() => t.close());

  test('is a valid OpenAPI 3.1 document whose references all resolve', async () => {
    await assertValidOpenApi(doc);
    assertSelfConsistent(doc);
  });

  test('describes exactly the routes the app registers', () => {
    assertSameRoutes(doc, t.app);
  });

  test('GET /openapi.json serves exactly openApiDocument(config), cacheable', async () => {
    const res = await c.call(t, { method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    assert.deepEqual(res.json(), openApiDocument(t.deps.config));
  });

  test('discovery and keys', async () => {
    const meta = await c.call(t, { method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.equal(meta.statusCode, 200);
    assert.equal(
      (doc['servers'] as Json[])[0]?.['url'],
      meta.json<Json>()['issuer'],
      'the server URL is the issuer',
    );
    assert.equal(
      (await c.call(t, { method: 'GET', url: '/.well-known/jwks.json' })).statusCode,
      200,
    );
    const oidc = await c.call(t, { method: 'GET', url: '/.well-known/openid-configuration' });
    assert.equal(oidc.statusCode, 200);
    assert.equal(oidc.json<Json>()['issuer'], meta.json<Json>()['issuer']);
  });

  test('token endpoint: each dialect at its usual path matches its own response schema', async () => {
    const cases = [
      { id: 'std', path: '/oauth/token', dialect: 'standard', extra: { scope: 'read' } },
      {
        id: 'bp',
        path: '/configapi/v2/oauth/token',
        dialect: 'bright-pattern',
        extra: { scope: 'acme.example.com' },
      },
      { id: 'setu', path: '/auth/token', dialect: 'setu', extra: {} },
    ];
    const schemas = (doc['components'] as Record<string, Json>)['schemas'] as Json;
    assert.ok(
      (schemas['TokenResponse'] as Json)['oneOf'],
      'the built-in dialects exclude each other',
    );
    for (const k of cases) {
      const body = await ccToken(k.id, k.path, k.extra);
      c.assertValid(body, `/components/schemas/${escape(tokenResponseName(k.dialect))}`, k.dialect);
    }
    // Basic authentication, a JSON body, and the refresh grant (standard, then setu's alias).
    const std = await c.call(t, {
      method: 'POST',
      url: '/oauth/token',
      ...jsonBody(
        { grant_type: 'client_credentials' },
        { authorization: basic('std', SECRET('std')) },
      ),
    });
    assert.equal(std.statusCode, 200, std.body);
    const refreshed = await token('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: std.json<Json>()['refresh_token'] as string,
      client_id: 'std',
      client_secret: SECRET('std'),
    });
    assert.equal(typeof refreshed['refresh_token'], 'string');
    const setu = await ccToken('setu', '/auth/token');
    const rotated = await c.call(t, {
      method: 'POST',
      url: '/auth/token',
      ...jsonBody({
        grant_type: 'refresh_token',
        client_id: 'setu',
        client_secret: SECRET('setu'),
        refreshToken: setu['refreshToken'],
      }),
    });
    assert.equal(rotated.statusCode, 200, rotated.body);
    c.assertValid(
      rotated.json(),
      `/components/schemas/${escape(tokenResponseName('setu'))}`,
      'setu',
    );
  });

  test('Cisco Spaces: sign-in pages, JSON code redemption, App Info, launch refusal', async () => {
    const jar = new CookieJar();
    const browser = async (opts: InjectOptions & { url: string; method: string }) => {
      const cookie = jar.header(opts.url);
      const res = await c.call(t, {
        ...opts,
        headers: { ...opts.headers, ...(cookie !== undefined && { cookie }) },
      });
      jar.absorb(res);
      return res;
    };
    const query = new URLSearchParams({
      client_id: 'spaces',
      redirect_uri: SANDBOX,
      response_type: 'code',
      state: '0123456789abcdef0123456789abcdef',
    });
    const login = await browser({ method: 'GET', url: `/oauth/authorize?${query.toString()}` });
    assert.equal(login.statusCode, 200);
    const wrong = await browser({
      method: 'POST',
      url: '/oauth/authorize',
      ...form({ ...formState(login.body), email: ALICE.email, password: 'not-her-password' }),
    });
    assert.equal(wrong.statusCode, 401);
    const signedIn = await browser({
      method: 'POST',
      url: '/oauth/authorize',
      ...form({ ...formState(wrong.body), ...ALICE }),
    });
    assert.equal(signedIn.statusCode, 303);
    const code = new URL(String(signedIn.headers['location'])).searchParams.get('code') ?? '';
    const mismatch = await browser({
      method: 'GET',
      url: `/oauth/authorize?client_id=spaces&redirect_uri=https%3A%2F%2Fevil.example&response_type=code`,
    });
    assert.equal(mismatch.statusCode, 400);
    assert.ok(mismatch.body.includes('configuration-mismatch'));

    const redeemed = await c.call(t, {
      method: 'POST',
      url: '/oauth/token',
      ...jsonBody({
        code,
        grant_type: 'authorization_code',
        state: query.get('state'),
        client_id: 'spaces',
        client_secret: SECRET('spaces'),
        redirect_uri: '',
      }),
    });
    assert.equal(redeemed.statusCode, 200, redeemed.body);
    const spaces = redeemed.json<Json>();
    assert.deepEqual(Object.keys(spaces), ['access_token', 'token_type', 'scope']);
    c.assertValid(
      spaces,
      `/components/schemas/${escape(tokenResponseName('cisco-spaces'))}`,
      'spaces',
    );

    const appInfo = (tenant: string, bearer?: string) =>
      c.call(t, {
        method: 'GET',
        url: `/spaces/app-info?partnerTenantId=${tenant}`,
        headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` },
      });
    const info = await appInfo('acme', spaces['access_token'] as string);
    assert.equal(info.statusCode, 200);
    assert.equal(info.json<Json>()['partnerTenantId'], 'acme');
    assert.equal((await appInfo('globex', spaces['access_token'] as string)).statusCode, 403);
    assert.equal((await appInfo('acme')).statusCode, 401);

    const launch = await c.call(t, {
      method: 'POST',
      url: '/spaces/launch',
      ...form({ token: 'not-a-launch-token', version: '1' }),
    });
    assert.equal(launch.statusCode, 401);
    assert.equal((await browser({ method: 'POST', url: '/oauth/logout' })).statusCode, 403);
    const logout = { method: 'POST', url: '/oauth/logout' };
    const csrf = formState(login.body).csrf;
    assert.equal((await browser({ ...logout, ...form({ csrf }) })).statusCode, 200);
    const endSession = await browser({
      method: 'GET',
      url: '/oauth/end-session?post_logout_redirect_uri=https%3A%2F%2Fevil.example',
    });
    assert.equal(endSession.statusCode, 400);
    assert.equal((await browser({ method: 'GET', url: '/oauth/end-session' })).statusCode, 200);
    const confirm = { method: 'POST', url: '/oauth/end-session', ...form({ confirm: 'yes' }) };
    assert.equal((await browser(confirm)).statusCode, 403);
    assert.equal(
      (await browser({ method: 'POST', url: '/oauth/end-session', ...form({}) })).statusCode,
      200,
    );

    // The account pages; without smtpUrl the forgot form only says to ask the administrator.
    assert.equal((await browser({ method: 'GET', url: '/account/forgot' })).statusCode, 200);
    const forgot = { method: 'POST', url: '/account/forgot' };
    assert.equal((await browser({ ...forgot, ...form({ email: ALICE.email }) })).statusCode, 400);
    assert.equal(
      (await browser({ ...forgot, ...form({ csrf, email: ALICE.email }) })).statusCode,
      200,
    );
    const ivy = await inviteUser(t.deps, { email: 'ivy@acme.example', tenants: ['acme'] });
    const reset = await resetPasswordLink(t.deps, ALICE.email);
    for (const [purpose, link] of [
      ['setup', ivy.link],
      ['reset', reset.link],
    ] as const) {
      const url = new URL(link ?? '');
      const path = `/account/${purpose}`;
      assert.equal((await browser({ method: 'GET', url: `${path}?token=x` })).statusCode, 400);
      const page = await browser({ method: 'GET', url: `${url.pathname}${url.search}` });
      assert.equal(page.statusCode, 200);
      const fields = {
        csrf,
        token: url.searchParams.get('token') ?? '',
        password: 'a new password 1',
        password_confirm: 'a new password 1',
      };
      const short = { ...fields, password: 'short', password_confirm: 'short' };
      assert.equal((await browser({ method: 'POST', url: path, ...form(short) })).statusCode, 400);
      assert.equal((await browser({ method: 'POST', url: path, ...form(fields) })).statusCode, 200);
    }
  });

  test('RFC 6749 errors, each a documented status and body', async () => {
    const cases: [string, Record<string, string>, number, boolean][] = [
      [
        '/oauth/token',
        {
          grant_type: 'client_credentials',
          client_id: 'std',
          client_secret: 'wrong-secret-0123456789',
        },
        401,
        true,
      ],
      [
        '/oauth/token',
        { grant_type: 'password', client_id: 'std', client_secret: SECRET('std') },
        400,
        false,
      ],
      [
        '/auth/token',
        {
          grant_type: 'refresh_token',
          client_id: 'setu',
          client_secret: SECRET('setu'),
          refreshToken: 'spent',
        },
        400,
        true,
      ],
      [
        '/configapi/v2/oauth/token',
        {
          grant_type: 'client_credentials',
          client_id: 'bp',
          client_secret: SECRET('bp'),
          scope: 'globex',
        },
        400,
        true,
      ],
      ['/oauth/revoke', { client_id: 'std', client_secret: SECRET('std') }, 400, false],
      [
        '/oauth/introspect',
        { token: 'x', client_id: 'nobody', client_secret: SECRET('nobody') },
        401,
        true,
      ],
    ];
    for (const [url, params, status, valid] of cases) {
      const request = valid ? 'valid' : 'refused';
      const res = await c.call(t, { method: 'POST', url, ...form(params) }, { request });
      assert.equal(res.statusCode, status, `${url} ${res.body}`);
    }
    const twice = await c.call(
      t,
      {
        method: 'POST',
        url: '/oauth/token',
        ...form(
          { grant_type: 'client_credentials', client_secret: SECRET('std') },
          { authorization: basic('std', SECRET('std')) },
        ),
      },
      { request: 'unchecked' },
    );
    assert.equal(twice.json<Json>()['error'], 'invalid_request');
    const badJson = await c.call(
      t,
      {
        method: 'POST',
        url: '/oauth/token',
        payload: '{"grant_type":',
        headers: { 'content-type': 'application/json' },
      },
      { request: 'unchecked' },
    );
    assert.equal(badJson.statusCode, 400);
  });

  test('introspection (active access and refresh tokens, inactive), revocation, userinfo', async () => {
    const issued = await ccToken('std');
    const at = issued['access_token'] as string;
    const ask = (tok: string) =>
      c.call(t, {
        method: 'POST',
        url: '/oauth/introspect',
        ...form({ token: tok }, { authorization: basic('std', SECRET('std')) }),
      });
    assert.equal((await ask(at)).json<Json>()['active'], true);
    assert.equal(
      (await ask(issued['refresh_token'] as string)).json<Json>()['token_type'],
      'refresh_token',
    );
    assert.deepEqual((await ask('unknown')).json(), { active: false });

    for (const method of ['GET', 'POST']) {
      const res = await c.call(t, {
        method,
        url: '/oauth/userinfo',
        headers: { authorization: `Bearer ${at}` },
      });
      assert.equal(res.json<Json>()['client_id'], 'std');
    }
    const revoked = await c.call(t, {
      method: 'POST',
      url: '/oauth/revoke',
      ...form({ token: at, client_id: 'std', client_secret: SECRET('std') }),
    });
    assert.equal(revoked.statusCode, 200);
    const refused = await c.call(t, {
      method: 'GET',
      url: '/oauth/userinfo',
      headers: { authorization: `Bearer ${at}` },
    });
    assert.equal(refused.statusCode, 401);
    const malformed = await c.call(t, {
      method: 'GET',
      url: '/oauth/userinfo',
      headers: { authorization: 'Bearer a b' },
    });
    assert.equal(malformed.statusCode, 400);
  });

  test('admin API: every operation, with its refusals', async () => {
    const plain = (await ccToken('std'))['access_token'] as string;
    const forbidden = await c.call(t, {
      method: 'GET',
      url: '/admin/v1/tenants',
      headers: { authorization: `Bearer ${plain}` },
    });
    assert.equal(forbidden.statusCode, 403);

    const bob = '/users/bob@initech.example';
    // A consent to withdraw, written around the checker (the consent page is not under test).
    const alice = await t.deps.store.getUserByEmail(ALICE.email);
    assert.ok(alice);
    await t.deps.store.putConsent({
      userId: alice.id,
      clientId: 'std',
      scopes: ['read'],
      grantedAt: t.clock.now,
    });
    const aliceConsents = `/users/${ALICE.email}/consents`;
    // [method, path under /admin/v1, JSON body, expected status, body valid per the document
    // (false: the document refuses it too)]
    const steps: [string, string, unknown, number, boolean?][] = [
      ['GET', '/tenants', undefined, 200],
      ['GET', '/users', undefined, 200],
      ['GET', '/clients', undefined, 200],
      ['GET', '/keys', undefined, 200],
      ['GET', '/audit?limit=5&type=token.issued', undefined, 200],
      ['GET', '/audit?since=2020-01-01T00:00:00Z', undefined, 200],
      [
        'POST',
        '/tenants',
        { id: 'initech', name: 'Initech', brand_color: '#0b5cad', brand_logo_base64: PNG },
        201,
      ],
      ['POST', '/tenants', { id: 'initech', name: 'Again' }, 409],
      [
        'PATCH',
        '/tenants/initech',
        { app_url: 'https://app.initech.example/', support_email: 'help@initech.example' },
        200,
      ],
      ['PATCH', '/tenants/nowhere', { name: 'x' }, 404],
      ['PUT', '/tenants/initech/telemetry/devices', { value: '42', units: 'count' }, 200],
      [
        'POST',
        '/users',
        { email: 'bob@initech.example', tenants: ['initech'], password: 'bob-password-1' },
        201,
      ],
      ['PUT', `${bob}/password`, { password: 'bob-password-2' }, 200],
      ['POST', `${bob}/reset-password`, { print_link: true }, 200],
      ['POST', `${bob}/reset-password`, undefined, 200],
      ['POST', '/users/nobody@initech.example/reset-password', undefined, 404],
      ['POST', '/users/ivy@initech.example/invite', { tenants: ['initech'] }, 200],
      ['POST', '/users/ivy@initech.example/invite', { name: 'Ivy', print_link: true }, 200],
      ['POST', '/users/new@initech.example/invite', {}, 400],
      ['POST', '/users/n%00l@initech.example/invite', { tenants: ['initech'] }, 400],
      ['POST', `${bob}/invite`, { tenants: ['initech'] }, 409],
      ['POST', '/users/ivy@initech.example/invite', { print_link: 'yes' }, 400, false],
      ['POST', `${bob}/disable`, undefined, 200],
      ['POST', `${bob}/reset-password`, undefined, 409],
      ['GET', aliceConsents, undefined, 200],
      ['GET', `${bob}/consents`, undefined, 200],
      ['GET', '/users/nobody@initech.example/consents', undefined, 404],
      ['GET', '/users/not-an-address/consents', undefined, 400],
      ['DELETE', `${aliceConsents}/std`, undefined, 204],
      ['DELETE', `${aliceConsents}/std`, undefined, 404],
      [
        'POST',
        '/clients',
        {
          client_id: 'reporting',
          name: 'Reporting',
          scopes: ['reports:read'],
          brand_name: 'Reports',
        },
        201,
      ],
      ['GET', '/clients/reporting', undefined, 200],
      ['PATCH', '/clients/reporting', { access_token_ttl: 600, tenants: ['initech'] }, 200],
      ['PATCH', '/clients/reporting', { unknown_field: 1 }, 400, false],
      ['PATCH', '/clients/reporting', { refresh_grace: 30 }, 200],
      ['PATCH', '/clients/reporting', { refresh_grace: true }, 400, false],
      ['PATCH', '/clients/reporting', { refresh_grace: 301 }, 400, false],
      ['POST', '/clients/reporting/rotate-secret', { grace_seconds: 60 }, 200],
      ['DELETE', '/clients/reporting', undefined, 200],
      ['GET', '/clients/reporting', undefined, 404],
      ['POST', '/keys/rotate', { alg: 'ES256' }, 200],
    ];
    for (const [method, url, body, status, valid = true] of steps) {
      const res = await adminCall(method, url, body, valid);
      assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    }

    // The branding just uploaded, as the pages link it.
    for (const [url, status] of [
      ['/branding/logo/tenant/initech?v=1', 200],
      ['/branding/style/tenant/initech.css', 200],
      ['/branding/logo/client/nobody', 404],
    ] as const) {
      assert.equal((await c.call(t, { method: 'GET', url })).statusCode, status, url);
    }
  });

  test('each admin body component shows exactly the fields of its zod schema', () => {
    const schemas = (doc['components'] as Record<string, Json>)['schemas'] as Record<string, Json>;
    for (const [name, schema] of Object.entries(ADMIN_BODIES)) {
      const documented = Object.keys((schemas[name]?.['properties'] as Json | undefined) ?? {});
      assert.deepEqual(documented.sort(), Object.keys(schema.shape).sort(), name);
    }
    // Every body is the request body of an admin operation, and every admin operation's
    // body is one of them: none is left out of the document, none is written by hand.
    const bodies = Object.entries(doc['paths'] as Record<string, Json>)
      .filter(([path]) => path.startsWith('/admin/'))
      .flatMap(([, item]) => operationsOf(item).map((m) => (item[m] as Json)['requestBody']))
      .filter((b): b is Json => b !== undefined)
      .map((b) => {
        const media = (b['content'] as Record<string, Json>)['application/json'];
        return (media?.['schema'] as Json | undefined)?.['$ref'];
      });
    assert.deepEqual(
      [...new Set(bodies)].sort(),
      Object.keys(ADMIN_BODIES)
        .map((n) => `#/components/schemas/${n}`)
        .sort(),
    );
  });

  test('each admin body component accepts and refuses the same bodies as its zod schema', () => {
    // The smallest body each schema accepts; every sample below is a change to it.
    const minimal: Record<keyof typeof ADMIN_BODIES, Json> = {
      TenantCreate: { id: 'initech' },
      TenantUpdate: {},
      TelemetrySet: { value: '42', units: 'count' },
      UserCreate: { email: 'bob@initech.example', tenants: ['initech'], password: 'p' },
      UserInvite: {},
      LinkRequest: {},
      PasswordSet: { password: 'p' },
      ClientCreate: {},
      ClientUpdate: {},
      SecretRotation: {},
      KeyRotation: {},
    };
    const values: unknown[] = [
      ...['x', '', 'ES256', 'none'],
      ...[33, 257, 1025, 2049, 100_001].map((n) => 'x'.repeat(n)),
      ...[0, 1, -1, 1.5, 300, 301, 2 ** 53],
      ...[true, null, {}, [], ['x'], [''], [1], Array<string>(101).fill('x')],
    ];
    let samples = 0;
    for (const [name, schema] of Object.entries(ADMIN_BODIES)) {
      const base = minimal[name as keyof typeof ADMIN_BODIES];
      const keys = Object.keys(schema.shape);
      const bodies: unknown[] = [
        base,
        { ...base, unknown_field: 'x' },
        null,
        [],
        'x',
        ...keys.map((k) => Object.fromEntries(Object.entries(base).filter(([key]) => key !== k))),
        ...keys.flatMap((k) => values.map((v) => ({ ...base, [k]: v }))),
      ];
      for (const body of bodies) {
        const expected = schema.safeParse(body).success;
        const actual = c.isValid(body, `/components/schemas/${name}`);
        assert.equal(
          actual,
          expected,
          `${name} ${expected ? 'accepts' : 'refuses'} ${JSON.stringify(body)}`,
        );
        samples++;
      }
      assert.ok(schema.safeParse(base).success, `${name}: the minimal body is valid`);
    }
    assert.ok(samples > 1000, `${samples} samples`);
  });

  test('operations endpoints and the stylesheet', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/static/tessera.css']) {
      assert.equal((await c.call(t, { method: 'GET', url })).statusCode, 200, url);
    }
  });

  test('the JSON answers shown in docs/api.md are ones the document describes', () => {
    const operations = Object.entries(doc['paths'] as Record<string, Json>).flatMap(
      ([path, item]) => operationsOf(item).map((method) => ({ path, method })),
    );
    let section: { path: string; method: string } | undefined;
    let examples = 0;
    // Each ```json block belongs to the operation named in the `###` heading above it.
    for (const block of API_MD.split(/^(?=#{2,3} |```json\n)/m)) {
      if (block.startsWith('## ')) section = undefined;
      if (block.startsWith('### ')) {
        const heading = block.slice(0, block.indexOf('\n'));
        section = operations.find((o) =>
          heading.includes(`\`${o.method.toUpperCase()} ${o.path}\``),
        );
      }
      if (!block.startsWith('```json\n')) continue;
      const text = block.slice('```json\n'.length, block.indexOf('\n```'));
      assert.ok(section, `a JSON example outside an operation's section: ${text.slice(0, 80)}`);
      c.assertSomeResponse(section.path, section.method, JSON.parse(text), `docs/api.md example`);
      examples++;
    }
    assert.ok(examples >= 30, `${examples} examples checked`);
  });

  test('every documented operation was called above', () => {
    assert.deepEqual(
      [...documentedRoutes(doc)].filter((r) => !c.exercised.has(r)),
      [],
    );
  });
});

/* ---------------------------------------------------------------------------------------- */
/* A configured server: aliases, custom dialects, a separate metrics listener               */
/* ---------------------------------------------------------------------------------------- */

describe('OpenAPI document, configured aliases, dialects and metrics port', () => {
  let t: TestApp;
  let doc: Doc;

  before(async () => {
    t = await createTestApp({
      flags: {
        tokenEndpointAliases: ['/api/token'],
        metricsPort: 9464,
        dialects: {
          acme: {
            fields: { access_token: 'token', expires_in: 'ttl', scope: false },
            expiresIn: 'string',
          },
          // Differs from `standard` only in an optional field: the variants can overlap.
          lite: { fields: { refresh_token: false } },
        },
      },
    });
    doc = openApiDocument(t.deps.config);
    await t.client({ clientId: 'acme1', secret: SECRET('acme1'), dialect: 'acme' });
  });
  after(() => t.close());

  test('is valid and describes exactly the routes of this app', async () => {
    await assertValidOpenApi(doc);
    assertSelfConsistent(doc);
    assertSameRoutes(doc, t.app);
  });

  test('the aliases are documented, the defaults are not', () => {
    const paths = Object.keys(doc['paths'] as Json);
    assert.ok(paths.includes('/api/token'));
    assert.ok(!paths.includes('/auth/token'));
  });

  test('/metrics is documented on its own listener', () => {
    const metrics = (doc['paths'] as Record<string, Json>)['/metrics'] as Json;
    assert.match(String((metrics['servers'] as Json[])[0]?.['url']), /:9464$/);
  });

  test('custom dialects get response schemas; overlapping variants make the union anyOf', async () => {
    const schemas = (doc['components'] as Record<string, Json>)['schemas'] as Json;
    assert.ok(schemas[tokenResponseName('lite')]);
    assert.ok((schemas['TokenResponse'] as Json)['anyOf']);
    const c = new Checker(doc);
    const res = await c.call(t, {
      method: 'POST',
      url: '/api/token',
      ...form({
        grant_type: 'client_credentials',
        client_id: 'acme1',
        client_secret: SECRET('acme1'),
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    c.assertValid(res.json(), `/components/schemas/${escape(tokenResponseName('acme'))}`, 'acme');
  });
});
