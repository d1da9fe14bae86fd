/**
 * The peer's side of the code-flow scenarios: node-oidc-provider configured like Tessera's
 * authorization_code path (bench/code-flow.ts) — one confidential web client `bench-web`
 * (`client_secret_post`, authorization_code only; its codes are asked for with PKCE S256, which
 * both servers then check, though neither requires it of a confidential client), ID tokens
 * signed with the algorithm given as argv[2], consent implied for the client
 * (`loadExistingGrant`), and its development login form (devInteractions), which takes any login
 * and password. Its access tokens are opaque, the only kind its userinfo accepts (see
 * `peerUserinfoLoad`).
 *
 * Usage: node --import tsx bench/peer-code.ts <RS256|ES256|EdDSA> <port>
 * Prints one JSON line `{"url": …}` once listening.
 *
 * As a module it builds the load of two scenarios against such a peer: code redemption
 * (`peerCodeLoad`, as `codeLoad` for Tessera) and userinfo bearer verification
 * (`peerUserinfoLoad`). Each side imports its dependencies when it runs, not with the module:
 * the server's RSS is measured, and the harness would add to it.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { Alg, Options } from './harness.js';
import { WEB_CLIENT } from './web-client.js';

const { clientId: CLIENT_ID, secret: SECRET, redirectUri: REDIRECT_URI } = WEB_CLIENT;
const SCOPE = 'openid email';

/**
 * The peer's store, in its memory as with its default adapter. That one is an LRU of about
 * 1000 entries (lib/adapters/memory_adapter.js), which evicts a pool of thousands of codes
 * before they are redeemed; this one keeps every entry for the server's life (a scenario's
 * minutes: the provider checks each token's expiry itself).
 */
function memoryStore(): AdapterFactory {
  const entries = new Map<string, AdapterPayload>();
  const sessionIdByUid = new Map<string, string>();
  return (model) => {
    const find = async (id: string) => entries.get(`${model}:${id}`);
    return {
      find,
      upsert: async (id, payload) => {
        entries.set(`${model}:${id}`, payload);
        if (model === 'Session' && payload.uid !== undefined) sessionIdByUid.set(payload.uid, id);
      },
      // Tokens bound to the session (all of them here) look it up by uid on each use.
      findByUid: async (uid) => {
        const id = sessionIdByUid.get(uid);
        return id === undefined ? undefined : find(id);
      },
      // The device flow is off.
      findByUserCode: async () => undefined,
      consume: async (id) => {
        const payload = entries.get(`${model}:${id}`);
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        entries.delete(`${model}:${id}`);
      },
      // Only on a replayed code: a scan is enough.
      revokeByGrantId: async (grantId) => {
        for (const [key, payload] of entries)
          if (key.startsWith(`${model}:`) && payload.grantId === grantId) entries.delete(key);
      },
    };
  };
}

async function serve(alg: Alg, port: number): Promise<void> {
  const { default: Provider } = await import('oidc-provider');
  const issuer = `http://127.0.0.1:${port}`;
  const keys = [
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
    generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }),
  ];
  const provider = new Provider(issuer, {
    adapter: memoryStore(),
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: SECRET,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: alg,
      },
    ],
    jwks: { keys },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: 'bench@acme.example', email_verified: true }),
    }),
    // Consent is implied: the signed-in account's grant for the client, made on first use and
    // again after a replayed code revoked it.
    loadExistingGrant: async (ctx) => {
      const { client, session } = ctx.oidc;
      if (client === undefined || session?.accountId === undefined) return undefined;
      const { Grant } = ctx.oidc.provider;
      const id = session.grantIdFor(client.clientId);
      const existing = id === undefined ? undefined : await Grant.find(id);
      if (existing) return existing;
      const grant = new Grant({ accountId: session.accountId, clientId: client.clientId });
      grant.addOIDCScope(SCOPE);
      await grant.save();
      return grant;
    },
  });
  provider.listen(port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ url: issuer })}\n`);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [alg = 'ES256', port = '0'] = process.argv.slice(2);
  await serve(alg as Alg, Number(port));
}

// -------------------------------------------------------------------------------------- load

/** Where a redirect (the peer answers 303 throughout the login and code flow) leads. */
function redirect(res: Response, what: string): string {
  const to = res.headers.get('location');
  if (res.status !== 303 || to === null) throw new Error(`${what} answered ${res.status}`);
  return to;
}

/** The code in an authorization response, a redirect to the redirect URI. */
function codeOf(res: Response, what: string): string {
  const code = new URL(redirect(res, what)).searchParams.get('code');
  if (code === null) throw new Error(`${what} redirected without a code`);
  return code;
}

/** A signed-in user agent of the peer's: fresh codes, and the token request redeeming one. */
interface SignedIn {
  mint(): Promise<string>;
  redeem(code: string): string;
}

/**
 * Signs in once through the peer's login form, as a browser does; then each GET /auth with the
 * session cookie answers a redirect to the redirect URI with a fresh code.
 *
 * GET /auth redirects to /interaction/<uid>, setting the interaction cookies; the form's POST
 * there redirects to /auth/<uid>, which ends the login with a first code and sets the session
 * cookie. Cookies are kept by name, whatever their path, and dropped when cleared.
 */
async function signIn(base: string): Promise<SignedIn> {
  const { FORM, form } = await import('./harness.js');
  const verifier = randomBytes(32).toString('base64url');
  const authorize = `${base}/auth?${new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: SCOPE,
    state: 'bench',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`;
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const visit = async (url: string, body?: string): Promise<Response> => {
    const res = await fetch(new URL(url, base), {
      redirect: 'manual',
      ...(body === undefined
        ? { headers: { cookie: cookie() } }
        : { method: 'POST', headers: { ...FORM, cookie: cookie() }, body }),
    });
    for (const set of res.headers.getSetCookie()) {
      const pair = set.split(';')[0] ?? '';
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(name.length + 1);
      if (value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  const login = redirect(await visit(authorize), 'authorize');
  const resume = redirect(
    await visit(login, form({ prompt: 'login', login: 'bench', password: 'bench' })),
    'login',
  );
  codeOf(await visit(resume), 'login');
  const session = cookie();
  return {
    mint: async () =>
      codeOf(
        await fetch(authorize, { redirect: 'manual', headers: { cookie: session } }),
        'authorize',
      ),
    redeem: (code) =>
      form({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        client_id: CLIENT_ID,
        client_secret: SECRET,
      }),
  };
}

/** Load options for one timed run of code redemptions against the peer at `base`. */
export async function peerCodeLoad(base: string): Promise<() => Promise<Options>> {
  const { codePool } = await import('./code-flow.js');
  const { mint, redeem } = await signIn(base);
  return codePool(`${base}/token`, mint, redeem);
}

/**
 * Load options for GET /me with one access token of the peer's, issued by a code exchange.
 *
 * That token is opaque, and each request looks it up in the peer's store, with the session it
 * is bound to and its grant: the peer's userinfo finds tokens by value (`AccessToken.find`,
 * lib/shared/access_token.js) and never stores a JWT access token (lib/models/formats/jwt.js);
 * it also refuses any token with an audience (lib/actions/userinfo.js), which a JWT access
 * token must carry. Tessera verifies its JWT's signature instead.
 */
export async function peerUserinfoLoad(base: string): Promise<Options> {
  const { FORM, post } = await import('./harness.js');
  const { mint, redeem } = await signIn(base);
  const issued = await post(`${base}/token`, redeem(await mint()), FORM);
  const headers = { authorization: `Bearer ${String(issued['access_token'])}` };
  const check = await fetch(`${base}/me`, { headers });
  const claims = (await check.json()) as { sub?: unknown };
  if (check.status !== 200 || typeof claims.sub !== 'string')
    throw new Error(`userinfo answered ${check.status} ${JSON.stringify(claims)}`);
  return { url: `${base}/me`, method: 'GET', headers };
}
