/**
 * Interoperability, end to end: a real `tessera serve` process, clients registered through the
 * real CLI, and real client libraries (oauth4webapi, openid-client, jose) plus `fetch` calls
 * shaped exactly as the partner platforms send them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { type Workspace, createWorkspace, newMasterKey } from '../helpers/cli.js';
import { type RunningServer, getJson, postForm, postJson, startServer } from '../helpers/server.js';

interface ClientView {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly dialect: string;
}

const TENANT = 'acme';
const TENANT_DOMAIN = 'acme.example.com';
/** An imported secret with the characters RFC 6749 §2.3.1 form-encoding changes before Basic. */
const BASIC_SECRET = 'Pa:ss%25+word/=&~!x9';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('interop: real client libraries against a running server', { timeout: 600_000 }, () => {
  let ws: Workspace;
  let server: RunningServer;
  let standard: ClientView;
  let basic: ClientView;
  let brightPattern: ClientView;
  let setu: ClientView;
  let as: oauth.AuthorizationServer;

  before(async () => {
    // A configured master key (serve.test.ts and cli.test.ts cover the generated one).
    ws = createWorkspace({
      env: { TESSERA_MASTER_KEY: newMasterKey() },
      prefix: 'tessera-interop-',
    });
    server = await startServer({ database: ws.database, env: ws.env, cwd: ws.dir });
    await ws.json([
      'tenant',
      'create',
      '--id',
      TENANT,
      '--name',
      'Acme',
      '--domain',
      TENANT_DOMAIN,
    ]);
    standard = await ws.json<ClientView>([
      'client',
      'create',
      '--name',
      'Interop standard',
      '--grant',
      'client_credentials',
      '--grant',
      'refresh_token',
      '--tenant',
      TENANT,
      '--scope',
      'api:read',
      '--scope',
      'api:write',
    ]);
    basic = await ws.json<ClientView>(
      [
        'client',
        'create',
        '--name',
        'Interop basic',
        '--client-id',
        'interop-basic',
        '--secret-stdin',
        '--dialect',
        'standard',
        '--grant',
        'client_credentials',
        '--grant',
        'refresh_token',
        '--tenant',
        TENANT,
        '--scope',
        'api:read',
      ],
      { stdin: `${BASIC_SECRET}\n` },
    );
    brightPattern = await ws.json<ClientView>([
      'client',
      'create',
      '--name',
      'Bright Pattern',
      '--dialect',
      'bright-pattern',
      '--tenant',
      TENANT,
    ]);
    setu = await ws.json<ClientView>([
      'client',
      'create',
      '--name',
      'Setu',
      '--dialect',
      'setu',
      '--tenant',
      TENANT,
    ]);
  });

  after(async () => {
    await server?.stop();
    ws?.remove();
  });

  const secretOf = (c: ClientView): string => {
    assert.equal(typeof c.client_secret, 'string', `client ${c.client_id} has a secret`);
    return c.client_secret as string;
  };

  test('the CLI registered the clients as asked', () => {
    assert.equal(standard.dialect, 'standard');
    assert.match(secretOf(standard), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(basic.client_id, 'interop-basic');
    // Imported, so not echoed (DESIGN §3); the tests below authenticate with BASIC_SECRET.
    assert.equal(basic.client_secret, undefined);
    assert.equal(brightPattern.dialect, 'bright-pattern');
    assert.equal(setu.dialect, 'setu');
  });

  describe('oauth4webapi', () => {
    test('discovery (RFC 8414)', async () => {
      const issuer = new URL(server.issuer);
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
      as = await oauth.processDiscoveryResponse(issuer, response);
      assert.equal(as.issuer, server.issuer);
      assert.equal(as.token_endpoint, `${server.issuer}/oauth/token`);
      assert.equal(typeof as.jwks_uri, 'string');
      assert.equal(typeof as.introspection_endpoint, 'string');
      assert.equal(typeof as.revocation_endpoint, 'string');
      assert.ok(as.grant_types_supported?.includes('client_credentials'));
      assert.ok(as.token_endpoint_auth_methods_supported?.includes('client_secret_basic'));
      assert.ok(as.token_endpoint_auth_methods_supported?.includes('client_secret_post'));
    });

    test('client_credentials with client_secret_post', async () => {
      const c: oauth.Client = { client_id: standard.client_id };
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        c,
        oauth.ClientSecretPost(secretOf(standard)),
        { scope: 'api:read' },
        insecure,
      );
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const tokens = await oauth.processClientCredentialsResponse(as, c, response);
      assert.equal(tokens.token_type, 'bearer'); // oauth4webapi lower-cases it
      assert.equal(typeof tokens.access_token, 'string');
      assert.equal(typeof tokens.expires_in, 'number');
      assert.equal(tokens.scope, 'api:read');
      // Registered with the refresh_token grant, so client_credentials returns one too.
      assert.equal(typeof tokens.refresh_token, 'string');
    });

    test('client_credentials with client_secret_basic (form-encoded id and secret)', async () => {
      const c: oauth.Client = { client_id: basic.client_id };
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        c,
        oauth.ClientSecretBasic(BASIC_SECRET),
        { scope: 'api:read' },
        insecure,
      );
      const tokens = await oauth.processClientCredentialsResponse(as, c, response);
      assert.equal(tokens.scope, 'api:read');
      assert.equal(decodeJwt(tokens.access_token).client_id, basic.client_id);
    });

    test('a wrong secret is invalid_client', async () => {
      const c: oauth.Client = { client_id: basic.client_id };
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        c,
        oauth.ClientSecretBasic(`${BASIC_SECRET}x`),
        {},
        insecure,
      );
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic/);
      assert.equal(((await response.clone().json()) as { error: string }).error, 'invalid_client');
      // oauth4webapi reports a 401 with a challenge as the challenge, before the body.
      await assert.rejects(oauth.processClientCredentialsResponse(as, c, response), (err) => {
        assert.ok(err instanceof oauth.WWWAuthenticateChallengeError);
        assert.equal(err.status, 401);
        assert.equal(err.cause[0]?.scheme, 'basic');
        return true;
      });
    });

    test('refresh, introspection, revocation', async () => {
      const c: oauth.Client = { client_id: standard.client_id };
      const auth = oauth.ClientSecretPost(secretOf(standard));
      const first = await oauth.processClientCredentialsResponse(
        as,
        c,
        await oauth.clientCredentialsGrantRequest(
          as,
          c,
          auth,
          { scope: 'api:read api:write' },
          insecure,
        ),
      );
      assert.ok(first.refresh_token);

      const refreshed = await oauth.processRefreshTokenResponse(
        as,
        c,
        await oauth.refreshTokenGrantRequest(as, c, auth, first.refresh_token, insecure),
      );
      assert.ok(refreshed.refresh_token);
      assert.notEqual(refreshed.refresh_token, first.refresh_token, 'refresh tokens rotate');
      assert.notEqual(refreshed.access_token, first.access_token);
      assert.equal(refreshed.scope, 'api:read api:write');

      const introspect = async (token: string) =>
        oauth.processIntrospectionResponse(
          as,
          c,
          await oauth.introspectionRequest(as, c, auth, token, insecure),
        );
      const active = await introspect(refreshed.access_token);
      assert.equal(active.active, true);
      assert.equal(active.client_id, standard.client_id);
      assert.equal(active.iss, server.issuer);
      assert.equal(active.scope, 'api:read api:write');
      assert.equal(active['tenant_id'], TENANT);
      assert.equal(typeof active.exp, 'number');
      assert.equal((await introspect(refreshed.refresh_token)).active, true);
      // The rotated refresh token is spent.
      assert.equal((await introspect(first.refresh_token)).active, false);

      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, c, auth, refreshed.access_token, insecure),
      );
      assert.equal((await introspect(refreshed.access_token)).active, false);
      // Revoking the access token leaves the grant's refresh token alone.
      assert.equal((await introspect(refreshed.refresh_token)).active, true);

      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, c, auth, refreshed.refresh_token, insecure),
      );
      assert.equal((await introspect(refreshed.refresh_token)).active, false);
      await assert.rejects(
        oauth.processRefreshTokenResponse(
          as,
          c,
          await oauth.refreshTokenGrantRequest(as, c, auth, refreshed.refresh_token, insecure),
        ),
        (err) => {
          assert.ok(err instanceof oauth.ResponseBodyError);
          assert.equal(err.error, 'invalid_grant');
          return true;
        },
      );
    });

    test('revoking a refresh token revokes the access tokens of its grant', async () => {
      const c: oauth.Client = { client_id: standard.client_id };
      const auth = oauth.ClientSecretBasic(secretOf(standard));
      const tokens = await oauth.processClientCredentialsResponse(
        as,
        c,
        await oauth.clientCredentialsGrantRequest(as, c, auth, {}, insecure),
      );
      assert.ok(tokens.refresh_token);
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(as, c, auth, tokens.refresh_token, insecure),
      );
      const result = await oauth.processIntrospectionResponse(
        as,
        c,
        await oauth.introspectionRequest(as, c, auth, tokens.access_token, insecure),
      );
      assert.equal(result.active, false);
    });

    test("introspection does not tell a client about another client's token", async () => {
      const owner: oauth.Client = { client_id: standard.client_id };
      const tokens = await oauth.processClientCredentialsResponse(
        as,
        owner,
        await oauth.clientCredentialsGrantRequest(
          as,
          owner,
          oauth.ClientSecretPost(secretOf(standard)),
          {},
          insecure,
        ),
      );
      const other: oauth.Client = { client_id: basic.client_id };
      const result = await oauth.processIntrospectionResponse(
        as,
        other,
        await oauth.introspectionRequest(
          as,
          other,
          oauth.ClientSecretBasic(BASIC_SECRET),
          tokens.access_token,
          insecure,
        ),
      );
      assert.equal(result.active, false);
    });
  });

  describe('openid-client', () => {
    const discover = (c: ClientView, auth?: client.ClientAuth) =>
      client.discovery(
        new URL(server.issuer),
        c.client_id,
        auth ? undefined : secretOf(c),
        auth,
        // Tessera publishes RFC 8414 metadata, not OpenID Connect discovery.
        { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
      );

    test('discovery, client_credentials, refresh, introspection, revocation', async () => {
      const config = await discover(standard);
      assert.equal(config.serverMetadata().issuer, server.issuer);

      const tokens = await client.clientCredentialsGrant(config, { scope: 'api:write' });
      assert.equal(tokens.token_type, 'bearer');
      assert.equal(tokens.scope, 'api:write');
      assert.equal(typeof tokens.expiresIn(), 'number');
      assert.ok(tokens.refresh_token);

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
      assert.ok(refreshed.refresh_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

      const active = await client.tokenIntrospection(config, refreshed.access_token);
      assert.equal(active.active, true);
      assert.equal(active.client_id, standard.client_id);
      assert.equal(active['tenant_id'], TENANT);

      await client.tokenRevocation(config, refreshed.access_token);
      assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false);

      // Reusing the rotated refresh token fails and revokes the family.
      await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (err) => {
        assert.ok(err instanceof client.ResponseBodyError);
        assert.equal(err.error, 'invalid_grant');
        return true;
      });
      assert.equal(
        (await client.tokenIntrospection(config, refreshed.refresh_token)).active,
        false,
      );
    });

    test('client_secret_basic with a secret that needs form-encoding', async () => {
      const config = await discover(basic, client.ClientSecretBasic(BASIC_SECRET));
      const tokens = await client.clientCredentialsGrant(config);
      assert.equal(tokens.scope, 'api:read');
      await client.tokenRevocation(config, tokens.access_token);
      assert.equal((await client.tokenIntrospection(config, tokens.access_token)).active, false);
    });
  });

  describe('jose', () => {
    test('verifies an access token against the published JWKS (RFC 9068)', async () => {
      const metadata = await getJson<{ jwks_uri: string }>(server.discovery);
      assert.equal(metadata.status, 200);
      const jwksResponse = await getJson<{ keys: { kid: string }[] }>(metadata.body.jwks_uri);
      assert.match(
        jwksResponse.headers.get('content-type') ?? '',
        /^application\/jwk-set\+json(;|$)/,
      );
      assert.ok(jwksResponse.body.keys.length >= 1);

      const issued = await postForm<{ access_token: string; expires_in: number }>(
        `${server.url}/oauth/token`,
        {
          grant_type: 'client_credentials',
          client_id: standard.client_id,
          client_secret: secretOf(standard),
          scope: `${TENANT} api:read`,
        },
      );
      assert.equal(issued.status, 200, issued.text);
      const jwks = createRemoteJWKSet(new URL(metadata.body.jwks_uri));
      const { payload, protectedHeader } = await jwtVerify(issued.body.access_token, jwks, {
        issuer: server.issuer,
        audience: server.issuer, // the default audience is the issuer
        typ: 'at+jwt',
        algorithms: ['RS256'],
      });
      assert.equal(protectedHeader.typ, 'at+jwt');
      assert.ok(jwksResponse.body.keys.some((k) => k.kid === protectedHeader.kid));
      assert.equal(payload['client_id'], standard.client_id);
      assert.equal(payload.sub, standard.client_id);
      assert.equal(payload['tenant_id'], TENANT);
      // The tenant named in scope is carried as tenant_id, not as a scope.
      assert.equal(payload['scope'], 'api:read');
      assert.equal(typeof payload.jti, 'string');
      assert.equal(typeof payload.iat, 'number');
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), issued.body.expires_in);
      assert.ok((payload.exp ?? 0) > Date.now() / 1000);
    });
  });

  describe('dialects over HTTP, as the platforms send them', () => {
    test('Bright Pattern: form POST to /configapi/v2/oauth/token with scope=<tenant domain>', async () => {
      const res = await postForm(`${server.url}/configapi/v2/oauth/token`, {
        grant_type: 'client_credentials',
        client_id: brightPattern.client_id,
        client_secret: secretOf(brightPattern),
        scope: TENANT_DOMAIN,
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(res.body['token_type'], 'Bearer');
      assert.equal(typeof res.body['expires_in'], 'string');
      assert.match(res.body['expires_in'] as string, /^[1-9][0-9]*$/);

      // Then RFC 6750 bearer use.
      const me = await getJson(`${server.url}/oauth/userinfo`, {
        authorization: `Bearer ${res.body['access_token'] as string}`,
      });
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body['tenant_id'], TENANT);
      assert.equal(me.body['client_id'], brightPattern.client_id);
    });

    test('Bright Pattern: some callers send tenant= instead of scope=', async () => {
      const res = await postForm(`${server.url}/configapi/v2/oauth/token`, {
        grant_type: 'client_credentials',
        client_id: brightPattern.client_id,
        client_secret: secretOf(brightPattern),
        tenant: TENANT,
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(decodeJwt(res.body['access_token'] as string)['tenant_id'], TENANT);
    });

    test('Bright Pattern: a tenant the client is not bound to is invalid_scope (RFC JSON)', async () => {
      const res = await postForm(`${server.url}/configapi/v2/oauth/token`, {
        grant_type: 'client_credentials',
        client_id: brightPattern.client_id,
        client_secret: secretOf(brightPattern),
        scope: 'other.example.com',
      });
      assert.equal(res.status, 400);
      assert.equal(res.body['error'], 'invalid_scope');
    });

    test('Setu: form POST to /auth/token, then JSON refresh with refreshToken; reuse fails', async () => {
      const tokenUrl = `${server.url}/auth/token`;
      const issued = await postForm(tokenUrl, {
        grant_type: 'client_credentials',
        client_id: setu.client_id,
        client_secret: secretOf(setu),
      });
      assert.equal(issued.status, 200, issued.text);
      assert.deepEqual(Object.keys(issued.body).sort(), ['accessToken', 'refreshToken']);
      const claims = decodeJwt(issued.body['accessToken'] as string);
      assert.equal(
        (claims.exp ?? 0) - (claims.iat ?? 0),
        900,
        'Setu access tokens live 15 minutes',
      );
      assert.equal(claims['tenant_id'], TENANT);

      const refresh = (refreshToken: string) =>
        postJson(tokenUrl, {
          grant_type: 'refresh_token',
          refreshToken,
          client_id: setu.client_id,
          client_secret: secretOf(setu),
        });
      const first = issued.body['refreshToken'] as string;
      const rotated = await refresh(first);
      assert.equal(rotated.status, 200, rotated.text);
      assert.deepEqual(Object.keys(rotated.body).sort(), ['accessToken', 'refreshToken']);
      assert.notEqual(rotated.body['refreshToken'], first);
      assert.notEqual(rotated.body['accessToken'], issued.body['accessToken']);

      const reuse = await refresh(first);
      assert.equal(reuse.status, 400, reuse.text);
      assert.equal(reuse.body['error'], 'invalid_grant');
      assert.equal(reuse.headers.get('cache-control'), 'no-store');

      // Reuse detection revoked the whole family, the successor included.
      const successor = await refresh(rotated.body['refreshToken'] as string);
      assert.equal(successor.status, 400, successor.text);
      assert.equal(successor.body['error'], 'invalid_grant');
    });
  });
});
