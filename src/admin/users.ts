import { randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { familyRevocationExpiry } from '../oauth/token/issue.js';
import { NotFoundError, type User } from '../store/store.js';
import {
  type AdminContext,
  ValidationError,
  audited,
  checkEmail,
  checkTenantsExist,
  iso,
} from './context.js';

/** Wire/JSON view of a user; never the password hash. */
export function userView(u: User) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    tenants: u.tenants,
    disabled: u.disabledAt !== null,
    created_at: iso(u.createdAt),
  };
}

/** argon2id with the library's defaults (m=19 MiB, t=2, p=1: OWASP's minimum profile). */
async function hashPassword(password: string): Promise<string> {
  if (password.length < 8) throw new ValidationError('a password needs at least 8 characters');
  if (password.length > 1024)
    throw new ValidationError('a password may have at most 1024 characters');
  return hash(password, { algorithm: 2 });
}

export async function createUser(
  ctx: AdminContext,
  input: { email: string; name?: string | undefined; tenants: readonly string[]; password: string },
) {
  if (input.tenants.length === 0)
    throw new ValidationError('a user belongs to at least one --tenant');
  await checkTenantsExist(ctx, input.tenants);
  const now = ctx.clock();
  const user: Omit<User, 'tenants'> = {
    id: randomUUID(),
    email: checkEmail(input.email),
    name: input.name?.trim() || null,
    passwordHash: await hashPassword(input.password),
    disabledAt: null,
    createdAt: now,
    updatedAt: now,
    // An operator typed the address; nothing has proved it is the user's (DESIGN §7).
    emailVerified: false,
  };
  await ctx.store.createUser(user, input.tenants);
  await audited(ctx, { type: 'user.created', userId: user.id });
  return userView({ ...user, tenants: [...input.tenants].sort() });
}

export async function listUsers(ctx: AdminContext) {
  return (await ctx.store.listUsers()).map(userView);
}

export async function setPassword(ctx: AdminContext, email: string, password: string) {
  const user = await ctx.store.setUserPassword(checkEmail(email), await hashPassword(password));
  await audited(ctx, { type: 'user.password_set', userId: user.id });
  return userView(user);
}

export async function disableUser(ctx: AdminContext, email: string) {
  const now = ctx.clock();
  const user = await ctx.store.disableUser(checkEmail(email), now);
  // DESIGN §6: signed out everywhere, relying parties told by Back-Channel Logout.
  await ctx.store.endUserSessions(user.id, now);
  await audited(ctx, { type: 'user.disabled', userId: user.id });
  return userView(user);
}

async function userByEmail(ctx: AdminContext, email: string): Promise<User> {
  const user = await ctx.store.getUserByEmail(checkEmail(email));
  if (!user) throw new NotFoundError(`user ${email} not found`);
  return user;
}

/** The scopes the user allowed each `consent` client (DESIGN §6). */
export async function listConsents(ctx: AdminContext, email: string) {
  const user = await userByEmail(ctx, email);
  return (await ctx.store.listConsents(user.id)).map((c) => ({
    client_id: c.clientId,
    scopes: c.scopes,
    granted_at: iso(c.grantedAt),
  }));
}

/**
 * Withdraws the user's consent to a client and revokes that user's refresh families of the
 * client (their access tokens with them), so the grant the consent allowed ends now.
 */
export async function revokeConsent(ctx: AdminContext, email: string, clientId: string) {
  const user = await userByEmail(ctx, email);
  if (!(await ctx.store.deleteConsent(user.id, clientId)))
    throw new NotFoundError(`${email} has no consent for client ${clientId}`);
  const client = await ctx.store.getClient(clientId);
  const dialect = client && ctx.dialects.get(client.dialect);
  const families = await ctx.store.listUserRefreshFamilies(user.id, clientId);
  const now = ctx.clock();
  // The consent row goes with its client, so a consent found means the client exists.
  if (client && dialect)
    for (const f of families)
      await ctx.store.revokeRefreshFamily(
        f.familyId,
        now,
        familyRevocationExpiry(ctx, client, dialect, f.expiresAt),
      );
  await audited(ctx, { type: 'consent.revoked', userId: user.id, clientId });
  return { client_id: clientId, revoked: true, refresh_families_revoked: families.length };
}
