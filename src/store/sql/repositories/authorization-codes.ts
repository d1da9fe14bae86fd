import { type Kysely, type Selectable, sql } from 'kysely';
import type { AuthorizationCode, RefreshToken } from '../../store.js';
import type { AuthorizationCodesTable, Database } from '../schema.js';
import { consumeThenInsert } from './refresh-tokens.js';

function toCode(r: Selectable<AuthorizationCodesTable>): AuthorizationCode {
  return {
    codeHash: r.code_hash,
    clientId: r.client_id,
    userId: r.user_id,
    tenantId: r.tenant_id,
    redirectUri: r.redirect_uri,
    redirectUriSent: r.redirect_uri_sent === 1,
    state: r.state,
    scope: r.scope,
    codeChallenge: r.code_challenge,
    codeChallengeMethod: r.code_challenge_method,
    grantId: r.grant_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    consumedAt: r.consumed_at,
    nonce: r.nonce,
    authTime: r.auth_time,
    sid: r.sid,
  };
}

export async function insertAuthorizationCode(
  db: Kysely<Database>,
  c: AuthorizationCode,
): Promise<void> {
  await db
    .insertInto('authorization_codes')
    .values({
      code_hash: c.codeHash,
      client_id: c.clientId,
      user_id: c.userId,
      tenant_id: c.tenantId,
      redirect_uri: c.redirectUri,
      redirect_uri_sent: c.redirectUriSent ? 1 : 0,
      state: c.state,
      scope: c.scope,
      code_challenge: c.codeChallenge,
      code_challenge_method: c.codeChallengeMethod,
      grant_id: c.grantId,
      created_at: c.createdAt,
      expires_at: c.expiresAt,
      consumed_at: c.consumedAt,
      nonce: c.nonce,
      auth_time: c.authTime,
      sid: c.sid,
    })
    .execute();
}

/** SQL text on this per-exchange path, as in refresh-tokens.ts. */
export async function findAuthorizationCode(
  db: Kysely<Database>,
  codeHash: string,
  clientId: string,
): Promise<AuthorizationCode | undefined> {
  const {
    rows: [row],
  } = await sql<Selectable<AuthorizationCodesTable>>`
    SELECT * FROM authorization_codes WHERE code_hash = ${codeHash} AND client_id = ${clientId}`.execute(
    db,
  );
  return row && toCode(row);
}

/** Single use: the conditional UPDATE whose row count decides, then the refresh token it issued. */
export async function consumeAuthorizationCode(
  db: Kysely<Database>,
  engine: 'sqlite' | 'postgres',
  codeHash: string,
  clientId: string,
  now: number,
  refreshToken?: RefreshToken,
): Promise<boolean> {
  const consuming = sql`UPDATE authorization_codes SET consumed_at = ${now}
    WHERE code_hash = ${codeHash} AND client_id = ${clientId} AND consumed_at IS NULL`;
  if (refreshToken !== undefined) return consumeThenInsert(db, engine, consuming, refreshToken);
  const res = await consuming.execute(db);
  return res.numAffectedRows === 1n;
}
