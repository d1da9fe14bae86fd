/**
 * `createBearerVerifier` against Tessera's own tokens: a real Tessera on a loopback port, the
 * verifier fetching its JWK Set over HTTP, as a partner's resource server would. Every
 * refusal is checked exactly (code, status, `WWW-Authenticate`).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import {
  type BearerVerifierOptions,
  BearerError,
  KeySetUnavailableError,
  bearerChallenge,
  createBearerVerifier,
} from '../../src/verify/index.js';
import { UUID, claims, compact } from '../http/helpers.js';
import {
  closeServer,
  listenLoopback,
  respellSignature,
  tamperPayload,
  trailingBitVariants,
} from '../helpers/spaces.js';
import { getJson } from '../helpers/server.js';
import { type Issuer, SCOPES, refused, sleep, startIssuer } from './helpers.js';

describe('createBearerVerifier against a running Tessera', () => {
  let issuer: Issuer;
  let token: string;
  const verifier = (extra: Partial<BearerVerifierOptions> = {}) =>
    createBearerVerifier({
      issuer: issuer.url,
      audience: issuer.url,
      clock: issuer.t.clock.read,
      ...extra,
    });

  before(async () => {
    issuer = await startIssuer();
    token = await issuer.token();
  });
  after(() => issuer.close());

  test('a valid token → its RFC 9068 claims, from a header or bare', async () => {
    const v = verifier();
    const got = await v.verify(`Bearer ${token}`);
    assert.deepEqual(
      {
        iss: got.iss,
        sub: got.sub,
        aud: got.aud,
        client_id: got.client_id,
        scope: got.scope,
        iat: got.iat,
        exp: got.exp,
      },
      {
        iss: issuer.url,
        sub: issuer.client.client_id,
        aud: issuer.url,
        client_id: issuer.client.client_id,
        scope: SCOPES.join(' '),
        iat: issuer.t.clock.now,
        exp: issuer.t.clock.now + issuer.t.deps.config.accessTokenTtl,
      },
    );
    assert.match(got.jti, UUID);
    assert.deepEqual(got, claims(token));
    // The scheme is case-insensitive (RFC 9110 §11.1); a bare token is accepted too.
    assert.deepEqual(await v.verify(`bearer ${token}`), got);
    assert.deepEqual(await v.verify(token), got);
  });

  test('the default JWK Set URL is the jwks_uri of the RFC 8414 metadata', async () => {
    const meta = await getJson(`${issuer.url}/.well-known/oauth-authorization-server`);
    assert.equal(verifier().jwksUri, meta.body['jwks_uri']);
    assert.equal(verifier({ issuer: `${issuer.url}/` }).jwksUri, meta.body['jwks_uri']);
  });

  test('a token for another audience → invalid_token; a per-client audience is accepted', async () => {
    await refused(
      verifier({ audience: 'https://api.partner.example' }).verify(token),
      'invalid_token',
      {
        challenge:
          'Bearer realm="https://api.partner.example", error="invalid_token", error_description="the token is not meant for this audience"',
      },
    );
    const api = await issuer.t.client({ audience: 'https://api.partner.example' });
    const res = await issuer.t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: new URLSearchParams({ grant_type: 'client_credentials', ...api }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const apiToken = res.json<{ access_token: string }>().access_token;
    const apiVerifier = verifier({
      audience: ['https://other.example', 'https://api.partner.example'],
    });
    assert.equal((await apiVerifier.verify(apiToken)).aud, 'https://api.partner.example');
    await refused(verifier().verify(apiToken), 'invalid_token', {
      description: 'the token is not meant for this audience',
    });
  });

  test('a token from another issuer → invalid_token', async () => {
    const other = verifier({
      issuer: 'http://127.0.0.1:9/other',
      jwksUri: `${issuer.url}/.well-known/jwks.json`,
      realm: 'orders',
    });
    await refused(other.verify(token), 'invalid_token', {
      challenge:
        'Bearer realm="orders", error="invalid_token", error_description="the token was not issued by the expected issuer"',
    });
  });

  test('exp with the bounded skew: accepted 29 s after, refused 30 s after; no skew when asked', async () => {
    const exp = claims(token).exp as number;
    const at = (now: number, skew?: number) =>
      verifier({ clock: () => now, ...(skew !== undefined && { clockToleranceSeconds: skew }) });
    assert.equal((await at(exp + 29).verify(token)).exp, exp);
    await refused(at(exp + 30).verify(token), 'invalid_token', {
      description: 'the token has expired',
    });
    assert.equal((await at(exp - 1, 0).verify(token)).exp, exp);
    await refused(at(exp, 0).verify(token), 'invalid_token', {
      description: 'the token has expired',
    });
  });

  test('nbf in the future (beyond the skew) → invalid_token', async () => {
    const now = issuer.t.clock.now;
    const early = await issuer.craft({}, { nbf: now + 31 });
    await refused(verifier().verify(early), 'invalid_token', {
      description: 'the token is not valid yet',
    });
    assert.equal(
      (await verifier().verify(await issuer.craft({}, { nbf: now + 30 }))).nbf,
      now + 30,
    );
  });

  test('alg none → invalid_token, with or without a signature', async () => {
    const { kid } = decodeProtectedHeader(token);
    for (const forged of [
      compact({ alg: 'none', typ: 'at+jwt', kid }, claims(token)),
      compact({ alg: 'none', typ: 'at+jwt', kid }, claims(token), 'AAAA'),
      compact({ alg: 'none' }, claims(token)),
    ]) {
      await refused(verifier().verify(forged), 'invalid_token', {
        description: 'the token signing algorithm is not accepted',
      });
    }
  });

  test('HS256 with the public key as the secret → invalid_token', async () => {
    const { kid } = decodeProtectedHeader(token);
    const { publicKey } = await issuer.t.deps.keystore.signingKey();
    const input = compact({ alg: 'HS256', typ: 'at+jwt', kid }, claims(token)).slice(0, -1);
    for (const secret of [
      publicKey.export({ format: 'pem', type: 'spki' }),
      publicKey.export({ format: 'der', type: 'spki' }),
      JSON.stringify(publicKey.export({ format: 'jwk' })),
    ]) {
      const forged = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      await refused(verifier().verify(forged), 'invalid_token', {
        description: 'the token signing algorithm is not accepted',
      });
    }
  });

  test('algorithms are pinned: an RS256 token is refused by an ES256-only verifier', async () => {
    await refused(verifier({ algorithms: ['ES256'] }).verify(token), 'invalid_token', {
      description: 'the token signing algorithm is not accepted',
    });
  });

  test('a tampered payload → invalid_token', async () => {
    await refused(verifier().verify(tamperPayload(token, { scope: 'admin' })), 'invalid_token', {
      description: 'the token signature is invalid',
    });
    await refused(
      verifier().verify(tamperPayload(token, { exp: 4_000_000_000 })),
      'invalid_token',
      {
        description: 'the token signature is invalid',
      },
    );
  });

  test('typ other than at+jwt, an unpublished kid, a missing claim → invalid_token', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
      [{ typ: 'JWT' }, {}, 'the token is not an access token (typ must be at+jwt)'],
      [{ typ: undefined }, {}, 'the token is not an access token (typ must be at+jwt)'],
      [{ kid: 'not-a-key' }, {}, 'the token signing key is not published by the issuer'],
      [{}, { client_id: undefined }, 'the token has no client_id claim'],
      [{}, { jti: undefined }, 'the token has no jti claim'],
      [{}, { exp: undefined }, 'the token has no exp claim'],
      [{}, { scope: ['orders:read'] }, 'the token claims are invalid'],
    ];
    for (const [header, payload, description] of cases) {
      const crafted = await issuer.craft(header, payload);
      await refused(verifier().verify(crafted), 'invalid_token', { description });
    }
  });

  test('garbage and oversized tokens → invalid_token', async () => {
    for (const bad of ['a.b.c', 'not.a.jwt.at.all', `${token}x`.replace(/\.[^.]+$/, '.%%%')]) {
      await refused(verifier().verify(bad), 'invalid_token');
    }
    await refused(verifier().verify(`${'a'.repeat(8192)}.b.c`), 'invalid_token', {
      description: 'the token is too large',
    });
  });

  test('another spelling of a valid token (trailing bits, padding) → invalid_token', async () => {
    const signature = token.split('.')[2] ?? '';
    const respelled = [
      ...trailingBitVariants(signature).map((s) => respellSignature(token, () => s)),
      `${token}=`,
    ];
    assert.ok(respelled.length > 1, 'the signature has unused trailing bits');
    for (const bad of respelled) {
      await refused(verifier().verify(bad), 'invalid_token', {
        description: 'the token is malformed',
      });
    }
  });

  test('a refusal never echoes the token: a hostile kid stays out of the challenge', async () => {
    const hostile = await issuer.craft({ kid: 'x", error="none\r\nSet-Cookie: a=b' }, {});
    const err = await refused(verifier().verify(hostile), 'invalid_token');
    assert.ok(!err.wwwAuthenticate.includes('Set-Cookie'), err.wwwAuthenticate);
    assert.ok(!err.description.includes('Set-Cookie'), err.description);
  });

  test('scopes: all required ones must be held, else 403 insufficient_scope naming them', async () => {
    const readOnly = await issuer.token('orders:read');
    assert.equal(
      (await verifier({ requiredScopes: ['orders:read'] }).verify(readOnly)).scope,
      'orders:read',
    );
    await refused(
      verifier({ requiredScopes: ['orders:read'] }).verify(readOnly, { scopes: ['orders:write'] }),
      'insufficient_scope',
      {
        challenge: `Bearer realm="${issuer.url}", error="insufficient_scope", error_description="the token lacks scope orders:write", scope="orders:read orders:write"`,
      },
    );
    await refused(
      verifier({ requiredScopes: ['orders:write'] }).verify(readOnly),
      'insufficient_scope',
      {
        description: 'the token lacks scope orders:write',
      },
    );
    // A scope name is matched whole, never as a substring of the claim.
    await refused(verifier({ requiredScopes: ['orders'] }).verify(token), 'insufficient_scope');
    const noScope = await issuer.craft({}, { scope: undefined });
    assert.equal((await verifier().verify(noScope)).scope, undefined);
    await refused(verifier().verify(noScope, { scopes: ['orders:read'] }), 'insufficient_scope', {
      description: 'the token lacks scope orders:read',
    });
  });

  test('no credentials → 401 with a bare challenge (RFC 6750 §3.1)', async () => {
    const err = await refused(verifier().verify(undefined), 'invalid_token', {
      challenge: `Bearer realm="${issuer.url}"`,
    });
    assert.equal(err.credentialsMissing, true);
    assert.equal(verifier().challenge, `Bearer realm="${issuer.url}"`);
  });

  test('a malformed Authorization header → 400 invalid_request', async () => {
    for (const header of [
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      '',
      `Bearer ${token} extra`,
      `Bearer ${token}, Basic dXNlcjpwYXNz`,
      `Token ${token}`,
      `Bearer\t${token}`,
    ]) {
      await refused(verifier().verify(header), 'invalid_request', {
        challenge: `Bearer realm="${issuer.url}", error="invalid_request", error_description="malformed Authorization header (expected Bearer <token>)"`,
      });
    }
  });

  test('a request: repeated header, query or body token → invalid_request; the header alone works', async () => {
    const v = verifier();
    const authorization = `Bearer ${token}`;
    assert.equal(
      (await v.verifyRequest({ headers: { authorization }, url: '/orders?page=2' })).jti,
      claims(token).jti,
    );
    await refused(
      v.verifyRequest({
        headers: { authorization },
        rawHeaders: ['Authorization', authorization, 'authorization', 'Basic dXNlcjpwYXNz'],
      }),
      'invalid_request',
      { description: 'more than one Authorization header' },
    );
    await refused(
      v.verifyRequest({ headers: { authorization }, url: `/orders?access_token=${token}` }),
      'invalid_request',
      { description: 'the access token was sent by more than one method' },
    );
    await refused(
      v.verifyRequest({ headers: {}, url: `/orders?access_token=${token}` }),
      'invalid_request',
      { description: 'the access token is accepted only in the Authorization header' },
    );
    await refused(
      v.verifyRequest({ headers: { authorization }, body: { access_token: token } }),
      'invalid_request',
      { description: 'the access token was sent by more than one method' },
    );
    const missing = await refused(
      v.verifyRequest({ headers: {}, url: '/orders' }),
      'invalid_token',
    );
    assert.equal(missing.credentialsMissing, true);
  });
});

describe('the WWW-Authenticate value', () => {
  test('realm is a quoted-string; description and scope keep to RFC 6750 characters', () => {
    assert.equal(
      bearerChallenge({
        realm: 'a "quoted" \\ realm\r\nX: y',
        error: 'insufficient_scope',
        description: 'say "hi"\\ \r\n\u00e9nough',
        scope: ['ok', 'bad"scope', 'also\u00e9bad', 'fine'],
      }),
      'Bearer realm="a \\"quoted\\" \\\\ realmX: y", error="insufficient_scope", error_description="say hi nough", scope="ok fine"',
    );
    assert.equal(bearerChallenge({ realm: 'api' }), 'Bearer realm="api"');
  });

  test('the JSON body keeps to the same characters as the header', () => {
    const err = new BearerError('invalid_token', 'bad "quote"\n', { realm: 'api' });
    assert.deepEqual(err.body, { error: 'invalid_token', error_description: 'bad quote' });
  });
});

describe('options are checked when the verifier is made', () => {
  const base = { issuer: 'https://auth.example.com', audience: 'https://api.example.com' };

  test('bounds and types', () => {
    assert.throws(() => createBearerVerifier({ ...base, clockToleranceSeconds: 301 }), RangeError);
    assert.throws(() => createBearerVerifier({ ...base, clockToleranceSeconds: -1 }), RangeError);
    assert.throws(
      () => createBearerVerifier({ ...base, jwksCacheMaxAgeSeconds: 86_401 }),
      RangeError,
    );
    assert.throws(() => createBearerVerifier({ ...base, jwksCacheMaxAgeSeconds: 0 }), RangeError);
    assert.throws(
      () => createBearerVerifier({ ...base, jwksTimeoutSeconds: Number.NaN }),
      RangeError,
    );
    assert.throws(() => createBearerVerifier({ ...base, audience: [] }), TypeError);
    assert.throws(() => createBearerVerifier({ ...base, issuer: '' }), TypeError);
    assert.throws(
      () => createBearerVerifier({ ...base, algorithms: ['HS256' as 'RS256'] }),
      /algorithms must be among RS256, PS256, ES256, EdDSA/,
    );
    assert.throws(() => createBearerVerifier({ ...base, algorithms: [] }), TypeError);
    assert.throws(() => createBearerVerifier({ ...base, requiredScopes: ['a b'] }), TypeError);
    assert.throws(() => createBearerVerifier({ ...base, requiredScopes: ['x"y'] }), TypeError);
  });

  test('keys only over https, or http on a loopback host', () => {
    assert.throws(
      () => createBearerVerifier({ ...base, issuer: 'http://auth.example.com' }),
      TypeError,
    );
    assert.throws(
      () => createBearerVerifier({ ...base, jwksUri: 'http://auth.example.com/jwks' }),
      /jwksUri must be https/,
    );
    assert.equal(
      createBearerVerifier({ ...base, jwksUri: 'http://127.0.0.1:8080/jwks' }).jwksUri,
      'http://127.0.0.1:8080/jwks',
    );
    const v = createBearerVerifier(base);
    assert.equal(v.jwksUri, 'https://auth.example.com/.well-known/jwks.json');
    assert.equal(v.realm, 'https://api.example.com');
    assert.deepEqual(v.audience, ['https://api.example.com']);
  });
});

describe('when the key set cannot be fetched', () => {
  let issuer: Issuer;
  let token: string;
  before(async () => {
    issuer = await startIssuer();
    token = await issuer.token();
  });
  after(() => issuer.close());

  async function unavailable(jwksUri: string): Promise<KeySetUnavailableError> {
    const v = createBearerVerifier({
      issuer: issuer.url,
      audience: issuer.url,
      jwksUri,
      jwksTimeoutSeconds: 1,
      clock: issuer.t.clock.read,
    });
    let caught: unknown;
    try {
      await v.verify(token);
    } catch (err) {
      caught = err;
    }
    // Not the token's fault: never a BearerError (a client would throw its token away).
    assert.ok(caught instanceof KeySetUnavailableError, String(caught));
    assert.equal(caught.status, 503);
    assert.equal(caught.retryAfter, 5);
    assert.deepEqual(caught.body, {
      error: 'temporarily_unavailable',
      error_description: 'the token issuer keys cannot be fetched right now',
    });
    return caught;
  }

  test('a 404, a closed port, a redirect, a non-JWK-Set body, an oversized or hanging answer', async () => {
    await unavailable(`${issuer.url}/no-such-path`);
    const answers: Record<string, (res: import('node:http').ServerResponse) => void> = {
      '/redirect': (res) => {
        res.writeHead(302, { location: `${issuer.url}/.well-known/jwks.json` }).end();
      },
      '/html': (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'),
      '/not-a-set': (res) => res.writeHead(200).end('{"keys":"no"}'),
      '/huge': (res) => res.writeHead(200).end(`{"keys":[],"pad":"${'x'.repeat(300 * 1024)}"}`),
      '/hang': () => undefined,
    };
    const server = createServer((req, res) => answers[req.url ?? '']?.(res));
    const port = await listenLoopback(server);
    try {
      for (const path of Object.keys(answers)) await unavailable(`http://127.0.0.1:${port}${path}`);
    } finally {
      await closeServer(server);
    }
    await unavailable(`http://127.0.0.1:${port}/.well-known/jwks.json`);
  });

  test('after a failed fetch, none is tried for the cooldown: refusals are immediate', async () => {
    let requests = 0;
    let healthy = false;
    const server = createServer((_req, res) => {
      requests++;
      if (!healthy) return void res.writeHead(500).end();
      void fetch(`${issuer.url}/.well-known/jwks.json`)
        .then((r) => r.text())
        .then((jwks) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
    });
    const port = await listenLoopback(server);
    try {
      const v = createBearerVerifier({
        issuer: issuer.url,
        audience: issuer.url,
        jwksUri: `http://127.0.0.1:${port}/jwks`,
        jwksCooldownSeconds: 0.4,
        clock: issuer.t.clock.read,
      });
      const first = await v.verify(token).catch((err: unknown) => err);
      assert.ok(first instanceof KeySetUnavailableError);
      assert.equal(first.retryAfter, 1);
      assert.equal(requests, 1);
      healthy = true;
      assert.ok(
        (await v.verify(token).catch((err: unknown) => err)) instanceof KeySetUnavailableError,
      );
      assert.equal(requests, 1);
      await sleep(450);
      assert.equal((await v.verify(token)).jti, claims(token).jti);
      assert.equal(requests, 2);
    } finally {
      await closeServer(server);
    }
  });
});
