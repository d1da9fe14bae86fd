import type { Logger } from 'pino';
import type { Config } from '../config/options.js';
import type { AuditTrail } from '../observability/audit.js';
import type { LogoutJob, Store } from '../store/store.js';
import type { Keystore, SigningAlg } from '../tokens/keystore.js';
import { LOGOUT_TOKEN_TTL, signLogoutToken } from '../tokens/logout-token.js';
import type { ClientCache } from './client-cache.js';
import { QueueWorker } from './queue-worker.js';

/** Back-Channel Logout 1.0 §2.8: a receiver that takes longer than this has failed the attempt. */
export const DELIVERY_TIMEOUT_MS = 5000;

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
 * Delivers queued logout tokens (a QueueWorker: every serve process runs one, looking every
 * `backchannelLogoutPollInterval` seconds); each attempt signs a fresh token.
 */
export class BackchannelLogoutWorker extends QueueWorker<LogoutJob> {
  constructor(private readonly deps: BackchannelDeps) {
    super(deps.config.backchannelLogoutPollInterval, deps.logger, 'back-channel logout');
  }

  protected claim(leaseSeconds: number, limit: number): Promise<LogoutJob[]> {
    return this.deps.store.claimLogoutJobs(this.deps.clock(), leaseSeconds, limit);
  }

  protected async attempt(job: LogoutJob): Promise<void> {
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
    await this.retryOrGiveUp(job, now, outcome.reason, {
      retry: (dueAt) => deps.store.retryLogoutJob(job, dueAt),
      giveUp: async (why) => {
        await deps.store.finishLogoutJob(job);
        await deps.audit.record({ type: 'backchannel.given_up', ...audit, reason: why });
      },
      log: { clientId: job.clientId },
    });
  }
}
