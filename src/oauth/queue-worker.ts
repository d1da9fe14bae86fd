import type { Logger } from 'pino';

/** A claim outlives one attempt with room to spare; then another node may take the job. */
export const CLAIM_LEASE_SECONDS = 30;
/** DESIGN §6, §7: a job is retried for an hour after it was queued, then given up. */
export const GIVE_UP_AFTER_SECONDS = 3600;
/** Retries wait 5 s, 10 s, 20 s … doubling up to this. */
export const MAX_BACKOFF_SECONDS = 300;
/** Jobs claimed per look at the queue; the rest wait for the next look (or another node). */
const CLAIM_BATCH = 20;

/** How long after its `attempts`-th failed attempt a job waits. */
export function retryDelay(attempts: number): number {
  return Math.min(MAX_BACKOFF_SECONDS, 5 * 2 ** (attempts - 1));
}

/** What a worker's queue holds of a claimed job (store.ts LogoutJob, MailJob). */
export interface QueuedJob {
  readonly queuedAt: number;
  readonly attempts: number;
}

/**
 * A worker that drains one of the store's queues (Back-Channel Logout's, the account mail's)
 * off the request path. Every serve process runs one of each: it looks every `pollSeconds`
 * and claims due jobs with a lease, so any node may run a job and a crashed node's claim
 * lapses. Delivery is at least once: a node that stops between sending and the store's update
 * sends again.
 */
export abstract class QueueWorker<J extends QueuedJob> {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  /** Aborted by `stop`: an attempt in flight gives up and releases its job. */
  protected readonly stopping = new AbortController();

  constructor(
    private readonly pollSeconds: number,
    protected readonly logger: Logger,
    private readonly what: string,
  ) {}

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
        .catch((err: unknown) => this.logger.warn({ err }, `${this.what} failed`))
        .finally(() => {
          this.current = undefined;
          this.schedule();
        });
    }, this.pollSeconds * 1000);
    this.timer.unref();
  }

  /** One look at the queue: claims what is due and attempts each job once. */
  async runOnce(): Promise<void> {
    const jobs = await this.claim(CLAIM_LEASE_SECONDS, CLAIM_BATCH);
    await Promise.all(jobs.map((job) => this.attempt(job)));
  }

  protected abstract claim(leaseSeconds: number, limit: number): Promise<J[]>;
  protected abstract attempt(job: J): Promise<void>;

  /**
   * After an attempt failed at `now` for `reason`: the job is due again at once when this node
   * is stopping (not the receiver's fault: whichever node looks next takes it), after the
   * backoff but never past its hour, or given up once that hour is over.
   */
  protected async retryOrGiveUp(
    job: J,
    now: number,
    reason: string,
    on: {
      readonly retry: (dueAt: number) => Promise<void>;
      readonly giveUp: (why: string) => Promise<void>;
      /** What the log line says about the job (never a secret). */
      readonly log: Readonly<Record<string, unknown>>;
    },
  ): Promise<void> {
    if (this.stopping.signal.aborted) return on.retry(now);
    const deadline = job.queuedAt + GIVE_UP_AFTER_SECONDS;
    if (now >= deadline) return on.giveUp(`after ${job.attempts} attempts; last: ${reason}`);
    this.logger.info({ ...on.log, attempts: job.attempts, reason }, `${this.what} will be retried`);
    return on.retry(Math.min(now + retryDelay(job.attempts), deadline));
  }
}
