/**
 * Shared by the resource-server verifier tests (test/verify): a real Tessera listening on a
 * loopback port (its issuer is its URL, so the verifier fetches the real JWK Set over
 * HTTP), tokens obtained from it by client_credentials over HTTP, tokens crafted with its
 * own current signing key, and exact checks of a `BearerError`.
 */
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { type BearerErrorCode, BearerError } from '../../src/verify/index.js';
import { postForm } from '../helpers/server.js';
import { startListeningApp } from '../helpers/spaces.js';
import type { TestApp } from '../helpers/app.js';

export const SCOPES = ['orders:read', 'orders:write'];

export interface Issuer {
  readonly t: TestApp & { readonly url: string };
  readonly url: string;
  readonly client: { readonly client_id: string; readonly client_secret: string };
  /** A fresh access token by client_credentials over HTTP (`scope` as sent; omitted: all). */
  token(scope?: string): Promise<string>;
  /** A token signed with Tessera's current key: valid claims for `client`, then `payload`. */
  craft(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(): Promise<Issuer> {
  const t = await startListeningApp();
  const client = await t.client({ scopes: SCOPES });
  return {
    t,
    url: t.url,
    client,
    async token(scope) {
      const res = await postForm<{ access_token?: string }>(`${t.url}/oauth/token`, {
        grant_type: 'client_credentials',
        ...client,
        ...(scope !== undefined && { scope }),
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(typeof res.body.access_token, 'string');
      return res.body.access_token as string;
    },
    async craft(header, payload) {
      const key = await t.deps.keystore.signingKey();
      const now = t.clock.now;
      return new SignJWT({
        iss: t.url,
        sub: client.client_id,
        aud: t.url,
        iat: now,
        exp: now + 600,
        jti: '33333333-3333-4333-8333-333333333333',
        client_id: client.client_id,
        scope: SCOPES.join(' '),
        ...payload,
      })
        .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header })
        .sign(key.privateKey);
    },
    close: () => t.close(),
  };
}

/** Awaits a refusal and checks it exactly: class, code, status, challenge (when given). */
export async function refused(
  pending: Promise<unknown>,
  code: BearerErrorCode,
  expected: { readonly description?: string | RegExp; readonly challenge?: string } = {},
): Promise<BearerError> {
  let caught: unknown;
  try {
    await pending;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof BearerError, `expected a BearerError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.description);
  assert.equal(
    caught.status,
    { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 }[code],
  );
  assert.deepEqual(caught.body, { error: code, error_description: caught.description });
  if (typeof expected.description === 'string')
    assert.equal(caught.description, expected.description);
  else if (expected.description) assert.match(caught.description, expected.description);
  if (expected.challenge !== undefined) assert.equal(caught.wwwAuthenticate, expected.challenge);
  return caught;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
