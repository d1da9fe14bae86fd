import { randomBytes } from 'node:crypto';
import { signBytes } from './jws.js';
import type { ActiveKey } from './keystore.js';

/** Back-Channel Logout 1.0 §2.4: the one event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token's lifetime: long enough for clock skew, short enough to limit a replay. */
export const LOGOUT_TOKEN_TTL = 120;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs a logout token (§2.4: `typ: logout+jwt`, `kid`; `iss`, `aud`, `iat`, `exp`, a fresh
 * `jti`, `sub`, `sid`, `events`; never a `nonce`).
 */
export function signLogoutToken(
  key: ActiveKey,
  claims: { iss: string; aud: string; sub: string; sid: string; iat: number },
): string {
  const input = `${b64({ alg: key.alg, typ: 'logout+jwt', kid: key.kid })}.${b64({
    iss: claims.iss,
    aud: claims.aud,
    iat: claims.iat,
    exp: claims.iat + LOGOUT_TOKEN_TTL,
    jti: randomBytes(16).toString('base64url'),
    sub: claims.sub,
    sid: claims.sid,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  })}`;
  return `${input}.${signBytes(key, Buffer.from(input)).toString('base64url')}`;
}
