/**
 * Wire dialects (DESIGN §3 "Dialects"): the exact success field set of each built-in dialect,
 * request aliases, a custom dialect declared in config, and RFC JSON errors in all of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  type Creds,
  ISSUER,
  assertError,
  claims,
  clientCredentials,
  ok,
  tokenRequest,
  verifyAccessToken,
} from './helpers.js';

describe('dialects', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp({
      flags: {
        dialects: {
          acme: {
            fields: { access_token: 'token', expires_in: 'ttl', scope: false },
            expiresIn: 'string',
          },
          zeta: {
            fields: { refresh_token: 'rt', token_type: false },
            requestAliases: { rt: 'refresh_token' },
            scopeValue: 'tenant',
            accessTokenTtl: 60,
            defaultGrants: ['client_credentials', 'refresh_token'],
          },
        },
      },
    });
    await t.tenant('acme', 'acme.example.com');
    await t.tenant('globex', 'globex.example.com');
  });
  after(() => t.close());

  describe('standard', () => {
    test('exactly access_token, token_type Bearer, expires_in (number), scope', async () => {
      const c = await t.client({ scopes: ['read'] });
      const body = ok(await clientCredentials(t, c));
      assert.deepEqual(body, {
        access_token: body['access_token'],
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'read',
      });
      assert.equal(typeof body['access_token'], 'string');
    });

    test('plus refresh_token only for a client with the refresh_token grant', async () => {
      const c = await t.client({
        scopes: ['read'],
        grants: ['client_credentials', 'refresh_token'],
      });
      const body = ok(await clientCredentials(t, c));
      assert.deepEqual(body, {
        access_token: body['access_token'],
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'read',
        refresh_token: body['refresh_token'],
      });
      assert.equal(typeof body['refresh_token'], 'string');
      const again = ok(
        await tokenRequest(t, {
          grant_type: 'refresh_token',
          refresh_token: body['refresh_token'] as string,
          ...c,
        }),
      );
      assert.deepEqual(Object.keys(again).sort(), [
        'access_token',
        'expires_in',
        'refresh_token',
        'scope',
        'token_type',
      ]);
      assert.equal(again['expires_in'], 3600);
    });

    test('a standard client has no request aliases: refreshToken is not refresh_token', async () => {
      const c = await t.client({ grants: ['client_credentials', 'refresh_token'] });
      const rt = ok(await clientCredentials(t, c))['refresh_token'] as string;
      assertError(
        await tokenRequest(
          t,
          { grant_type: 'refresh_token', refreshToken: rt, ...c },
          { json: true },
        ),
        400,
        'invalid_request',
      );
    });
  });

  describe('bright-pattern', () => {
    let bp: Creds;
    before(async () => {
      bp = await t.client({ dialect: 'bright-pattern', tenants: ['acme', 'globex'] });
    });

    test('exactly access_token, token_type, expires_in as a string', async () => {
      const body = ok(
        await clientCredentials(
          t,
          bp,
          { scope: 'acme.example.com' },
          { path: '/configapi/v2/oauth/token' },
        ),
      );
      assert.deepEqual(body, {
        access_token: body['access_token'],
        token_type: 'Bearer',
        expires_in: '3600',
      });
      const { payload } = await verifyAccessToken(t, body['access_token'] as string, {
        audience: ISSUER,
      });
      assert.equal(payload['tenant_id'], 'acme');
      assert.equal(payload.sub, bp.client_id);
    });

    test('the tenant may be sent as tenant= instead of scope=', async () => {
      const body = ok(
        await clientCredentials(t, bp, { tenant: 'globex' }, { path: '/configapi/v2/oauth/token' }),
      );
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(claims(body['access_token'] as string)['tenant_id'], 'globex');
    });

    test('expires_in follows the client lifetime, still a string ("3599")', async () => {
      const c = await t.client({
        dialect: 'bright-pattern',
        tenants: ['acme'],
        accessTokenTtl: 3599,
      });
      const body = ok(await clientCredentials(t, c));
      assert.equal(body['expires_in'], '3599');
      const p = claims(body['access_token'] as string);
      assert.equal((p.exp ?? 0) - (p.iat ?? 0), 3599);
    });

    test('no refresh token even when the client holds the refresh_token grant', async () => {
      const c = await t.client({
        dialect: 'bright-pattern',
        tenants: ['acme'],
        grants: ['client_credentials', 'refresh_token'],
      });
      const body = ok(await clientCredentials(t, c));
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal('grant_id' in claims(body['access_token'] as string), false);
    });

    test('errors are RFC JSON', async () => {
      assertError(
        await clientCredentials(t, bp, { scope: 'initech' }, { path: '/configapi/v2/oauth/token' }),
        400,
        'invalid_scope',
      );
      assertError(
        await clientCredentials(t, bp, {}, { path: '/configapi/v2/oauth/token' }),
        400,
        'invalid_scope',
      );
      assertError(
        await clientCredentials(
          t,
          { ...bp, client_secret: 'nope' },
          {},
          { path: '/configapi/v2/oauth/token' },
        ),
        401,
        'invalid_client',
      );
    });
  });

  describe('setu', () => {
    let setu: Creds;
    before(async () => {
      setu = await t.client({ dialect: 'setu', tenants: ['acme'] });
    });

    async function issue(): Promise<{ accessToken: string; refreshToken: string }> {
      const body = ok(await clientCredentials(t, setu, {}, { path: '/auth/token' }));
      assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'refreshToken']);
      return body as { accessToken: string; refreshToken: string };
    }

    test('exactly accessToken and refreshToken; the access token lives 900 s', async () => {
      const body = await issue();
      assert.equal(typeof body.accessToken, 'string');
      assert.equal(typeof body.refreshToken, 'string');
      const { payload } = await verifyAccessToken(t, body.accessToken, { audience: ISSUER });
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 900);
      assert.equal(payload['tenant_id'], 'acme');
    });

    test('the JSON body works too', async () => {
      const body = ok(await clientCredentials(t, setu, {}, { path: '/auth/token', json: true }));
      assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'refreshToken']);
    });

    test('a refresh request may name its token refreshToken (JSON); the answer is the same pair', async () => {
      const first = await issue();
      const res = await tokenRequest(
        t,
        { grant_type: 'refresh_token', refreshToken: first.refreshToken, ...setu },
        { json: true, path: '/auth/token' },
      );
      const second = ok(res);
      assert.deepEqual(Object.keys(second).sort(), ['accessToken', 'refreshToken']);
      assert.notEqual(second['refreshToken'], first.refreshToken);
      const p = claims(second['accessToken'] as string);
      assert.equal((p.exp ?? 0) - (p.iat ?? 0), 900);
      // Rotated: the first refresh token is spent.
      assertError(
        await tokenRequest(
          t,
          { grant_type: 'refresh_token', refreshToken: first.refreshToken, ...setu },
          { json: true },
        ),
        400,
        'invalid_grant',
      );
    });

    test('refresh_token (the RFC name) works as well, form or JSON', async () => {
      const first = await issue();
      const second = ok(
        await tokenRequest(t, {
          grant_type: 'refresh_token',
          refresh_token: first.refreshToken,
          ...setu,
        }),
      );
      assert.deepEqual(Object.keys(second).sort(), ['accessToken', 'refreshToken']);
      const third = ok(
        await tokenRequest(t, {
          grant_type: 'refresh_token',
          refreshToken: second['refreshToken'] as string,
          ...setu,
        }),
      );
      assert.deepEqual(Object.keys(third).sort(), ['accessToken', 'refreshToken']);
    });

    test('sending both refreshToken and refresh_token → invalid_request', async () => {
      const { refreshToken } = await issue();
      assertError(
        await tokenRequest(
          t,
          { grant_type: 'refresh_token', refreshToken, refresh_token: refreshToken, ...setu },
          { json: true },
        ),
        400,
        'invalid_request',
      );
      // Even with different values; and the token was not consumed.
      assertError(
        await tokenRequest(t, {
          grant_type: 'refresh_token',
          refreshToken,
          refresh_token: 'other',
          ...setu,
        }),
        400,
        'invalid_request',
      );
      ok(
        await tokenRequest(
          t,
          { grant_type: 'refresh_token', refreshToken, ...setu },
          { json: true },
        ),
      );
    });

    test('errors are RFC JSON, not camelCase', async () => {
      assertError(
        await tokenRequest(
          t,
          { grant_type: 'refresh_token', refreshToken: 'bogus', ...setu },
          { json: true },
        ),
        400,
        'invalid_grant',
      );
      assertError(
        await tokenRequest(t, { grant_type: 'refresh_token', ...setu }),
        400,
        'invalid_request',
      );
      assertError(
        await clientCredentials(t, { ...setu, client_secret: 'bad' }, {}, { path: '/auth/token' }),
        401,
        'invalid_client',
      );
      assertError(
        await clientCredentials(t, setu, { scope: 'nope' }, { path: '/auth/token' }),
        400,
        'invalid_scope',
      );
    });
  });

  describe('cisco-spaces', () => {
    test('a cisco-spaces client may not use client_credentials → unauthorized_client', async () => {
      const cs = await t.client({
        clientId: 'dnaspaces',
        secret: '31e08c21136c9102cdee',
        dialect: 'cisco-spaces',
        tenants: ['acme'],
        redirectUris: ['https://partners.dnaspaces.io/partner/OAuthValidation'],
      });
      assertError(await clientCredentials(t, cs), 400, 'unauthorized_client');
      assertError(await clientCredentials(t, cs, {}, { json: true }), 400, 'unauthorized_client');
      assertError(
        await clientCredentials(
          t,
          { ...cs, client_secret: 'wrong-secret-000' },
          {},
          { json: true },
        ),
        401,
        'invalid_client',
      );
    });
  });

  describe('custom dialects from config', () => {
    test('acme: access_token renamed token, expires_in renamed ttl (a string), no scope', async () => {
      const c = await t.client({ dialect: 'acme', scopes: ['read'] });
      const body = ok(await clientCredentials(t, c));
      assert.deepEqual(body, { token: body['token'], token_type: 'Bearer', ttl: '3600' });
      const { payload } = await verifyAccessToken(t, body['token'] as string, { audience: ISSUER });
      assert.equal(payload['scope'], 'read');
    });

    test('acme: unnamed fields keep their RFC names (refresh_token)', async () => {
      const c = await t.client({
        dialect: 'acme',
        grants: ['client_credentials', 'refresh_token'],
      });
      const body = ok(await clientCredentials(t, c));
      assert.deepEqual(Object.keys(body).sort(), ['refresh_token', 'token', 'token_type', 'ttl']);
      const next = ok(
        await tokenRequest(t, {
          grant_type: 'refresh_token',
          refresh_token: body['refresh_token'] as string,
          ...c,
        }),
      );
      assert.deepEqual(Object.keys(next).sort(), ['refresh_token', 'token', 'token_type', 'ttl']);
    });

    test('zeta: default grants, its lifetime, scope carrying the tenant, request alias rt', async () => {
      const c = await t.client({ dialect: 'zeta', tenants: ['globex'], scopes: ['read'] });
      const body = ok(await clientCredentials(t, c));
      assert.deepEqual(body, {
        access_token: body['access_token'],
        expires_in: 60,
        scope: 'globex',
        rt: body['rt'],
      });
      const p = claims(body['access_token'] as string);
      assert.equal(p['scope'], 'read');
      assert.equal(p['tenant_id'], 'globex');
      const next = ok(
        await tokenRequest(t, { grant_type: 'refresh_token', rt: body['rt'] as string, ...c }),
      );
      assert.deepEqual(Object.keys(next).sort(), ['access_token', 'expires_in', 'rt', 'scope']);
      assertError(
        await tokenRequest(t, {
          grant_type: 'refresh_token',
          rt: next['rt'] as string,
          refresh_token: 'x',
          ...c,
        }),
        400,
        'invalid_request',
      );
    });

    test('errors are RFC JSON in custom dialects too', async () => {
      const c = await t.client({ dialect: 'acme' });
      assertError(await clientCredentials(t, c, { scope: 'nope' }), 400, 'invalid_scope');
      assertError(
        await tokenRequest(t, { grant_type: 'password', ...c }),
        400,
        'unsupported_grant_type',
      );
    });

    test('a custom dialect may not redefine a built-in one', async () => {
      await assert.rejects(
        createTestApp({ flags: { dialects: { setu: { expiresIn: 'string' } } } }),
        /built in/,
      );
    });

    test('invalid dialect config is refused by the schema', async () => {
      await assert.rejects(
        createTestApp({ flags: { dialects: { bad: { fields: { access_token: 'has-hyphen' } } } } }),
        /dialects/,
      );
      await assert.rejects(
        createTestApp({ flags: { dialects: { bad: { unknownKey: true } } } }),
        /dialects/,
      );
    });
  });
});
