/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps every message it
 * accepts, parsed by mailparser, for tests of Tessera's account mail. It can be stopped and
 * started again on the same port, as a mail server that is down for a while.
 */
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface MailCatcher {
  /** `smtp://127.0.0.1:<port>`: Tessera's `smtpUrl`. */
  readonly url: string;
  readonly received: Received[];
  /** The next message accepted from now on (or already waiting, unread). */
  next(timeoutMs?: number): Promise<Received>;
  /** Stops listening (once; a second call does nothing). */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop`. */
  start(): Promise<void>;
}

function address(value: ParsedMail['from'] | ParsedMail['to']): string {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.map((a) => a.text).join(', ');
}

/** Starts the server on `host` (loopback unless a test needs another address). */
export async function startMailCatcher(
  options: { host?: string; disabledCommands?: string[] } = {},
): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const received: Received[] = [];
  let read = 0;
  let waiting: (() => void)[] = [];
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: options.disabledCommands ?? ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((mail) => {
            received.push({
              from: address(mail.from),
              to: address(mail.to),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
            });
            const w = waiting;
            waiting = [];
            for (const wake of w) wake();
            callback();
          })
          .catch((err: Error) => callback(err));
      },
    });
  let server = make();
  let running = false;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : port);
      });
    });
  const port = await listen(0);
  running = true;
  return {
    url: `smtp://${host}:${port}`,
    received,
    async next(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (read >= received.length) {
        if (Date.now() > deadline) throw new Error('no mail arrived');
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          setTimeout(resolve, 100).unref();
        });
      }
      return received[read++] as Received;
    },
    async stop() {
      if (!running) return;
      running = false;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async start() {
      server = make();
      await listen(port);
      running = true;
    },
  };
}

/** The one link to Tessera's account pages in a text, asserting there is exactly one. */
export function linkIn(text: string): URL {
  const links = text.match(/https?:\/\/[^\s"<>]+\/account\/(?:setup|reset)\?token=[A-Za-z0-9_-]+/g);
  if (links?.length !== 1)
    throw new Error(`expected one account link, found ${links?.length ?? 0}`);
  return new URL(links[0] as string);
}
