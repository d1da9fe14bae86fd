import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import { formState } from '../helpers/html.js';
import {
  CookieJar,
  authorizeUrl,
  browserGet,
  browserPost,
  codeOf,
  formTokenRequest,
  isLoginPage,
  redirectOf,
  submitLogin,
} from '../helpers/spaces.js';

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

  describe('per-user consents', () => {
    const gina = { email: 'gina@initech.example', password: 'gina-password-12' };
    const THIRD = { client_id: 'calendar', client_secret: 'calendar-secret-0123456789abcdef' };
    const REDIRECT = 'https://rp.example/callback';
    const consents = `/users/${gina.email}/consents`;
    let refreshToken: string;

    /** Gina signs in to the consent client and allows it; the refresh token of that grant. */
    async function consentGiven(): Promise<string> {
      const jar = new CookieJar();
      const query = {
        response_type: 'code',
        client_id: THIRD.client_id,
        redirect_uri: REDIRECT,
        scope: 'openid offline_access',
        state: 'st',
      };
      let page = await browserGet(t, jar, authorizeUrl(query));
      assert.ok(isLoginPage(page), page.body.slice(0, 200));
      page = await submitLogin(t, jar, page, gina.email, gina.password);
      assert.match(page.body, /name="consent" value="allow"/);
      const answer = await browserPost(t, jar, '/oauth/authorize', {
        ...formState(page.body),
        consent: 'allow',
      });
      const tokens = await formTokenRequest(t, {
        grant_type: 'authorization_code',
        code: codeOf(redirectOf(answer)),
        redirect_uri: REDIRECT,
        ...THIRD,
      });
      assert.equal(tokens.statusCode, 200, tokens.body);
      return tokens.json().refresh_token as string;
    }

    const refresh = (token: string) =>
      formTokenRequest(t, { grant_type: 'refresh_token', refresh_token: token, ...THIRD });

    before(async () => {
      await t.tenant('initech');
      await createUser(t.deps, { ...gina, tenants: ['initech'] });
      await t.client({
        clientId: THIRD.client_id,
        secret: THIRD.client_secret,
        grants: ['authorization_code', 'refresh_token'],
        redirectUris: [REDIRECT],
        consent: true,
      });
      refreshToken = await consentGiven();
    });

    test('GET lists the consent just given: client, scopes, when', async () => {
      const res = await call('GET', consents);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual(res.json(), [
        {
          client_id: 'calendar',
          scopes: ['openid', 'offline_access'],
          granted_at: new Date(t.clock.now * 1000).toISOString(),
        },
      ]);
      // The address is matched as the CLI matches it: trimmed, case-insensitively.
      assert.deepEqual(
        (await call('GET', `/users/Gina@Initech.Example/consents`)).json(),
        res.json(),
      );
    });

    test('no token, a garbage token, Basic credentials, a token without tessera:admin: refused, nothing revoked', async () => {
      for (const method of ['GET', 'DELETE'] as const) {
        const url = method === 'GET' ? consents : `${consents}/calendar`;
        const none = await t.app.inject({ method, url: `/admin/v1${url}` });
        assert.equal(none.statusCode, 401, `${method}: ${none.body}`);
        assert.equal(none.headers['www-authenticate'], 'Bearer realm="tessera"');
        const garbage = await call(method, url, undefined, 'not.a.jwt');
        assert.equal(garbage.statusCode, 401);
        assert.equal(garbage.json().error, 'invalid_token');
        const basicAuth = await t.app.inject({
          method,
          url: `/admin/v1${url}`,
          headers: {
            authorization: `Basic ${Buffer.from('ops:ops-secret-0123456789').toString('base64')}`,
          },
        });
        // Credentials of another scheme are a malformed request (RFC 6750 §3.1), with the
        // Bearer challenge, as on every bearer resource.
        assert.equal(basicAuth.statusCode, 400, `${method} with Basic: ${basicAuth.body}`);
        assert.equal(basicAuth.json().error, 'invalid_request');
        assert.match(String(basicAuth.headers['www-authenticate']), /^Bearer realm="tessera"/);
        const forbidden = await call(method, url, undefined, plain);
        assert.equal(forbidden.statusCode, 403);
        assert.equal(forbidden.json().error, 'insufficient_scope');
      }
      assert.equal((await call('GET', consents)).json().length, 1);
      assert.equal((await refresh(refreshToken)).statusCode, 200);
    });

    test('unknown user or client: 404 not_found naming it', async () => {
      for (const [method, url, description] of [
        ['GET', '/users/nobody@initech.example/consents', 'user nobody@initech.example not found'],
        [
          'DELETE',
          '/users/nobody@initech.example/consents/calendar',
          'user nobody@initech.example not found',
        ],
        ['DELETE', `${consents}/nosuch`, `${gina.email} has no consent for client nosuch`],
        // A client Gina has no consent for is the same answer as one that does not exist.
        ['DELETE', `${consents}/ops`, `${gina.email} has no consent for client ops`],
      ] as const) {
        const res = await call(method, url);
        assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
        assert.deepEqual(res.json(), { error: 'not_found', error_description: description });
      }
    });

    test('hostile :email values: a 4xx, never a 500, and nothing revoked', async () => {
      // [the :email segment as sent, status, Tessera's error code]. The router refuses some
      // URLs before any route runs (a segment over its 100-character maxParamLength: 414;
      // percent-encoding that is not UTF-8: 400), with Tessera's body all the same.
      const hostile: [string, number, string][] = [
        [`${'x'.repeat(5000)}@initech.example`, 414, 'invalid_request'],
        [`${'a'.repeat(90)}@initech.example`, 414, 'invalid_request'],
        ['%ZZ', 400, 'invalid_request'],
        ['%C3%28@initech.example', 400, 'invalid_request'],
        ['%ED%A0%80@initech.example', 400, 'invalid_request'],
        // A control character is no address (and PostgreSQL text cannot hold NUL).
        ['%00gina@initech.example', 400, 'invalid_request'],
        ['gina%00@initech.example', 400, 'invalid_request'],
        ['..%2F..%2Fclients', 400, 'invalid_request'],
        ['gina%0D%0ASet-Cookie:%20x=1@initech.example', 400, 'invalid_request'],
        ['%20', 400, 'invalid_request'],
        [encodeURIComponent('"; DROP TABLE users; --@initech.example'), 400, 'invalid_request'],
      ];
      for (const [email, status, error] of hostile) {
        for (const [method, url] of [
          ['GET', `/users/${email}/consents`],
          ['DELETE', `/users/${email}/consents/calendar`],
        ] as const) {
          const res = await call(method, url);
          const what = `${method} ${url.slice(0, 60)}: ${res.body.slice(0, 200)}`;
          assert.equal(res.statusCode, status, what);
          assert.equal(res.json().error, error, what);
          assert.ok(!res.body.includes(email.slice(0, 20)), `the answer echoes no path: ${what}`);
          assert.equal(res.headers['set-cookie'], undefined, what);
          assert.equal(res.headers['cache-control'], 'no-store', what);
          assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
          assert.equal(typeof res.headers['x-request-id'], 'string', what);
        }
      }
      assert.equal((await call('GET', consents)).json().length, 1);
    });

    test('DELETE: 204 without a body; the grant ends (its refresh token is refused), audited', async () => {
      const res = await call('DELETE', `${consents}/calendar`);
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(res.body, '');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual((await call('GET', consents)).json(), []);
      const refused = await refresh(refreshToken);
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(refused.json().error, 'invalid_grant');
      const again = await call('DELETE', `${consents}/calendar`);
      assert.equal(again.statusCode, 404);
      const audit = (await call('GET', '/audit?type=consent.revoked')).json() as {
        client_id: string;
        user_id: string;
      }[];
      const ginaId = (await t.deps.store.getUserByEmail(gina.email))?.id;
      assert.deepEqual(
        audit.map((e) => [e.user_id, e.client_id]),
        [[ginaId, 'calendar']],
      );
    });

    test('after a revocation the next sign-in asks again, and a new grant refreshes', async () => {
      const again = await consentGiven();
      assert.equal((await refresh(again)).statusCode, 200);
      assert.equal((await call('GET', consents)).json().length, 1);
    });
  });
});
