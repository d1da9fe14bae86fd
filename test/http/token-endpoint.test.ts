/**
 * Token endpoint rules (DESIGN §3 "Token endpoint rules"): body parsing, endpoint paths,
 * client authentication, grant-type selection, `Cache-Control: no-store` and robustness
 * against malformed input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rotateSecret } from '../../src/admin/clients.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  type Creds,
  assertError,
  basic,
  bodyOf,
  claims,
  clientCredentials,
  ok,
  postRaw,
  rawBasic,
  tokenRequest,
} from './helpers.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('token endpoint: request bodies', () => {
  let t: TestApp;
  let c: Creds;
  let form: string;
  let json: string;

  before(async () => {
    t = await createTestApp();
    c = await t.client({ scopes: ['read', 'write'] });
    form = new URLSearchParams({ grant_type: 'client_credentials', ...c }).toString();
    json = JSON.stringify({ grant_type: 'client_credentials', ...c });
  });
  after(() => t.close());

  test('form body with the form content type', async () => {
    const body = ok(await postRaw(t, '/oauth/token', form, FORM));
    assert.equal(body['token_type'], 'Bearer');
  });

  test('form content type with a charset parameter', async () => {
    ok(
      await postRaw(t, '/oauth/token', form, {
        'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
      }),
    );
  });

  test('JSON body with application/json (and with a charset)', async () => {
    ok(await postRaw(t, '/oauth/token', json, JSON_TYPE));
    ok(
      await postRaw(t, '/oauth/token', json, { 'content-type': 'application/json; charset=utf-8' }),
    );
  });

  test('missing content type: a body starting with { is JSON, anything else a form', async () => {
    ok(await postRaw(t, '/oauth/token', json));
    ok(await postRaw(t, '/oauth/token', `  \n${json}`));
    ok(await postRaw(t, '/oauth/token', form));
  });

  test('wrong content type: sniffed the same way', async () => {
    ok(await postRaw(t, '/oauth/token', json, { 'content-type': 'text/plain' }));
    ok(await postRaw(t, '/oauth/token', form, { 'content-type': 'text/plain' }));
    ok(await postRaw(t, '/oauth/token', json, { 'content-type': 'application/octet-stream' }));
  });

  test('the form content type is believed even when the body starts with {', async () => {
    // Parsed as a form, the JSON text is one odd parameter name: no client credentials.
    assertError(await postRaw(t, '/oauth/token', json, FORM), 401, 'invalid_client');
  });

  test('a parameter given twice in a form → invalid_request (before client authentication)', async () => {
    assertError(
      await postRaw(t, '/oauth/token', `${form}&grant_type=client_credentials`, FORM),
      400,
      'invalid_request',
    );
    assertError(
      await postRaw(t, '/oauth/token', `${form}&scope=read&scope=write`, FORM),
      400,
      'invalid_request',
    );
    // An empty repetition still counts as a repetition.
    assertError(
      await postRaw(t, '/oauth/token', `${form}&scope=&scope=read`, FORM),
      400,
      'invalid_request',
    );
    // Even when the credentials themselves would be wrong: 400, not 401.
    assertError(
      await postRaw(t, '/oauth/token', 'client_id=x&client_id=y&client_secret=z', FORM),
      400,
      'invalid_request',
    );
  });

  test('duplicate JSON keys → invalid_request', async () => {
    const dup = `{"grant_type":"client_credentials","client_id":"${c.client_id}","client_secret":"${c.client_secret}","scope":"read","scope":"write"}`;
    assertError(await postRaw(t, '/oauth/token', dup, JSON_TYPE), 400, 'invalid_request');
    const dupSecret = `{"grant_type":"client_credentials","client_id":"${c.client_id}","client_secret":"wrong-secret-000000","client_secret":"${c.client_secret}"}`;
    assertError(await postRaw(t, '/oauth/token', dupSecret, JSON_TYPE), 400, 'invalid_request');
    // The same key spelled with a JSON escape is still the same key.
    const escaped = `{"grant_type":"client_credentials","client_id":"${c.client_id}","client_secret":"${c.client_secret}","\\u0073cope":"read","scope":"read"}`;
    assertError(await postRaw(t, '/oauth/token', escaped, JSON_TYPE), 400, 'invalid_request');
  });

  test('duplicate JSON keys are found even when an earlier value is not a string', async () => {
    // JSON.parse keeps the last value, which is a string: the duplicate must still be refused.
    for (const first of ['1', 'null', 'true', '{"a":"b"}', '["x"]', '[]', '{}']) {
      const text = `{"grant_type":"client_credentials","client_id":"${c.client_id}","client_secret":${first},"client_secret":"${c.client_secret}"}`;
      assertError(await postRaw(t, '/oauth/token', text, JSON_TYPE), 400, 'invalid_request');
    }
    const scope = `{"scope":5,"grant_type":"client_credentials","client_id":"${c.client_id}","client_secret":"${c.client_secret}","scope":"read"}`;
    assertError(await postRaw(t, '/oauth/token', scope, JSON_TYPE), 400, 'invalid_request');
  });

  test('duplicate JSON keys with whitespace around the colon or escaped quotes in the key', async () => {
    const base = `"grant_type":"client_credentials","client_id":"${c.client_id}","client_secret":"${c.client_secret}"`;
    for (const tail of [
      '"scope" : "read",\n\t"scope"\r\n:"write"',
      '"sc\\"ope":"a","sc\\"ope":"b"',
      '"x\\\\":"a","x\\\\":"b"',
    ]) {
      assertError(
        await postRaw(t, '/oauth/token', `{${base},${tail}}`, JSON_TYPE),
        400,
        'invalid_request',
      );
    }
  });

  test('values holding braces, brackets, quotes, colons and backslashes are not mistaken for keys', async () => {
    const text = JSON.stringify({
      pad1: '{"scope":"x"}',
      pad2: '["scope", {"a": "b"}]',
      pad3: '\\":scope":',
      pad4: 'scope',
      grant_type: 'client_credentials',
      ...c,
      pad5: '}}}]]]',
    });
    ok(await postRaw(t, '/oauth/token', text, JSON_TYPE));
    ok(
      await postRaw(
        t,
        '/oauth/token',
        JSON.stringify({ grant_type: 'client_credentials', ...c }, null, 2),
        JSON_TYPE,
      ),
    );
  });

  test('a nested object with the same key as a top-level one is not a duplicate', async () => {
    // Values must be strings anyway, so this is refused — but as a non-string value.
    const text = `{"grant_type":"client_credentials","x":{"grant_type":"y"}}`;
    const err = assertError(
      await postRaw(t, '/oauth/token', text, JSON_TYPE),
      400,
      'invalid_request',
    );
    assert.match(err.error_description, /string/);
  });

  test('a non-string JSON value → invalid_request', async () => {
    for (const value of [1, 0, true, false, null, ['read'], { a: 'b' }, 1.5]) {
      const text = JSON.stringify({ grant_type: 'client_credentials', ...c, scope: value });
      assertError(await postRaw(t, '/oauth/token', text, JSON_TYPE), 400, 'invalid_request');
    }
  });

  test('a JSON value that is not an object, or invalid JSON → invalid_request', async () => {
    for (const text of [
      '[]',
      JSON.stringify([{ grant_type: 'client_credentials', ...c }]),
      '"grant_type"',
      'null',
      '42',
      '{',
      '{"grant_type":',
      `{"grant_type":"client_credentials",}`,
      "{'grant_type':'client_credentials'}",
      '',
    ]) {
      assertError(await postRaw(t, '/oauth/token', text, JSON_TYPE), 400, 'invalid_request');
    }
    // Sniffed JSON that does not parse is refused the same way.
    assertError(
      await postRaw(t, '/oauth/token', '{grant_type=client_credentials'),
      400,
      'invalid_request',
    );
  });

  test('a body over 16 KiB → 400 invalid_request (form and JSON); 16 KiB exactly is fine', async () => {
    const prefix = `${form}&pad=`;
    const exact = prefix + 'a'.repeat(16 * 1024 - prefix.length);
    assert.equal(Buffer.byteLength(exact), 16 * 1024);
    ok(await postRaw(t, '/oauth/token', exact, FORM));
    assertError(await postRaw(t, '/oauth/token', `${exact}a`, FORM), 400, 'invalid_request');
    assertError(
      await postRaw(t, '/oauth/token', `${form}&pad=${'a'.repeat(100_000)}`, FORM),
      400,
      'invalid_request',
    );
    const bigJson = JSON.stringify({
      grant_type: 'client_credentials',
      ...c,
      pad: 'a'.repeat(17 * 1024),
    });
    assertError(await postRaw(t, '/oauth/token', bigJson, JSON_TYPE), 400, 'invalid_request');
    assertError(await postRaw(t, '/oauth/token', bigJson), 400, 'invalid_request');
  });

  test('empty values are treated as absent', async () => {
    // An empty scope is no scope: all of the client's scopes.
    const body = ok(await clientCredentials(t, c, { scope: '' }));
    assert.equal(body['scope'], 'read write');
    const fromJson = ok(
      await clientCredentials(t, c, { scope: '', tenant: '', resource: '' }, { json: true }),
    );
    assert.equal(fromJson['scope'], 'read write');
    // An empty grant_type is a missing one.
    assertError(await tokenRequest(t, { grant_type: '', ...c }), 400, 'invalid_request');
    // An empty client_secret next to Basic is not a second authentication.
    ok(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials', client_secret: '' },
        { headers: { authorization: basic(c.client_id, c.client_secret) } },
      ),
    );
    // An empty client_secret alone is a missing secret.
    assertError(
      await tokenRequest(t, {
        grant_type: 'client_credentials',
        client_id: c.client_id,
        client_secret: '',
      }),
      401,
      'invalid_client',
    );
  });

  test('no body at all → 401 invalid_client (no credentials)', async () => {
    assertError(await t.app.inject({ method: 'POST', url: '/oauth/token' }), 401, 'invalid_client');
    assertError(await postRaw(t, '/oauth/token', '', FORM), 401, 'invalid_client');
  });
});

describe('token endpoint: paths', () => {
  let t: TestApp;
  let c: Creds;
  before(async () => {
    t = await createTestApp();
    c = await t.client({});
  });
  after(() => t.close());

  test('/oauth/token, /auth/token and /configapi/v2/oauth/token all answer', async () => {
    for (const path of ['/oauth/token', '/auth/token', '/configapi/v2/oauth/token']) {
      const body = ok(await clientCredentials(t, c, {}, { path }));
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(claims(body['access_token'] as string)['client_id'], c.client_id);
    }
  });

  test('errors on the aliases are the same RFC JSON', async () => {
    for (const path of ['/auth/token', '/configapi/v2/oauth/token']) {
      assertError(
        await clientCredentials(t, { ...c, client_secret: 'wrong-secret-0000' }, {}, { path }),
        401,
        'invalid_client',
      );
    }
  });

  test('tokenEndpointAliases: [] removes the aliases', async () => {
    const bare = await createTestApp({ flags: { tokenEndpointAliases: [] } });
    try {
      const cb = await bare.client({});
      ok(await clientCredentials(bare, cb));
      for (const path of ['/auth/token', '/configapi/v2/oauth/token']) {
        const res = await clientCredentials(bare, cb, {}, { path });
        assert.equal(res.statusCode, 404);
        assert.equal(bodyOf(res)['error'], 'not_found');
      }
    } finally {
      await bare.close();
    }
  });

  test('tokenEndpointAliases can name other paths', async () => {
    const custom = await createTestApp({ flags: { tokenEndpointAliases: ['/partner/token'] } });
    try {
      const cc = await custom.client({});
      ok(await clientCredentials(custom, cc, {}, { path: '/partner/token' }));
      assert.equal(
        (await clientCredentials(custom, cc, {}, { path: '/auth/token' })).statusCode,
        404,
      );
    } finally {
      await custom.close();
    }
  });
});

describe('token endpoint: client authentication', () => {
  let t: TestApp;
  let c: Creds;
  // Special characters in both id and secret: `:` must be percent-encoded inside Basic,
  // `+` would otherwise decode as a space and `%` starts an escape.
  const specialId = 'acme:partner~1.x';
  const specialSecret = 'p@ss:w+rd%25/x&y=z!?#[]';
  let pub: string;

  before(async () => {
    t = await createTestApp();
    c = await t.client({ scopes: ['read'] });
    await t.client({ clientId: specialId, secret: specialSecret, scopes: ['read'] });
    pub = (
      await t.client({
        public: true,
        grants: ['authorization_code'],
        redirectUris: ['https://app.example.com/callback'],
      })
    ).client_id;
  });
  after(() => t.close());

  test('client_secret_basic', async () => {
    const body = ok(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: basic(c.client_id, c.client_secret) } },
      ),
    );
    assert.equal(claims(body['access_token'] as string)['client_id'], c.client_id);
  });

  test('client_secret_basic: the scheme name is case-insensitive', async () => {
    const header = basic(c.client_id, c.client_secret).replace('Basic', 'basic');
    ok(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: header } },
      ),
    );
  });

  test('client_secret_basic: id and secret are URL-decoded (special characters)', async () => {
    const body = ok(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: basic(specialId, specialSecret) } },
      ),
    );
    const p = claims(body['access_token'] as string);
    assert.equal(p['client_id'], specialId);
    assert.equal(p['sub'], specialId);
    // The id may also be repeated in the body, unencoded, when it matches.
    ok(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials', client_id: specialId },
        { headers: { authorization: basic(specialId, specialSecret) } },
      ),
    );
  });

  test('client_secret_basic: an unencoded + is a space (RFC 6749 §2.3.1), so the raw secret fails', async () => {
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      {
        headers: {
          authorization: rawBasic(`${encodeURIComponent(specialId)}:p@ss:w+rd%2525/x&y=z!?#[]`),
        },
      },
    );
    assertError(res, 401, 'invalid_client');
    assert.match(String(res.headers['www-authenticate']), /^Basic /);
  });

  test('client_secret_basic: only the first colon splits id and secret', async () => {
    // A client that does not form-encode still works when its secret needs no encoding.
    const colons = await t.client({ secret: 'abc:def:ghi:jkl:mnop' });
    ok(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: rawBasic(`${colons.client_id}:abc:def:ghi:jkl:mnop`) } },
      ),
    );
  });

  test('secret in the form body (client_secret_post), special characters included', async () => {
    ok(await clientCredentials(t, c));
    ok(await clientCredentials(t, { client_id: specialId, client_secret: specialSecret }));
  });

  test('secret in a JSON body', async () => {
    ok(await clientCredentials(t, c, {}, { json: true }));
    ok(
      await clientCredentials(
        t,
        { client_id: specialId, client_secret: specialSecret },
        {},
        { json: true },
      ),
    );
  });

  test('Basic and a body secret at once → invalid_request', async () => {
    for (const json of [false, true]) {
      assertError(
        await tokenRequest(
          t,
          { grant_type: 'client_credentials', client_secret: c.client_secret },
          { json, headers: { authorization: basic(c.client_id, c.client_secret) } },
        ),
        400,
        'invalid_request',
      );
    }
  });

  test('Basic id different from the body client_id → invalid_request', async () => {
    assertError(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials', client_id: specialId },
        { headers: { authorization: basic(c.client_id, c.client_secret) } },
      ),
      400,
      'invalid_request',
    );
  });

  test('wrong secret in the body → 401 invalid_client, no WWW-Authenticate', async () => {
    const res = await clientCredentials(t, { ...c, client_secret: `${c.client_secret}x` });
    assertError(res, 401, 'invalid_client');
    assert.equal(res.headers['www-authenticate'], undefined);
    const json = await clientCredentials(t, { ...c, client_secret: 'x' }, {}, { json: true });
    assertError(json, 401, 'invalid_client');
    assert.equal(json.headers['www-authenticate'], undefined);
  });

  test('wrong secret with Basic → 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { headers: { authorization: basic(c.client_id, 'not-the-secret') } },
    );
    assertError(res, 401, 'invalid_client');
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="tessera"/);
  });

  test('unknown client → 401 invalid_client (body and Basic)', async () => {
    const res = await clientCredentials(t, {
      client_id: 'no-such-client',
      client_secret: c.client_secret,
    });
    assertError(res, 401, 'invalid_client');
    assert.equal(res.headers['www-authenticate'], undefined);
    const viaBasic = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { headers: { authorization: basic('no-such-client', c.client_secret) } },
    );
    assertError(viaBasic, 401, 'invalid_client');
    assert.match(String(viaBasic.headers['www-authenticate']), /^Basic /);
  });

  test('unknown client and wrong secret are indistinguishable', async () => {
    const unknown = bodyOf(
      await clientCredentials(t, { client_id: 'no-such-client', client_secret: 'x' }),
    );
    const wrong = bodyOf(
      await clientCredentials(t, { client_id: c.client_id, client_secret: 'x' }),
    );
    assert.deepEqual(unknown, wrong);
  });

  test('missing credentials → 401 invalid_client', async () => {
    const res = await tokenRequest(t, { grant_type: 'client_credentials' });
    assertError(res, 401, 'invalid_client');
    assert.equal(res.headers['www-authenticate'], undefined);
    // A client_id without a secret, for a confidential client.
    assertError(
      await tokenRequest(t, { grant_type: 'client_credentials', client_id: c.client_id }),
      401,
      'invalid_client',
    );
    // A secret without a client_id.
    assertError(
      await tokenRequest(t, { grant_type: 'client_credentials', client_secret: c.client_secret }),
      401,
      'invalid_client',
    );
  });

  test('a public client sending a secret → 401 invalid_client', async () => {
    assertError(
      await tokenRequest(t, {
        grant_type: 'client_credentials',
        client_id: pub,
        client_secret: 'anything-at-all-123',
      }),
      401,
      'invalid_client',
    );
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { headers: { authorization: basic(pub, 'anything-at-all-123') } },
    );
    assertError(res, 401, 'invalid_client');
    assert.match(String(res.headers['www-authenticate']), /^Basic /);
  });

  test('a public client identified by client_id alone may not use client_credentials', async () => {
    assertError(
      await tokenRequest(t, { grant_type: 'client_credentials', client_id: pub }),
      400,
      'unauthorized_client',
    );
  });

  async function rotate(id: string, graceSeconds: number): Promise<Creds> {
    const { client_secret } = await rotateSecret(t.deps, id, { graceSeconds });
    assert.equal(typeof client_secret, 'string');
    return { client_id: id, client_secret: client_secret ?? '' };
  }

  test('a rotated secret: the previous one is valid during the grace period only', async () => {
    const r = await t.client({ scopes: ['read'] });
    const fresh = await rotate(r.client_id, 600);
    assert.notEqual(fresh.client_secret, r.client_secret);
    ok(await clientCredentials(t, r));
    ok(await clientCredentials(t, fresh));
    t.clock.advance(599);
    ok(await clientCredentials(t, r));
    t.clock.advance(1);
    assertError(await clientCredentials(t, r), 401, 'invalid_client');
    ok(await clientCredentials(t, fresh));
    t.clock.advance(100_000);
    assertError(await clientCredentials(t, r), 401, 'invalid_client');
    ok(await clientCredentials(t, fresh));
  });

  test('a rotated secret without grace stops working at once', async () => {
    const r = await t.client({});
    const fresh = await rotate(r.client_id, 0);
    assertError(await clientCredentials(t, r), 401, 'invalid_client');
    ok(await clientCredentials(t, fresh));
  });

  test('a second rotation ends the first predecessor', async () => {
    const r = await t.client({});
    const second = await rotate(r.client_id, 600);
    const third = await rotate(r.client_id, 600);
    assertError(await clientCredentials(t, r), 401, 'invalid_client');
    ok(await clientCredentials(t, second));
    ok(await clientCredentials(t, third));
  });
});

describe('token endpoint: grant type', () => {
  let t: TestApp;
  let c: Creds;
  let refreshOnly: Creds;
  before(async () => {
    t = await createTestApp();
    c = await t.client({});
    refreshOnly = await t.client({ grants: ['refresh_token'] });
  });
  after(() => t.close());

  test('grant_type missing → invalid_request', async () => {
    assertError(await tokenRequest(t, { ...c }), 400, 'invalid_request');
    assertError(await tokenRequest(t, { ...c }, { json: true }), 400, 'invalid_request');
  });

  test('unknown grant type → unsupported_grant_type', async () => {
    for (const g of [
      'password',
      'implicit',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'CLIENT_CREDENTIALS',
      '__proto__',
      'constructor',
      'toString',
    ]) {
      assertError(await tokenRequest(t, { grant_type: g, ...c }), 400, 'unsupported_grant_type');
    }
  });

  test('a grant the client is not registered for → unauthorized_client', async () => {
    assertError(
      await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: 'whatever', ...c }),
      400,
      'unauthorized_client',
    );
    assertError(await clientCredentials(t, refreshOnly), 400, 'unauthorized_client');
  });

  test('client authentication comes before the grant checks', async () => {
    assertError(
      await tokenRequest(t, { grant_type: 'password', client_id: c.client_id, client_secret: 'x' }),
      401,
      'invalid_client',
    );
    assertError(await tokenRequest(t, { client_id: c.client_id }), 401, 'invalid_client');
  });

  test('refresh_token grant without refresh_token → invalid_request', async () => {
    assertError(
      await tokenRequest(t, { grant_type: 'refresh_token', ...refreshOnly }),
      400,
      'invalid_request',
    );
  });
});

describe('token endpoint: no-store and malformed input', () => {
  let t: TestApp;
  let c: Creds;
  before(async () => {
    t = await createTestApp();
    c = await t.client({ scopes: ['read'] });
  });
  after(() => t.close());

  test('success responses carry Cache-Control: no-store and Pragma: no-cache', async () => {
    const res = await clientCredentials(t, c);
    ok(res);
    assert.equal(res.headers['pragma'], 'no-cache');
  });

  test('malformed Authorization headers → 400 invalid_request', async () => {
    for (const authorization of [
      'Basic !!!',
      'Basic ',
      'Basic',
      'Basic a b',
      rawBasic('no-colon-here'),
      rawBasic('%zz:secret'),
      rawBasic(`${c.client_id}:%E0%A4%A`),
      rawBasic(`${c.client_id}:%`),
    ]) {
      const res = await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization } },
      );
      assertError(res, 400, 'invalid_request');
    }
  });

  test('odd but well-formed Basic credentials → 401 invalid_client', async () => {
    for (const text of [
      ':',
      `${c.client_id}:`,
      `:${c.client_secret}`,
      '\u00e9\u00e8:\u2713',
      '\0:\0',
    ]) {
      const res = await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: rawBasic(text) } },
      );
      assertError(res, 401, 'invalid_client');
      assert.match(String(res.headers['www-authenticate']), /^Basic /);
    }
    // Bytes that are not UTF-8 at all.
    const binary = `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0xc3]).toString('base64')}`;
    assertError(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: binary } },
      ),
      401,
      'invalid_client',
    );
    // A very long id and secret.
    const long = rawBasic(`${'i'.repeat(6000)}:${'s'.repeat(6000)}`);
    assertError(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: long } },
      ),
      401,
      'invalid_client',
    );
  });

  test('another Authorization scheme is not client authentication', async () => {
    assertError(
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { headers: { authorization: 'Bearer abc.def.ghi' } },
      ),
      401,
      'invalid_client',
    );
    // …and the body credentials still work next to it.
    ok(await clientCredentials(t, c, {}, { headers: { authorization: 'Bearer abc' } }));
  });

  test('a 10 KB scope value → invalid_scope', async () => {
    assertError(await clientCredentials(t, c, { scope: 'a'.repeat(10_000) }), 400, 'invalid_scope');
    assertError(
      await clientCredentials(t, c, { scope: 'read '.repeat(2_000) + 'x' }),
      400,
      'invalid_scope',
    );
    assertError(
      await clientCredentials(t, c, { tenant: 't'.repeat(10_000) }),
      400,
      'invalid_scope',
    );
  });

  test('unicode and control characters', async () => {
    assertError(await clientCredentials(t, c, { scope: 'r\u00e9ad' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, c, { scope: 'read\u0000' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, c, { scope: '\ud83d\ude00' }), 400, 'invalid_scope');
    assertError(await clientCredentials(t, c, { tenant: '\u2603' }), 400, 'invalid_scope');
    assertError(
      await clientCredentials(t, { client_id: '\u2603', client_secret: c.client_secret }),
      401,
      'invalid_client',
    );
    assertError(
      await clientCredentials(t, { ...c, client_secret: 'secr\u00e9t\u0000' }),
      401,
      'invalid_client',
    );
    assertError(
      await tokenRequest(t, { grant_type: 'client\u2603', ...c }),
      400,
      'unsupported_grant_type',
    );
    // Lone surrogates survive form decoding and JSON alike.
    assertError(
      await postRaw(
        t,
        '/oauth/token',
        `{"grant_type":"\\ud800","client_id":"${c.client_id}","client_secret":"${c.client_secret}"}`,
        JSON_TYPE,
      ),
      400,
      'unsupported_grant_type',
    );
  });

  test('prototype-ish parameter names are plain parameters', async () => {
    const odd = Object.fromEntries([
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['toString', 'z'],
      ['hasOwnProperty', 'w'],
    ]) as Record<string, string>;
    assert.ok(Object.hasOwn(odd, '__proto__'));
    ok(await clientCredentials(t, c, odd));
    ok(await clientCredentials(t, c, odd, { json: true }));
    ok(
      await postRaw(
        t,
        '/oauth/token',
        `{"__proto__":"x","constructor":"y","grant_type":"client_credentials","client_id":"${c.client_id}","client_secret":"${c.client_secret}"}`,
        JSON_TYPE,
      ),
    );
    ok(
      await postRaw(
        t,
        '/oauth/token',
        `__proto__=x&constructor=y&${new URLSearchParams({ grant_type: 'client_credentials', ...c }).toString()}`,
        FORM,
      ),
    );
  });

  test('malformed bodies never produce a 5xx', async () => {
    const cases: [string, Record<string, string>][] = [
      ['%zz=%zz&grant_type=%', FORM],
      ['&&&===&', FORM],
      ['\u0000\u0001\u0002', {}],
      ['{"a":"\\ud800"}', JSON_TYPE],
      ['{"a":"b"}garbage', JSON_TYPE],
      [`{${'"a":"b",'.repeat(10)}"a":"c"}`, JSON_TYPE],
      ['['.repeat(5000), JSON_TYPE],
      ['{"a":'.repeat(2000), JSON_TYPE],
      [
        '--boundary\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--boundary--',
        { 'content-type': 'multipart/form-data; boundary=boundary' },
      ],
      ['<xml/>', { 'content-type': 'application/xml' }],
      ['grant_type=client_credentials', { 'content-type': 'application/vnd.api+json' }],
      ['{}', { 'content-type': ';;;' }],
    ];
    for (const [payload, headers] of cases) {
      const res = await postRaw(t, '/oauth/token', payload, headers);
      assert.ok(
        res.statusCode >= 400 && res.statusCode < 500,
        `${res.statusCode} for ${payload.slice(0, 40)}`,
      );
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(typeof bodyOf(res)['error'], 'string');
    }
  });

  test('every error status from the token endpoint carries no-store', async () => {
    // assertError checks the header; this covers each error code the endpoint emits.
    assertError(await tokenRequest(t, { ...c }), 400, 'invalid_request');
    assertError(await clientCredentials(t, { ...c, client_secret: 'x' }), 401, 'invalid_client');
    assertError(
      await tokenRequest(t, { grant_type: 'password', ...c }),
      400,
      'unsupported_grant_type',
    );
    assertError(
      await tokenRequest(t, { grant_type: 'refresh_token', refresh_token: 'x', ...c }),
      400,
      'unauthorized_client',
    );
    assertError(await clientCredentials(t, c, { scope: 'nope' }), 400, 'invalid_scope');
    assertError(
      await clientCredentials(t, c, { resource: 'https://elsewhere.example' }),
      400,
      'invalid_target',
    );
  });

  test('other methods on the token endpoint do not succeed', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/oauth/token?grant_type=client_credentials&client_id=${c.client_id}&client_secret=${c.client_secret}`,
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['cache-control'], 'no-store');
  });
});
