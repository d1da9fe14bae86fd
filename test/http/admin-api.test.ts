import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';

describe('admin API /admin/v1', () => {
  let t: TestApp;
  let admin: string;
  let plain: string;

  async function tokenFor(clientId: string, secret: string): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().access_token as string;
  }

  function call(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    token = admin,
  ) {
    return t.app.inject({
      method,
      url: `/admin/v1${url}`,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload && { 'content-type': 'application/json' }),
      },
      ...(payload && { payload: JSON.stringify(payload) }),
    });
  }

  before(async () => {
    t = await createTestApp();
    await t.client({ clientId: 'ops', secret: 'ops-secret-0123456789', scopes: ['tessera:admin'] });
    await t.client({ clientId: 'app', secret: 'app-secret-0123456789', scopes: ['read'] });
    admin = await tokenFor('ops', 'ops-secret-0123456789');
    plain = await tokenFor('app', 'app-secret-0123456789');
  });
  after(() => t.close());

  describe('authorization', () => {
    test('no token: 401 with a Bearer challenge and no error code', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/admin/v1/clients' });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="tessera"');
    });
    test('a garbage token: 401 invalid_token', async () => {
      const res = await call('GET', '/clients', undefined, 'not.a.jwt');
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'invalid_token');
    });
    test('a token without tessera:admin: 403 insufficient_scope naming the scope', async () => {
      const res = await call('GET', '/clients', undefined, plain);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error, 'insufficient_scope');
      assert.match(
        String(res.headers['www-authenticate']),
        /error="insufficient_scope".*scope="tessera:admin"/,
      );
    });
    test('a revoked admin token: 401', async () => {
      const revoked = await tokenFor('ops', 'ops-secret-0123456789');
      const r = await t.app.inject({
        method: 'POST',
        url: '/oauth/revoke',
        payload: { client_id: 'ops', client_secret: 'ops-secret-0123456789', token: revoked },
      });
      assert.equal(r.statusCode, 200);
      assert.equal((await call('GET', '/clients', undefined, revoked)).statusCode, 401);
    });
  });

  test('tenants: create, conflict, update, telemetry, list', async () => {
    const created = await call('POST', '/tenants', {
      id: 'acme',
      name: 'Acme',
      domain: 'Acme.Example.com',
    });
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().domain, 'acme.example.com');
    const dup = await call('POST', '/tenants', { id: 'acme', name: 'Again' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error, 'conflict');
    const updated = await call('PATCH', '/tenants/acme', {
      support_email: 'help@acme.example.com',
    });
    assert.equal(updated.statusCode, 200);
    assert.equal(updated.json().support_email, 'help@acme.example.com');
    assert.equal((await call('PATCH', '/tenants/nope', { name: 'x' })).statusCode, 404);
    const tel = await call('PUT', '/tenants/acme/telemetry/devices', {
      value: '42',
      units: 'count',
    });
    assert.deepEqual(tel.json(), {
      tenant_id: 'acme',
      name: 'devices',
      value: '42',
      units: 'count',
      type: 'metric',
    });
    const list = await call('GET', '/tenants');
    assert.deepEqual(
      list.json().map((x: { id: string }) => x.id),
      ['acme'],
    );
    const bad = await call('POST', '/tenants', { id: 'x', name: 'X', color: 'red' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, 'invalid_request');
  });

  test('users: create, set password, disable, list; unknown tenant refused', async () => {
    const created = await call('POST', '/users', {
      email: 'Ann@Acme.example',
      tenants: ['acme'],
      password: 'long enough pw',
    });
    assert.equal(created.statusCode, 201);
    assert.equal(created.json().email, 'ann@acme.example');
    assert.ok(!('password_hash' in created.json()));
    assert.equal(
      (
        await call('POST', '/users', {
          email: 'b@acme.example',
          tenants: ['nope'],
          password: 'long enough pw',
        })
      ).statusCode,
      400,
    );
    assert.equal(
      (await call('PUT', '/users/ann@acme.example/password', { password: 'short' })).statusCode,
      400,
    );
    assert.equal(
      (await call('PUT', '/users/ann@acme.example/password', { password: 'another long pw' }))
        .statusCode,
      200,
    );
    const disabled = await call('POST', '/users/ann@acme.example/disable');
    assert.equal(disabled.json().disabled, true);
    assert.equal((await call('POST', '/users/nobody@acme.example/disable')).statusCode, 404);
    assert.equal((await call('GET', '/users')).json().length, 1);
  });

  test('clients: create (secret once), show, update, rotate secret, delete', async () => {
    const created = await call('POST', '/clients', {
      name: 'BP',
      client_id: 'bp',
      dialect: 'bright-pattern',
      tenants: ['acme'],
    });
    assert.equal(created.statusCode, 201);
    const secret = created.json().client_secret as string;
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    const shown = await call('GET', '/clients/bp');
    assert.equal(shown.json().client_id, 'bp');
    assert.ok(!('client_secret' in shown.json()));
    const updated = await call('PATCH', '/clients/bp', { access_token_ttl: 600 });
    assert.equal(updated.json().access_token_ttl, 600);
    const rotated = await call('POST', '/clients/bp/rotate-secret', { grace_seconds: 0 });
    assert.notEqual(rotated.json().client_secret, secret);
    const old = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: 'bp', client_secret: secret },
    });
    assert.equal(old.statusCode, 401);
    assert.equal((await call('DELETE', '/clients/bp')).json().deleted, true);
    assert.equal((await call('GET', '/clients/bp')).statusCode, 404);
    assert.equal(
      (await call('POST', '/clients', { name: 'X', client_id: 'x', dialect: 'no-such' }))
        .statusCode,
      400,
    );
  });

  test('clients: an imported secret is never echoed, on create or on rotate', async () => {
    const imported = 'imported-secret-0123456789';
    const created = await call('POST', '/clients', {
      name: 'Imported',
      client_id: 'imported',
      client_secret: imported,
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal('client_secret' in created.json(), false);
    assert.equal(created.body.includes(imported), false);
    // It was imported all the same: it authenticates.
    await tokenFor('imported', imported);
    const next = 'imported-secret-9876543210';
    const rotated = await call('POST', '/clients/imported/rotate-secret', { client_secret: next });
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal('client_secret' in rotated.json(), false);
    assert.equal(rotated.body.includes(next), false);
    await tokenFor('imported', next);
  });

  test('clients: refresh_grace is whole seconds from 0 to 300 (0: off, the default)', async () => {
    const created = await call('POST', '/clients', { name: 'Grace', client_id: 'grace' });
    assert.equal(created.json().refresh_grace, 0);
    const graced = await call('POST', '/clients', {
      name: 'Graced',
      client_id: 'graced',
      refresh_grace: 30,
    });
    assert.equal(graced.statusCode, 201, graced.body);
    assert.equal(graced.json().refresh_grace, 30);
    for (const value of [10, 300, 0]) {
      const res = await call('PATCH', '/clients/grace', { refresh_grace: value });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().refresh_grace, value);
    }
    for (const value of [true, false, -1, 1.5, 301, '30', null]) {
      const res = await call('PATCH', '/clients/grace', { refresh_grace: value });
      assert.equal(res.statusCode, 400, `${JSON.stringify(value)}: ${res.body}`);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /^refresh_grace: /);
    }
    assert.equal((await call('GET', '/clients/grace')).json().refresh_grace, 0);
  });

  test('clients: id_token_alg is one the keystore signs with (default RS256)', async () => {
    const created = await call('POST', '/clients', { name: 'OIDC', client_id: 'oidc' });
    assert.equal(created.json().id_token_alg, 'RS256');
    const ed = await call('POST', '/clients', {
      name: 'OIDC EdDSA',
      client_id: 'oidc-ed',
      id_token_alg: 'EdDSA',
    });
    assert.equal(ed.statusCode, 201, ed.body);
    assert.equal(ed.json().id_token_alg, 'EdDSA');
    for (const value of ['PS256', 'ES256', 'RS256']) {
      const res = await call('PATCH', '/clients/oidc', { id_token_alg: value });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().id_token_alg, value);
    }
    for (const value of ['HS256', 'none', 'rs256', '', 256, null]) {
      const res = await call('PATCH', '/clients/oidc', { id_token_alg: value });
      assert.equal(res.statusCode, 400, `${JSON.stringify(value)}: ${res.body}`);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, /^id_token_alg: /);
    }
    assert.equal((await call('GET', '/clients/oidc')).json().id_token_alg, 'RS256');
  });

  test('clients: logout URIs are absolute https (http on loopback) without fragment; "" clears the back-channel one', async () => {
    const created = await call('POST', '/clients', { name: 'Logout', client_id: 'logout' });
    assert.deepEqual(created.json().post_logout_redirect_uris, []);
    assert.equal(created.json().backchannel_logout_uri, null);
    const set = await call('PATCH', '/clients/logout', {
      post_logout_redirect_uris: ['https://app.example/bye', 'http://localhost:3000/out'],
      backchannel_logout_uri: 'https://app.example/backchannel',
    });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json().post_logout_redirect_uris, [
      'https://app.example/bye',
      'http://localhost:3000/out',
    ]);
    assert.equal(set.json().backchannel_logout_uri, 'https://app.example/backchannel');
    for (const [body, message] of [
      [{ post_logout_redirect_uris: ['http://app.example/bye'] }, /must use https/],
      [{ post_logout_redirect_uris: ['https://app.example/bye#x'] }, /fragment/],
      [{ post_logout_redirect_uris: ['/bye'] }, /not an absolute URL/],
      [{ post_logout_redirect_uris: 'https://app.example/bye' }, /^post_logout_redirect_uris: /],
      [{ backchannel_logout_uri: 'http://app.example/bc' }, /must use https/],
      [{ backchannel_logout_uri: 'x'.repeat(2049) }, /^backchannel_logout_uri: /],
      [{ backchannel_logout_uri: null }, /^backchannel_logout_uri: /],
    ] as const) {
      const res = await call('PATCH', '/clients/logout', body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().error, 'invalid_request');
      assert.match(res.json().error_description, message);
    }
    const cleared = await call('PATCH', '/clients/logout', { backchannel_logout_uri: '' });
    assert.equal(cleared.json().backchannel_logout_uri, null);
    assert.deepEqual(cleared.json().post_logout_redirect_uris, [
      'https://app.example/bye',
      'http://localhost:3000/out',
    ]);
  });

  test('clients: consent is a boolean, default false (first-party)', async () => {
    const created = await call('POST', '/clients', { name: 'Third party', client_id: 'third' });
    assert.equal(created.json().consent, false);
    const asked = await call('POST', '/clients', {
      name: 'Asks',
      client_id: 'asks',
      consent: true,
    });
    assert.equal(asked.statusCode, 201, asked.body);
    assert.equal(asked.json().consent, true);
    const on = await call('PATCH', '/clients/third', { consent: true });
    assert.equal(on.statusCode, 200, on.body);
    assert.equal(on.json().consent, true);
    // Another field changes alone: consent stays.
    assert.equal((await call('PATCH', '/clients/third', { name: 'Renamed' })).json().consent, true);
    for (const value of ['true', 1, null, 'yes']) {
      const res = await call('PATCH', '/clients/third', { consent: value });
      assert.equal(res.statusCode, 400, `${JSON.stringify(value)}: ${res.body}`);
      assert.match(res.json().error_description, /^consent: /);
    }
    assert.equal((await call('PATCH', '/clients/third', { consent: false })).json().consent, false);
  });

  test('keys: list and rotate', async () => {
    const before = (await call('GET', '/keys')).json() as { status: string }[];
    assert.equal(before.length, 1);
    const rotated = await call('POST', '/keys/rotate', { alg: 'ES256' });
    assert.equal(rotated.statusCode, 200);
    assert.equal(rotated.json().status, 'next');
    assert.equal(rotated.json().alg, 'ES256');
    assert.equal((await call('POST', '/keys/rotate', { alg: 'HS256' })).statusCode, 400);
  });

  test('audit: the changes made above are there, filterable', async () => {
    const res = await call('GET', '/audit?type=client.deleted');
    assert.deepEqual(
      res.json().map((e: { client_id: string }) => e.client_id),
      ['bp'],
    );
    assert.equal((await call('GET', '/audit?limit=0')).statusCode, 400);
  });

  test('audit: a change made over the API records where it came from', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/tenants',
      remoteAddress: '198.51.100.7',
      headers: {
        authorization: `Bearer ${admin}`,
        'content-type': 'application/json',
        'x-request-id': 'admin-req-1',
      },
      payload: JSON.stringify({ id: 'globex', name: 'Globex' }),
    });
    assert.equal(res.statusCode, 201, res.body);
    const created = (await call('GET', '/audit?type=tenant.created')).json() as {
      tenant_id: string;
      ip: string | null;
      request_id: string | null;
    }[];
    const event = created.find((e) => e.tenant_id === 'globex');
    assert.deepEqual(
      { ip: event?.ip, request_id: event?.request_id },
      { ip: '198.51.100.7', request_id: 'admin-req-1' },
    );
    assert.equal((await call('GET', '/audit?since=yesterday')).statusCode, 400);
  });
});
