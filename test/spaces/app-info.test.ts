/**
 * `GET /spaces/app-info` (DESIGN §1, §3 "Access tokens and protected resources"): the body
 * Cisco Spaces expects, served only to a user token of the very tenant asked about, with
 * RFC 6750 challenges for everything else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTelemetry, updateTenant } from '../../src/admin/tenants.js';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  CookieJar,
  assertOAuthError,
  authorize,
  bearerGet,
  codeOf,
  formTokenRequest,
  jsonTokenRequest,
  respellSignature,
  trailingBitVariants,
} from '../helpers/spaces.js';

const SANDBOX = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const SPACES_SECRET = '31e08c21136c9102cdee';
const CC = { id: 'cc', secret: 'cc-secret-0123456789abcdef' };
const SPACES_CC = { id: 'spaces-cc', secret: 'spaces-cc-secret-0123456789ab' };
const WEB = {
  id: 'web',
  secret: 'web-secret-0123456789abcdef',
  redirectUri: 'https://web.example/cb',
};
const alice = { email: 'alice@acme.example', password: 'alice-password-1' };

describe('Spaces App Info', () => {
  let t: TestApp;
  const jar = new CookieJar();

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await t.tenant('globex');
    await createUser(t.deps, { ...alice, tenants: ['acme', 'globex'] });
    await t.client({
      clientId: 'dnaspaces',
      secret: SPACES_SECRET,
      dialect: 'cisco-spaces',
      redirectUris: [SANDBOX],
    });
    await t.client({
      clientId: CC.id,
      secret: CC.secret,
      grants: ['client_credentials'],
      tenants: ['acme'],
    });
    await t.client({
      clientId: SPACES_CC.id,
      secret: SPACES_CC.secret,
      dialect: 'cisco-spaces',
      grants: ['client_credentials'],
      tenants: ['acme'],
    });
    await t.client({
      clientId: WEB.id,
      secret: WEB.secret,
      redirectUris: [WEB.redirectUri],
      grants: ['authorization_code'],
      tenants: ['acme'],
    });
  });
  after(() => t.close());

  /** A Spaces access token of alice for `tenant`, as activation yields it. */
  async function spacesToken(tenant: string): Promise<string> {
    const location = await authorize(
      t,
      jar,
      { client_id: 'dnaspaces', redirect_uri: SANDBOX, response_type: 'code' },
      alice,
      tenant,
    );
    const res = await jsonTokenRequest(t, {
      code: codeOf(location),
      grant_type: 'authorization_code',
      client_id: 'dnaspaces',
      client_secret: SPACES_SECRET,
      redirect_uri: '',
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Record<string, string>>();
    assert.equal(body['scope'], tenant);
    return body['access_token'] as string;
  }

  function assertChallenge(
    res: Awaited<ReturnType<typeof bearerGet>>,
    status: number,
    code: string,
  ): void {
    assertOAuthError(res, status, code);
    const header = String(res.headers['www-authenticate']);
    assert.match(header, /^Bearer /);
    assert.ok(header.includes(`error="${code}"`), header);
  }

  test('a tenant with neither support email nor telemetry: supportEmail absent, telemetry []', async () => {
    const token = await spacesToken('globex');
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=globex', token);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.json(), {
      partnerTenantId: 'globex',
      userEmail: alice.email,
      telemetry: [],
    });
  });

  test('support email and telemetry as set by the admin service; values stay strings', async () => {
    await updateTenant(t.deps, 'acme', { supportEmail: 'help@acme.example' });
    await setTelemetry(t.deps, 'acme', {
      type: 'counter',
      name: 'visitors',
      value: '1200',
      units: 'people',
    });
    await setTelemetry(t.deps, 'acme', {
      type: 'gauge',
      name: 'uptime',
      value: '99.95',
      units: '%',
    });
    const token = await spacesToken('acme');
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ telemetry: { name: string }[] }>();
    assert.deepEqual(
      { ...body, telemetry: [...body.telemetry].sort((a, b) => a.name.localeCompare(b.name)) },
      {
        partnerTenantId: 'acme',
        userEmail: alice.email,
        supportEmail: 'help@acme.example',
        telemetry: [
          { type: 'gauge', name: 'uptime', value: '99.95', units: '%' },
          { type: 'counter', name: 'visitors', value: '1200', units: 'people' },
        ],
      },
    );
  });

  test("another tenant's token → 403 insufficient_scope", async () => {
    const token = await spacesToken('acme');
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=globex', token);
    assertChallenge(res, 403, 'insufficient_scope');
  });

  /** A client_credentials token of `client` (its tenant acme). */
  async function clientToken(client: { id: string; secret: string }): Promise<string> {
    const res = await formTokenRequest(t, {
      grant_type: 'client_credentials',
      client_id: client.id,
      client_secret: client.secret,
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<Record<string, string>>()['access_token'] as string;
  }

  test('a user token of the tenant, issued to an ordinary web client → 401 invalid_token', async () => {
    const location = await authorize(
      t,
      jar,
      { client_id: WEB.id, redirect_uri: WEB.redirectUri, response_type: 'code' },
      alice,
      'acme',
    );
    const res = await formTokenRequest(t, {
      code: codeOf(location),
      grant_type: 'authorization_code',
      client_id: WEB.id,
      client_secret: WEB.secret,
      redirect_uri: WEB.redirectUri,
    });
    assert.equal(res.statusCode, 200, res.body);
    const token = res.json<Record<string, string>>()['access_token'] as string;
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(),
    ) as Record<string, unknown>;
    // The very claims App Info reads: only the client it was issued to differs.
    assert.equal(payload['tenant_id'], 'acme');
    assert.equal(payload['email'], alice.email);
    assertChallenge(
      await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token),
      401,
      'invalid_token',
    );
  });

  test('a client-credentials token of the tenant → 401 invalid_token', async () => {
    const token = await clientToken(CC);
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token);
    assertChallenge(res, 401, 'invalid_token');
  });

  test('a client-credentials token of a cisco-spaces client → 401 invalid_token', async () => {
    const token = await clientToken(SPACES_CC);
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token);
    assertChallenge(res, 401, 'invalid_token');
  });

  test('another spelling of a valid token (signature trailing bits set) → 401 invalid_token', async () => {
    const token = await spacesToken('acme');
    const variants = trailingBitVariants(token.split('.')[2] ?? '');
    assert.ok(variants.length > 0, 'the signature has unused trailing bits');
    for (const signature of variants) {
      const res = await bearerGet(
        t,
        '/spaces/app-info?partnerTenantId=acme',
        respellSignature(token, () => signature),
      );
      assertChallenge(res, 401, 'invalid_token');
    }
    const padded = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', `${token}=`);
    assertChallenge(padded, 401, 'invalid_token');
    assert.equal(
      (await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token)).statusCode,
      200,
    );
  });

  test('no token → 401 invalid_token with a bare Bearer challenge', async () => {
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', undefined);
    assertOAuthError(res, 401, 'invalid_token');
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="tessera"');
  });

  test('a forged token → 401 invalid_token', async () => {
    const token = await spacesToken('acme');
    const [h, p] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, tenant_id: 'globex' })).toString('base64url')}.${token.split('.')[2] ?? ''}`;
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=globex', forged);
    assertChallenge(res, 401, 'invalid_token');
  });

  test('partnerTenantId missing or repeated → 400 invalid_request', async () => {
    const token = await spacesToken('acme');
    assertOAuthError(await bearerGet(t, '/spaces/app-info', token), 400, 'invalid_request');
    assertOAuthError(
      await bearerGet(t, '/spaces/app-info?partnerTenantId=', token),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await bearerGet(t, '/spaces/app-info?partnerTenantId=acme&partnerTenantId=acme', token),
      400,
      'invalid_request',
    );
  });

  test('a revoked token → 401 invalid_token', async () => {
    const token = await spacesToken('acme');
    assert.equal(
      (await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token)).statusCode,
      200,
    );
    const revoked = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: new URLSearchParams({
        token,
        client_id: 'dnaspaces',
        client_secret: SPACES_SECRET,
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(revoked.statusCode, 200);
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token);
    assertChallenge(res, 401, 'invalid_token');
  });

  test('an expired token → 401 invalid_token', async () => {
    const token = await spacesToken('acme');
    t.clock.advance(86400 + 120);
    const res = await bearerGet(t, '/spaces/app-info?partnerTenantId=acme', token);
    assertChallenge(res, 401, 'invalid_token');
  });
});
