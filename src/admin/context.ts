import type { Config } from '../config/options.js';
import type { DialectRegistry } from '../oauth/dialects/index.js';
import type { AuditInput, AuditTrail } from '../observability/audit.js';
import type { Store } from '../store/store.js';
import type { Crypto } from '../tokens/master-key.js';

/**
 * What the management services need, declared here so that they depend on nothing above
 * them; the CLI and the admin API both provide it.
 */
export interface AdminContext {
  readonly store: Store;
  readonly crypto: Crypto;
  /** Seconds since the epoch. */
  readonly clock: () => number;
  readonly config: Pick<
    Config,
    | 'signingAlg'
    | 'keyPublishAhead'
    | 'accessTokenTtl'
    | 'idTokenTtl'
    | 'issuer'
    | 'smtpUrl'
    | 'inviteTtl'
    | 'passwordResetTtl'
  >;
  readonly dialects: DialectRegistry;
  readonly audit: Pick<AuditTrail, 'record'>;
  /** Where an admin API change came from (the CLI has none), for the audit trail. */
  readonly origin?: { readonly ip: string; readonly requestId: string };
}

/** Records a management change in the audit trail, durably, once it has been made. */
export function audited(ctx: AdminContext, event: AuditInput): Promise<void> {
  return ctx.audit.record({ reason: 'management change', ...ctx.origin, ...event });
}

/** A request the service refuses, with a message meant for the operator. */
export class ValidationError extends Error {
  override name = 'ValidationError';
}

export function iso(seconds: number | null): string | null {
  return seconds === null ? null : new Date(seconds * 1000).toISOString();
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,127}$/;

export function checkId(what: string, value: string): string {
  if (!ID.test(value))
    throw new ValidationError(
      `${what} must be 1-128 characters of A-Z a-z 0-9 . _ : ~ - (got "${value}")`,
    );
  return value;
}

export function checkEmail(value: string): string {
  const email = value.trim().toLowerCase();
  // No control characters either: PostgreSQL text cannot hold NUL, and no mailbox has one.
  if (!/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(email) || email.length > 254) {
    throw new ValidationError(`"${value}" is not an email address`);
  }
  return email;
}

export function checkDomain(value: string): string {
  const domain = value.trim().toLowerCase();
  if (
    !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(
      domain,
    )
  ) {
    throw new ValidationError(`"${value}" is not a host name`);
  }
  return domain;
}

/** An absolute https URL (or http on a loopback host, for development), no fragment. */
export function checkUrl(what: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(`${what} "${value}" is not an absolute URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ValidationError(`${what} "${value}" must use https (http only on localhost)`);
  }
  if (url.hash) throw new ValidationError(`${what} "${value}" must not have a fragment`);
  return value;
}

export function checkSeconds(what: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > 10 * 365 * 86400) {
    throw new ValidationError(`${what} must be a whole number of seconds between 1 and ten years`);
  }
  return value;
}

/**
 * Every tenant named exists. The store would refuse the write anyway, but without saying
 * which reference was missing; the operator gets the id.
 */
export async function checkTenantsExist(ctx: AdminContext, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    if (!(await ctx.store.getTenant(id))) throw new ValidationError(`tenant ${id} not found`);
  }
}
