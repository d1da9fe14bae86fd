import { randomUUID } from 'node:crypto';
import { PASSWORD_MAX, PASSWORD_MIN, hashPassword, passwordProblem } from '../oauth/password.js';
import { familyRevocationExpiry } from '../oauth/token/issue.js';
import { issueAccountLink } from '../oauth/account/links.js';
import {
  type AccountLinkPurpose,
  ConflictError,
  NotFoundError,
  type User,
} from '../store/store.js';
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
    /** False for an invited user who has not set a password yet. */
    password_set: u.passwordHash !== '',
    email_verified: u.emailVerified,
    created_at: iso(u.createdAt),
  };
}

/** The new password's hash, refused with the operator's wording when the rule says no. */
async function checkedHash(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem === 'short')
    throw new ValidationError(`a password needs at least ${PASSWORD_MIN} characters`);
  if (problem === 'long')
    throw new ValidationError(`a password may have at most ${PASSWORD_MAX} characters`);
  return hashPassword(password);
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
    passwordHash: await checkedHash(input.password),
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
  const user = await ctx.store.setUserPassword(checkEmail(email), await checkedHash(password));
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

/**
 * A setup or reset link for the user (DESIGN §7): printed (returned as `link`) with
 * `printLink` or when no `smtpUrl` is set, else queued for the mail worker, which makes the
 * link when it sends. Either way the user's older links are void once the new one exists.
 */
async function deliverLink(
  ctx: AdminContext,
  user: User,
  purpose: AccountLinkPurpose,
  printLink: boolean,
): Promise<{ mailed: boolean; link?: string }> {
  if (printLink || ctx.config.smtpUrl === undefined)
    return { mailed: false, link: await issueAccountLink(ctx, user.id, purpose) };
  await ctx.store.queueMail({
    id: randomUUID(),
    purpose,
    userId: user.id,
    address: user.email,
    queuedAt: ctx.clock(),
  });
  return { mailed: true };
}

/**
 * Creates a user without a password and sends (or prints) a setup link; for a user who was
 * invited and has not set a password yet, sends a new link and leaves the account as it is.
 */
export async function inviteUser(
  ctx: AdminContext,
  input: {
    email: string;
    name?: string | undefined;
    tenants: readonly string[];
    printLink?: boolean | undefined;
  },
) {
  const email = checkEmail(input.email);
  let user = await ctx.store.getUserByEmail(email);
  if (user?.disabledAt != null) throw new ConflictError(`user ${email} is disabled`);
  if (user && user.passwordHash !== '')
    throw new ConflictError(
      `user ${email} has set a password already; send a reset link with user reset-password`,
    );
  if (!user) {
    if (input.tenants.length === 0)
      throw new ValidationError('a user belongs to at least one --tenant');
    await checkTenantsExist(ctx, input.tenants);
    const now = ctx.clock();
    const created: Omit<User, 'tenants'> = {
      id: randomUUID(),
      email,
      name: input.name?.trim() || null,
      passwordHash: '',
      disabledAt: null,
      createdAt: now,
      updatedAt: now,
      emailVerified: false,
    };
    await ctx.store.createUser(created, input.tenants);
    user = { ...created, tenants: [...input.tenants].sort() };
  }
  const sent = await deliverLink(ctx, user, 'setup', input.printLink === true);
  await audited(ctx, {
    type: 'user.invited',
    userId: user.id,
    reason: sent.mailed ? 'setup link queued for mail' : 'setup link printed',
  });
  return { ...userView(user), ...sent };
}

/** Sends (or prints) a password-reset link for an enabled user. */
export async function resetPasswordLink(
  ctx: AdminContext,
  email: string,
  printLink?: boolean | undefined,
) {
  const user = await userByEmail(ctx, email);
  if (user.disabledAt !== null) throw new ConflictError(`user ${user.email} is disabled`);
  const sent = await deliverLink(ctx, user, 'reset', printLink === true);
  await audited(ctx, {
    type: 'user.reset_requested',
    userId: user.id,
    reason: sent.mailed ? 'reset link queued for mail' : 'reset link printed',
  });
  return { ...userView(user), ...sent };
}
