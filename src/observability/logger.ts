import pino, { type Logger } from 'pino';

/**
 * JSON logs on stderr (stdout belongs to command results). Credentials never reach a log:
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
    pino.destination(2),
  );
}
