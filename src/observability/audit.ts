import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuditEvent, Store } from '../store/store.js';
import { timeOrderedId } from '../store/uuid.js';

/** Every audit event type, with what it records. docs/operations.md lists the same. */
export const AUDIT_EVENT_TYPES = {
  'token.issued': 'a token response was sent (batched: see flushMs)',
  'token.refused':
    'the token endpoint refused a request; reason is the OAuth error and its description',
  'client.throttled': 'a (client_id, IP) pair or an IP went over its failed-authentication limit',
  'refresh.reused': 'a rotated refresh token was presented again; its family was revoked',
  'code.replayed': 'an authorization code was redeemed twice; its grant was revoked',
  'token.revoked': 'a client revoked a token (RFC 7009)',
  'revocation.refused':
    "a client presented another client's token for revocation; nothing was revoked (RFC 7009 §2.1)",
  'authorize.mismatch':
    'an authorization request named an unknown client or an unregistered redirect URI; the page said only which field, the reason holds what was sent and what is registered',
  'login.succeeded': 'a user signed in at the authorization endpoint',
  'login.failed': 'a sign-in failed (the reason says why; the page did not)',
  'login.locked':
    'an (account, IP) pair, an account or an IP went over its failed-login limit; the reason names which',
  'logout.refused':
    'an end-session request was refused (invalid hint, unknown client, unregistered post_logout_redirect_uri); nothing changed',
  'consent.granted': 'a user allowed a consent client the scopes listed in the reason',
  'consent.denied': 'a user denied a consent client; nothing was remembered',
  'consent.revoked':
    "a user's consent to a client was withdrawn and that user's refresh tokens of the client revoked",
  'backchannel.delivered':
    "a client's back-channel logout URI accepted a logout token (200 or 204)",
  'backchannel.failed':
    "a client's back-channel logout URI answered 400; the logout token is not sent again",
  'backchannel.given_up':
    'a logout token could not be delivered within an hour of the logout; the reason holds the last error',
  'launch.accepted': 'a Cisco Spaces launch token was accepted and a session opened',
  'launch.refused': 'a Cisco Spaces launch was refused',
  'client.created': 'a client was registered',
  'client.updated': 'a client was changed',
  'client.secret_rotated': "a client's secret was replaced",
  'client.deleted': 'a client was deleted',
  'key.rotated': 'a signing key was added by rotation',
  'tenant.created': 'a tenant was created',
  'tenant.updated': 'a tenant was changed',
  'user.created': 'a user was created',
  'user.password_set': "a user's password was replaced",
  'user.disabled': 'a user was disabled',
  'user.invited':
    'an operator invited a user (created without a password, or invited again); the reason says whether the link was mailed or printed',
  'user.reset_requested':
    "an operator asked for a user's password-reset link; the reason says whether it was mailed or printed",
  'password.reset_requested':
    'the forgot-password form was posted; the reason says whether a mail was queued or the per-address limit held it back (the page said neither)',
  'password.set':
    'a user set a password through an invitation (setup) or reset link: the address is verified, the other sessions ended and the refresh tokens revoked',
  'password.link_refused': 'an unknown, used or expired account link was posted; nothing changed',
  'mail.sent': 'an account mail (setup or reset link) was accepted by the SMTP server',
  'mail.dropped':
    'a queued account mail was not sent: no enabled account has the address, or the invitation was already accepted',
  'mail.given_up':
    'an account mail could not be sent within an hour of being queued; the reason holds the last error',
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENT_TYPES;

export type AuditInput = Omit<AuditEvent, 'id' | 'at' | 'type'> & { readonly type: AuditEventType };

/** Where a request came from, for the audit trail. */
export function requestOrigin(request: FastifyRequest): { ip: string; requestId: string } {
  return { ip: request.ip, requestId: request.id };
}

export interface AuditOptions {
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** How long a batched event may wait before it is written. */
  readonly flushMs?: number;
  /** A batch this large is written at once. */
  readonly maxBatch?: number;
}

/**
 * A field that may quote a caller's input: one bounded line, without the NUL bytes
 * PostgreSQL text refuses. (The test first: on the token endpoint's hot path the fields are
 * nearly always clean.)
 */
function clean(v: string | null | undefined, max: number): string | null {
  if (v == null) return null;
  return (/[\0\r\n]/.test(v) ? v.replace(/\0/g, '').replace(/[\r\n]+/g, ' ') : v).slice(0, max);
}

/**
 * The durable audit trail. Security events (`record`) are written before the caller goes
 * on, so a response never announces what the trail does not hold. High-volume "token issued"
 * events (`enqueue`) are written in batches off the request path: a crash loses at most the
 * events of the last `flushMs` (1 s) or `maxBatch` (100), whichever is smaller. Small batches
 * also keep the events young: held for a 500-event batch (~140 ms at 3,500 tokens/s) they
 * outlived two young-generation collections and made ~30% of what was promoted to the old
 * generation under load (bench/results/history.md).
 */
export class AuditTrail {
  private batch: AuditEvent[] = [];
  private readonly writing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly opts: AuditOptions,
  ) {
    this.flushMs = opts.flushMs ?? 1000;
    this.maxBatch = opts.maxBatch ?? 100;
  }

  private make(e: AuditInput): AuditEvent {
    const at = this.opts.now();
    // Every field named, in one order: each event has the same shape (no spread of the
    // caller's object), which keeps this hot-path allocation cheap.
    return {
      id: timeOrderedId(),
      at,
      type: e.type,
      tenantId: clean(e.tenantId, 128),
      clientId: clean(e.clientId, 128),
      userId: clean(e.userId, 128),
      ip: e.ip ?? null,
      requestId: clean(e.requestId, 128),
      reason: clean(e.reason, 500),
    };
  }

  async record(e: AuditInput): Promise<void> {
    await this.store.insertAuditEvents([this.make(e)]);
  }

  enqueue(e: AuditInput): void {
    this.batch.push(this.make(e));
    if (this.batch.length >= this.maxBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes the batch; resolves once every event enqueued so far is written (or logged lost). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const events = this.batch;
    this.batch = [];
    const write = this.store.insertAuditEvents(events).catch((err: unknown) => {
      this.logger.error({ err, lost: events.length }, 'could not write batched audit events');
    });
    // Batches started by a full batch are not awaited by whoever enqueued; a flush at
    // shutdown must still wait for them.
    this.writing.add(write);
    void write.finally(() => this.writing.delete(write));
    await Promise.all([...this.writing]);
  }
}
