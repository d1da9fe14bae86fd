import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { AuditTrail } from '../observability/audit.js';
import type { LogoutJob, Store } from '../store/store.js';
import type { Keystore, SigningAlg } from '../tokens/keystore.js';
import { LOGOUT_TOKEN_TTL, signLogoutToken } from '../tokens/logout-token.js';
import type { ClientCache } from './client-cache.js';

/** Back-Channel Logout 1.0 §2.8: a receiver that takes longer than this has failed the attempt. */
export const DELIVERY_TIMEOUT_MS = 5000;
/** A claim outlives one attempt with room to spare; then another node may take the job. */
export const CLAIM_LEASE_SECONDS = 30;
/** DESIGN §6: a job is retried for an hour after it was queued, then given up. */
export const GIVE_UP_AFTER_SECONDS = 3600;
/** Retries wait 5 s, 10 s, 20 s … doubling up to this. */
export const MAX_BACKOFF_SECONDS = 300;
/** Jobs claimed per look at the queue; the rest wait for the next look (or another node). */
const CLAIM_BATCH = 20;

export interface BackchannelDeps {
  readonly config: Pick<Config, 'issuer' | 'backchannelLogoutPollInterval'>;
  readonly store: Pick<Store, 'claimLogoutJobs' | 'finishLogoutJob' | 'retryLogoutJob'>;
  readonly clients: Pick<ClientCache, 'get'>;
  readonly keystore: Pick<Keystore, 'idTokenKey'>;
  readonly audit: Pick<AuditTrail, 'record'>;
  /** Seconds since the epoch. */
  readonly clock: () => number;
  readonly logger: Logger;
}

/** How long after its `attempts`-th failed attempt a job waits. */
export function retryDelay(attempts: number): number {
  return Math.min(MAX_BACKOFF_SECONDS, 5 * 2 ** (attempts - 1));
}

type Outcome = { kind: 'delivered' } | { kind: 'refused' } | { kind: 'retry'; reason: string };

/**
 * One POST of a logout token (§2.5): form-encoded, redirects not followed (a 3xx is an
 * answer like any other, so it is retried), the body never read (only the status counts,
 * and a receiver may send any amount).
 */
async function post(uri: string, token: string, signal: AbortSignal): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    const reason = signal.aborted ? 'timed out' : (err as Error).message;
    return { kind: 'retry', reason };
  }
  await res.body?.cancel();
  if (res.status === 200 || res.status === 204) return { kind: 'delivered' };
  if (res.status === 400) return { kind: 'refused' };
  return { kind: 'retry', reason: `answered ${res.status}` };
}

/**
 * Delivers queued logout tokens. Every serve process runs one: it looks at the queue every
 * `backchannelLogoutPollInterval` seconds and claims due jobs (a lease, so any node may run a
 * job and a crashed node's claim lapses); each attempt signs a fresh token. Delivery is at
 * least once: a node that stops between the POST and the store's update sends it again.
 */
export class BackchannelLogoutWorker {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly deps: BackchannelDeps) {}

  start(): void {
    this.schedule();
  }

  /** Stops looking; an attempt under way is abandoned and its job released for another node. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(): void {
    if (this.stopping.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'back-channel logout failed'))
        .finally(() => {
          this.current = undefined;
          this.schedule();
        });
    }, this.deps.config.backchannelLogoutPollInterval * 1000);
    this.timer.unref();
  }

  /** One look at the queue: claims what is due and attempts each job once. */
  async runOnce(): Promise<void> {
    const jobs = await this.deps.store.claimLogoutJobs(
      this.deps.clock(),
      CLAIM_LEASE_SECONDS,
      CLAIM_BATCH,
    );
    await Promise.all(jobs.map((job) => this.attempt(job)));
  }

  private async attempt(job: LogoutJob): Promise<void> {
    const { deps } = this;
    const client = await deps.clients.get(job.clientId);
    const audit = { clientId: job.clientId, userId: job.subject };
    if (!client?.backchannelLogoutUri) {
      await deps.store.finishLogoutJob(job);
      await deps.audit.record({
        type: 'backchannel.failed',
        ...audit,
        reason: 'the client was deleted or no longer has a back-channel logout URI',
      });
      return;
    }
    const key = await deps.keystore.idTokenKey(client.idTokenAlg as SigningAlg, LOGOUT_TOKEN_TTL);
    const token = signLogoutToken(key, {
      iss: deps.config.issuer,
      aud: client.id,
      sub: job.subject,
      sid: job.sid,
      iat: deps.clock(),
    });
    const signal = AbortSignal.any([
      this.stopping.signal,
      AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    ]);
    const outcome = await post(client.backchannelLogoutUri, token, signal);
    const now = deps.clock();
    if (outcome.kind === 'delivered' || outcome.kind === 'refused') {
      await deps.store.finishLogoutJob(job);
      await deps.audit.record(
        outcome.kind === 'delivered'
          ? { type: 'backchannel.delivered', ...audit, reason: `attempt ${job.attempts}` }
          : { type: 'backchannel.failed', ...audit, reason: 'the receiver answered 400' },
      );
      return;
    }
    if (this.stopping.signal.aborted) {
      // Not the receiver's fault: due again at once, for whichever node looks next.
      await deps.store.retryLogoutJob(job, now);
      return;
    }
    const deadline = job.queuedAt + GIVE_UP_AFTER_SECONDS;
    if (now >= deadline) {
      await deps.store.finishLogoutJob(job);
      await deps.audit.record({
        type: 'backchannel.given_up',
        ...audit,
        reason: `after ${job.attempts} attempts; last: ${outcome.reason}`,
      });
      return;
    }
    deps.logger.info(
      { clientId: job.clientId, attempts: job.attempts, reason: outcome.reason },
      'back-channel logout will be retried',
    );
    await deps.store.retryLogoutJob(job, Math.min(now + retryDelay(job.attempts), deadline));
  }
}
