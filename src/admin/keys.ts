import { type SigningAlg, currentSigner, rotateSigningKey } from '../tokens/keystore.js';
import type { SigningKey } from '../store/store.js';
import { type AdminContext, audited, iso } from './context.js';

function keyStatus(k: SigningKey, signer: SigningKey | undefined, now: number): string {
  if (k.publishUntil !== null && k.publishUntil <= now) return 'expired';
  if (k.activatesAt > now) return 'next';
  // An ID-Token-only key signs until a rotation retires it.
  if (k.purpose === 'id-token') return k.publishUntil === null ? 'active' : 'retired';
  return k.kid === signer?.kid ? 'active' : 'retired';
}

export function keyView(k: SigningKey, all: readonly SigningKey[], now: number) {
  return {
    kid: k.kid,
    alg: k.alg,
    status: keyStatus(k, currentSigner(all, now), now),
    purpose: k.purpose,
    created_at: iso(k.createdAt),
    activates_at: iso(k.activatesAt),
    publish_until: iso(k.publishUntil),
  };
}

export async function listKeys(ctx: AdminContext) {
  const keys = await ctx.store.listSigningKeys();
  const now = ctx.clock();
  return keys.map((k) => keyView(k, keys, now));
}

/**
 * The longest a token a key signs can live, so a retired key stays published until every
 * token it signed has expired: the server default, every dialect's and every client's
 * access-token lifetime, and the ID Token lifetime.
 */
async function longestTokenTtl(ctx: AdminContext): Promise<number> {
  const clients = await ctx.store.listClients();
  const dialectTtls = ctx.dialects.names().map((n) => ctx.dialects.get(n)?.accessTokenTtl ?? 0);
  return Math.max(
    ctx.config.accessTokenTtl,
    ctx.config.idTokenTtl,
    ...dialectTtls,
    ...clients.map((c) => c.accessTokenTtl ?? 0),
  );
}

export async function rotateKey(
  ctx: AdminContext,
  opts: { alg?: SigningAlg | undefined; now: boolean },
) {
  const clockSkew = 60;
  const key = await rotateSigningKey(ctx.store, ctx.crypto, {
    alg: opts.alg ?? ctx.config.signingAlg,
    now: ctx.clock(),
    publishAhead: ctx.config.keyPublishAhead,
    immediate: opts.now,
    retainFor: (await longestTokenTtl(ctx)) + clockSkew,
  });
  await audited(ctx, {
    type: 'key.rotated',
    reason: `${key.kid} (${key.alg}) signs from ${iso(key.activatesAt) ?? ''}`,
  });
  const keys = await ctx.store.listSigningKeys();
  return keyView(key, keys, ctx.clock());
}
