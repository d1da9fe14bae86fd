import { InvalidGrant, InvalidScope, InvalidTarget } from '../../../errors.js';
import { resolveSubject } from '../../subject.js';
import { requestOrigin } from '../../../observability/audit.js';
import type { RefreshToken } from '../../../store/store.js';
import type { Grant, GrantContext } from '../grant.js';
import { familyRevocationExpiry, issueTokens, parseScope } from '../issue.js';

/** Records the reuse of `token`, whose family is revoked by now; returns the refusal. */
async function reuseRefusal(ctx: GrantContext, token: RefreshToken): Promise<InvalidGrant> {
  await ctx.deps.audit.record({
    type: 'refresh.reused',
    clientId: ctx.client.id,
    tenantId: token.tenantId,
    userId: token.userId,
    reason: `${token.revokedAt === null ? 'rotated' : 'superseded'} refresh token presented again; family ${token.familyId} revoked`,
    ...requestOrigin(ctx.request),
  });
  return new InvalidGrant('refresh token already used; its grant has been revoked');
}

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use consumes the token and issues a
 * successor in the same family. Presenting a rotated token again is reuse and revokes the
 * whole family and its access tokens — unless the client has `refresh_grace` seconds, the
 * token was rotated at most that long ago and its successor was never used: then the unused
 * successor is revoked and replaced (a client that lost the response can retry; a stolen old
 * token works only within the window, and once the real client presents the successor the
 * replay superseded, the family is revoked).
 *
 * Read, check, sign, redeem. Whatever the row read refuses is refused before a signature is
 * made, and that read may be trusted to refuse: a token once rotated, revoked or expired never
 * becomes live again. Whether it is still live is decided by the redemption's conditional
 * UPDATE alone, after the signature (so a failure in between never strands a client with a
 * consumed token): a request that loses that race has cost a signature it throws away, as does
 * a grace retry whose successor turns out to be used.
 */
export const refreshToken: Grant = {
  grantType: 'refresh_token',
  parameters: ['refresh_token'],
  async handle(ctx: GrantContext) {
    const { deps, client, dialect, params } = ctx;
    const presented = params['refresh_token'] as string;
    const token = await deps.store.findRefreshToken(deps.crypto.hashSecret(presented));
    // A token of another client is reported exactly like an unknown one.
    if (!token || token.clientId !== client.id) throw new InvalidGrant('refresh token invalid');
    const now = deps.clock();

    const requested = parseScope(params['scope']);
    const granted = token.scope.split(' ').filter((s) => s.length > 0);
    for (const s of requested) {
      if (!granted.includes(s)) throw new InvalidScope(`scope ${s} exceeds the original grant`);
    }
    // RFC 8707 §2.2: a resource other than the grant's audience cannot be honoured.
    if (params['resource'] !== undefined && params['resource'] !== token.audience) {
      throw new InvalidTarget('resource is not the audience of this grant');
    }

    // A revoked token that was never used is a successor superseded by a grace retry (or one
    // of a family already revoked): whoever presents it received it, so one of the two holders
    // of the family is not its client — reuse. Any other revoked token is just dead.
    const superseded =
      token.revokedAt !== null && token.rotatedAt === null && token.parentId !== null;
    if (token.revokedAt !== null && !superseded) throw new InvalidGrant('refresh token revoked');
    if (token.expiresAt <= now || token.idleExpiresAt <= now)
      throw new InvalidGrant('refresh token expired');
    const graceSince = client.refreshGrace > 0 ? now - client.refreshGrace : null;
    const grantExpiresAt = familyRevocationExpiry(deps, client, dialect, token.expiresAt);
    // The window counts from the token's one rotation, so retries never extend it.
    const mayRetry =
      token.rotatedAt !== null && graceSince !== null && token.rotatedAt >= graceSince;
    if (superseded || (token.rotatedAt !== null && !mayRetry)) {
      await deps.store.revokeRefreshFamily(token.familyId, now, grantExpiresAt);
      throw await reuseRefusal(ctx, token);
    }

    const subject = await resolveSubject(deps, client, token.userId, token.tenantId);
    const scopes = requested.length > 0 ? requested : granted;
    const { result, refreshRow } = await issueTokens(deps, {
      client,
      dialect,
      userId: token.userId,
      user: subject.user,
      tenantId: token.tenantId,
      scopes,
      echoScope: scopes.join(' '),
      audience: token.audience,
      family: {
        id: token.familyId,
        parentId: token.id,
        expiresAt: token.expiresAt,
        scope: token.scope,
      },
      // Core §12.2: the refreshed ID Token keeps the original auth_time and carries no nonce.
      login: { authTime: token.authTime, sid: token.sid },
    });

    const redeemed = await deps.store.redeemRefreshToken(token, refreshRow, now, {
      graceSince,
      grantExpiresAt,
    });
    // Used since it was read, or a grace retry whose successor was used: the family is revoked.
    if (redeemed === 'reused') throw await reuseRefusal(ctx, token);
    return result;
  },
};
