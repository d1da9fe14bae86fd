import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * JSON logs on stderr (stdout belongs to command results), pretty-printed when stderr is a
 * terminal. Credentials never reach a log:
 * request logging records method, path (no query string, which can carry codes) and status,
 * and these paths are redacted wherever they appear.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.client_secret',
          '*.password',
          '*.refresh_token',
          '*.access_token',
          '*.code',
          '*.token',
          '*.password_confirm',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method: string; url: string; ip?: string; id?: string }) => ({
          method: req.method,
          path: req.url.split('?')[0],
          ip: req.ip,
        }),
      },
    },
    // A person at a terminal reads lines; everything else (files, pipes, log shippers) gets JSON.
    process.stderr.isTTY
      ? pretty({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l' })
      : pino.destination(2),
  );
}
