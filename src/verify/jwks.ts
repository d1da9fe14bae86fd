/**
 * The issuer's JWK Set, fetched over HTTP and cached: jose's `createRemoteJWKSet` does the
 * caching (refetch once the copy is `cacheMaxAge` old; refetch on an unknown `kid`, at most
 * once per `cooldown`), with a fetch of our own underneath that bounds the response and turns
 * every transport failure into a `KeySetUnavailableError`, so that an unreachable issuer is
 * never reported as a bad token.
 */
import { type JWTVerifyGetKey, createRemoteJWKSet, customFetch, errors } from 'jose';
import { KeySetUnavailableError } from './errors.js';

/** Far above any real key set (a Tessera set is one or two keys, under 2 KiB). */
const MAX_JWKS_BYTES = 256 * 1024;

async function readBounded(res: Response, limit: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * jose calls this with `redirect: 'manual'` and its timeout signal; a redirect is therefore
 * a non-200 answer here and is refused rather than followed to another host. After a failure
 * no fetch is tried for `backoffMs`: while the issuer is down, requests are refused at once
 * instead of each waiting for its own timeout against it.
 */
function keySetFetcher(backoffMs: number) {
  let retryAt = 0;
  return async function fetchKeySet(
    url: string,
    init: { headers: Headers; method: 'GET'; redirect: 'manual'; signal: AbortSignal },
  ): Promise<Response> {
    const wait = retryAt - Date.now();
    if (wait > 0) {
      throw new KeySetUnavailableError(
        `the JWK Set from ${url} failed recently; not retried for ${wait} ms`,
        { retryAfterSeconds: wait / 1000 },
      );
    }
    try {
      const res = await fetch(url, init);
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}`);
      }
      const text = await readBounded(res, MAX_JWKS_BYTES);
      const json: unknown = JSON.parse(text);
      const keys = (json as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null))
        throw new Error('not a JWK Set');
      return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (err) {
      retryAt = Date.now() + backoffMs;
      throw new KeySetUnavailableError(
        `cannot fetch the JWK Set from ${url}: ${(err as Error).message}`,
        { cause: err, retryAfterSeconds: backoffMs / 1000 },
      );
    }
  };
}

export interface RemoteKeySetOptions {
  readonly url: URL;
  readonly timeoutSeconds: number;
  readonly cacheMaxAgeSeconds: number;
  /** Also the pause after a failed fetch. */
  readonly cooldownSeconds: number;
}

export interface RemoteKeySet {
  readonly getKey: JWTVerifyGetKey;
  /** Refetches now, ignoring the cooldown. */
  reload(): Promise<void>;
}

function unavailable(err: unknown, retryAfterSeconds: number): unknown {
  // Keys jose cannot use (fetchKeySet checked only the set's shape) are the issuer's fault.
  return err instanceof errors.JWKSInvalid
    ? new KeySetUnavailableError('the issuer answered something that is not a JWK Set', {
        cause: err,
        retryAfterSeconds,
      })
    : err;
}

export function remoteKeySet(opts: RemoteKeySetOptions): RemoteKeySet {
  const remote = createRemoteJWKSet(opts.url, {
    timeoutDuration: Math.round(opts.timeoutSeconds * 1000),
    cacheMaxAge: opts.cacheMaxAgeSeconds * 1000,
    cooldownDuration: opts.cooldownSeconds * 1000,
    [customFetch]: keySetFetcher(opts.cooldownSeconds * 1000),
  });
  return {
    async getKey(header, token) {
      try {
        return await remote(header, token);
      } catch (err) {
        throw unavailable(err, opts.cooldownSeconds);
      }
    },
    async reload() {
      try {
        await remote.reload();
      } catch (err) {
        throw unavailable(err, opts.cooldownSeconds);
      }
    },
  };
}
