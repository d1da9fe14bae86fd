import { isIP } from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from '../../config/options.js';
import type { AuditTrail } from '../../observability/audit.js';
import type { Metrics } from '../../observability/metrics.js';
import type { MailJob, Store, User } from '../../store/store.js';
import type { Crypto } from '../../tokens/master-key.js';
import { type MailBrand, accountMail } from '../../views/mail.js';
import { messages } from '../../views/messages/index.js';
import { BRANDING_PATHS } from '../../branding/service.js';
import { QueueWorker } from '../queue-worker.js';
import { issueAccountLink, linkTtl } from './links.js';

/** A server slower than this, at any step, has failed the attempt (it is retried). */
const SMTP_TIMEOUT_MS = 10_000;

export interface MailDeps {
  readonly config: Pick<
    Config,
    'issuer' | 'smtpUrl' | 'mailFrom' | 'mailPollInterval' | 'inviteTtl' | 'passwordResetTtl'
  >;
  readonly store: Pick<
    Store,
    | 'claimMailJobs'
    | 'finishMailJob'
    | 'retryMailJob'
    | 'getUser'
    | 'getUserByEmail'
    | 'getBranding'
    | 'createAccountLink'
  >;
  readonly crypto: Pick<Crypto, 'hashSecret'>;
  readonly audit: Pick<AuditTrail, 'record'>;
  readonly metrics: Pick<Metrics, 'mails'>;
  /** Seconds since the epoch. */
  readonly clock: () => number;
  readonly logger: Logger;
}

/** What the worker needs of nodemailer: one message at a time. */
export type MailTransport = Pick<Transporter, 'sendMail'>;

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || (isIP(bare) !== 0 && /^(127\.|::1$)/.test(bare));
}

/**
 * The SMTP transport for `smtpUrl` (DESIGN §7): `smtps://` is TLS from the first byte;
 * `smtp://` to any host but loopback must upgrade with STARTTLS or the send fails, so
 * credentials and links never cross a network in clear. Certificates are verified.
 */
export function smtpTransport(smtpUrl: string): MailTransport {
  const url = new URL(smtpUrl);
  return nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (url.protocol === 'smtps:' ? 465 : 587) : Number(url.port),
    secure: url.protocol === 'smtps:',
    requireTLS: url.protocol === 'smtp:' && !isLoopback(url.hostname),
    auth:
      url.username === ''
        ? undefined
        : { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
}

/** `mailFrom`, or `Tessera <no-reply@ISSUER-HOST>`. */
export function mailFrom(config: Pick<Config, 'issuer' | 'mailFrom'>): string {
  return config.mailFrom ?? `Tessera <no-reply@${new URL(config.issuer).hostname}>`;
}

/** The user's first tenant's branding (a mail has no client to take it from). */
async function mailBrand(deps: MailDeps, user: User): Promise<MailBrand> {
  const tenant = user.tenants[0];
  const b = tenant === undefined ? undefined : await deps.store.getBranding('tenant', tenant);
  return {
    name: b?.productName ?? messages.defaultProductName,
    logoUrl: b?.logoBase64 ? `${deps.config.issuer}${BRANDING_PATHS.logo(b)}` : undefined,
    color: b?.color ?? undefined,
  };
}

/**
 * Sends the outbox's account mail (a QueueWorker: every serve process with `smtpUrl` runs
 * one). The job names who and why; the recipient is the address stored on the account, and
 * the link is made just before the send. A forgot-password request for an address with no
 * enabled account, or an invitation someone already accepted, is dropped, audited.
 */
export class MailWorker extends QueueWorker<MailJob> {
  constructor(
    private readonly deps: MailDeps,
    private readonly transport: MailTransport,
  ) {
    super(deps.config.mailPollInterval, deps.logger, 'account mail');
  }

  protected claim(leaseSeconds: number, limit: number): Promise<MailJob[]> {
    return this.deps.store.claimMailJobs(this.deps.clock(), leaseSeconds, limit);
  }

  private async recipient(job: MailJob): Promise<User | string> {
    const user = await (job.userId === null
      ? this.deps.store.getUserByEmail(job.address)
      : this.deps.store.getUser(job.userId));
    if (!user) return 'no account with this address';
    if (user.disabledAt !== null) return 'the account is disabled';
    if (job.purpose === 'setup' && user.passwordHash !== '')
      return 'the invitation was accepted already';
    return user;
  }

  protected async attempt(job: MailJob): Promise<void> {
    const { deps } = this;
    const user = await this.recipient(job);
    if (typeof user === 'string') {
      await deps.store.finishMailJob(job);
      deps.metrics.mails.inc({ purpose: job.purpose, outcome: 'dropped' });
      await deps.audit.record({
        type: 'mail.dropped',
        userId: job.userId,
        reason: `${job.purpose}: ${user}`,
      });
      return;
    }
    const mail = accountMail({
      purpose: job.purpose,
      email: user.email,
      link: await issueAccountLink(deps, user.id, job.purpose),
      ttl: linkTtl(deps.config, job.purpose),
      brand: await mailBrand(deps, user),
    });
    try {
      await this.transport.sendMail({
        from: mailFrom(deps.config),
        to: user.email,
        ...mail,
        signal: this.stopping.signal,
      });
    } catch (err) {
      const reason = (err as Error).message;
      deps.metrics.mails.inc({ purpose: job.purpose, outcome: 'failed' });
      await this.retryOrGiveUp(job, deps.clock(), reason, {
        retry: (dueAt) => deps.store.retryMailJob(job, dueAt),
        giveUp: async (why) => {
          await deps.store.finishMailJob(job);
          await deps.audit.record({ type: 'mail.given_up', userId: user.id, reason: why });
        },
        log: { userId: user.id, purpose: job.purpose },
      });
      return;
    }
    await deps.store.finishMailJob(job);
    deps.metrics.mails.inc({ purpose: job.purpose, outcome: 'sent' });
    await deps.audit.record({
      type: 'mail.sent',
      userId: user.id,
      reason: `${job.purpose}, attempt ${job.attempts}`,
    });
  }
}
