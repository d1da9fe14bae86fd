/**
 * The authorization_code exchange under load: every request redeems a code never used before.
 *
 * Setup over real HTTP, as a browser and a web app do it: a tenant, a user and a confidential
 * web client (authorization_code only, PKCE S256) are made with the CLI; the user logs in once
 * through the authorization page (test/helpers/login.ts), and the session cookie then gets a
 * code from each GET /oauth/authorize (a redirect to the redirect URI). Before each timed run a pool
 * of codes is minted that way, CODE_MINT_CONCURRENCY at a time; each load request takes one. A
 * pool that runs dry sends a spent code, which the table flags as non-2xx: the row then says
 * the pool was too small, never a made-up rate.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CliOptions } from '../test/helpers/cli.js';
import { cookieOf } from '../test/helpers/html.js';
import { type WebApp, loginForm, postLogin, seedWebApp } from '../test/helpers/login.js';
import { WEB_CLIENT } from './web-client.js';
import {
  type Alg,
  DURATION,
  FORM,
  type Options,
  type PreparedTessera,
  form,
  tesseraCli,
} from './harness.js';

const APP: WebApp = {
  clientId: WEB_CLIENT.clientId,
  redirectUri: WEB_CLIENT.redirectUri,
  email: 'bench@acme.example',
  password: 'bench password 1',
};
const SECRET = WEB_CLIENT.secret;
/** Codes minted per second of a timed run: above what one core redeems (up to 2,636/s seen). */
const POOL_PER_SECOND = 4000;
const CODE_MINT_CONCURRENCY = 16;

/** Tenant, user and web client in a prepared database, through the CLI. */
export async function seedCodeFlow(alg: Alg, prepared: PreparedTessera): Promise<void> {
  const json = async <T>(args: readonly string[], o: CliOptions = {}): Promise<T> =>
    JSON.parse(tesseraCli(alg, prepared.database, prepared.dir, args, o.stdin)) as T;
  await seedWebApp({ json }, APP, { grants: ['authorization_code'], secret: SECRET });
}

/** Logs the user in once; returns the session cookie (`name=value`). */
async function session(base: string): Promise<string> {
  const filled = await loginForm(base, APP);
  const res = await postLogin(base, filled);
  const cookie = cookieOf(res, 'tessera_session');
  if (res.status !== 303 || cookie === undefined)
    throw new Error(`login answered ${res.status} without a session cookie`);
  return cookie;
}

/** Load options for one timed run of code redemptions against the server at `base`. */
export async function codeLoad(base: string): Promise<() => Promise<Options>> {
  const cookie = await session(base);
  const verifier = randomBytes(32).toString('base64url');
  const authorize = `${base}/oauth/authorize?${new URLSearchParams({
    client_id: APP.clientId,
    redirect_uri: APP.redirectUri,
    response_type: 'code',
    state: 'bench',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`;
  const mint = async (): Promise<string> => {
    const res = await fetch(authorize, { redirect: 'manual', headers: { cookie } });
    const code = new URL(res.headers.get('location') ?? 'about:blank').searchParams.get('code');
    if ((res.status !== 302 && res.status !== 303) || code === null)
      throw new Error(`authorize answered ${res.status} without a code`);
    return code;
  };
  const redeem = (code: string) =>
    form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: APP.redirectUri,
      code_verifier: verifier,
      client_id: APP.clientId,
      client_secret: SECRET,
    });
  return codePool(`${base}/oauth/token`, mint, redeem);
}

/**
 * Per timed run: a pool of fresh codes minted CODE_MINT_CONCURRENCY at a time, then load
 * options that redeem one per request at `tokenUrl` (Tessera's and the peer's alike).
 */
export function codePool(
  tokenUrl: string,
  mint: () => Promise<string>,
  redeem: (code: string) => string,
): () => Promise<Options> {
  return async () => {
    const pool: string[] = [];
    const target = POOL_PER_SECOND * DURATION;
    await Promise.all(
      Array.from({ length: CODE_MINT_CONCURRENCY }, async () => {
        while (pool.length < target) pool.push(await mint());
      }),
    );
    const spent = pool[0] as string;
    return {
      url: tokenUrl,
      requests: [
        {
          method: 'POST',
          headers: FORM,
          // A spent code once the pool is dry: a 400 the table flags (the peer, taking it for
          // a replay, also revokes the grant and all it issued).
          setupRequest: (req) => ({ ...req, body: redeem(pool.pop() ?? spent) }),
        },
      ],
    };
  };
}
