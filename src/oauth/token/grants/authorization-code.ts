import { createHash } from 'node:crypto';
import type { AuthorizationCode } from '../../../store/store.js';
import { InvalidGrant, InvalidRequest } from '../../../errors.js';
import { resolveSubject } from '../../subject.js';
import { requestOrigin } from '../../../observability/audit.js';
import type { Grant, GrantContext } from '../grant.js';
import { familyRevocationExpiry, issueTokens, resolveAudience } from '../issue.js';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 §4.6: S256 only, since `plain` is refused at the authorization endpoint. */
function checkPkce(code: AuthorizationCode, verifier: string | undefined): void {
  if (code.codeChallenge === null) {
    // A verifier for a code that had no challenge is a downgrade attempt (RFC 9700 §4.8.2).
    if (verifier !== undefined)
      throw new InvalidGrant('code_verifier sent for a code issued without code_challenge');
    return;
  }
  if (verifier === undefined) throw new InvalidGrant('code_verifier is required for this code');
  if (!VERIFIER.test(verifier)) throw new InvalidGrant('code_verifier is malformed');
  if (createHash('sha256').update(verifier).digest('base64url') !== code.codeChallenge) {
    throw new InvalidGrant('code_verifier does not match code_challenge');
  }
}

/**
 * RFC 6749 §4.1.3: `redirect_uri` is required iff the authorization request carried one (a
 * dialect may waive that), and when sent it must be the bound one, character for character.
 */
function checkRedirectUri(ctx: GrantContext, code: AuthorizationCode): void {
  const sent = ctx.params['redirect_uri'];
  if (sent === undefined) {
    if (code.redirectUriSent && !ctx.dialect.redirectUriOptional)
      throw new InvalidRequest('redirect_uri is required: the authorization request had one');
    return;
  }
  if (sent !== code.redirectUri)
    throw new InvalidGrant('redirect_uri differs from the one the code was issued for');
}

/**
 * A replayed code means it leaked: everything issued from it is revoked (RFC 6749 §4.1.2).
 * Returns the refusal.
 */
async function replayRefusal(ctx: GrantContext, code: AuthorizationCode): Promise<InvalidGrant> {
  const { deps, client } = ctx;
  const now = deps.clock();
  const familyExpiry = now + (client.refreshTokenTtl ?? deps.config.refreshTokenTtl);
  await deps.store.revokeRefreshFamily(
    code.grantId,
    now,
    familyRevocationExpiry(deps, client, ctx.dialect, familyExpiry),
  );
  await deps.audit.record({
    type: 'code.replayed',
    clientId: client.id,
    tenantId: code.tenantId,
    userId: code.userId,
    reason: `code redeemed again; grant ${code.grantId} revoked`,
    ...requestOrigin(ctx.request),
  });
  return new InvalidGrant(
    'authorization code already used; tokens issued from it have been revoked',
  );
}

/**
 * RFC 6749 §4.1.3. Read, check, sign, redeem. Only a request that would succeed on a fresh
 * code may use the code up or, on a used one, revoke its grant: every binding is checked
 * before the single-use consume, so a stranger (another client, or anyone naming a public
 * client without its verifier) neither burns a code nor revokes the tokens issued from it.
 * A code read as used is a replay (a code is never unconsumed again); one read unused is
 * decided by the consume, which stores the refresh token in the same transaction: a request
 * that loses that race to a concurrent redemption is a replay too, and its signature is
 * thrown away.
 */
export const authorizationCodeGrant: Grant = {
  grantType: 'authorization_code',
  parameters: ['code'],
  async handle(ctx: GrantContext) {
    const { deps, client, dialect, params } = ctx;
    const presented = params['code'] as string;
    if (presented.length > 128) throw new InvalidGrant('authorization code invalid');
    const codeHash = deps.crypto.hashSecret(presented);
    const code = await deps.store.findAuthorizationCode(codeHash, client.id);
    if (!code) throw new InvalidGrant('authorization code invalid');
    checkRedirectUri(ctx, code);
    if (params['state'] !== undefined && params['state'] !== code.state) {
      throw new InvalidGrant('state differs from the one the code was issued with');
    }
    checkPkce(code, params['code_verifier']);
    const now = deps.clock();
    // A used code is a replay even once expired (until the sweep deletes it).
    if (code.consumedAt !== null) throw await replayRefusal(ctx, code);
    if (code.expiresAt <= now) throw new InvalidGrant('authorization code expired');
    const audience = resolveAudience(deps, client, params['resource']);
    const subject = await resolveSubject(deps, client, code.userId, code.tenantId);

    const scopes = code.scope.split(' ').filter((s) => s.length > 0);
    const { result, refreshRow } = await issueTokens(deps, {
      client,
      dialect,
      userId: code.userId,
      user: subject.user,
      tenantId: code.tenantId,
      scopes,
      echoScope: scopes.join(' '),
      audience,
      grantId: code.grantId,
      login: { authTime: code.authTime, sid: code.sid, nonce: code.nonce },
    });

    if (!(await deps.store.consumeAuthorizationCode(codeHash, client.id, now, refreshRow)))
      throw await replayRefusal(ctx, code);
    // Back-Channel Logout (DESIGN §6): ending this session will notify the client.
    if (result.idToken !== undefined && code.sid !== null && code.userId !== null) {
      await deps.store.recordIdTokenRecipient({
        sid: code.sid,
        clientId: client.id,
        subject: code.userId,
        // The session opened at most sessionTtl before it issued this code.
        expiresAt: now + deps.config.sessionTtl,
      });
    }
    return result;
  },
};
