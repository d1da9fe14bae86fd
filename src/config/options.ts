import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every configuration option, with its default and a one-line description.
 * This table is the single source: the loader validates against it, `--help` and
 * docs/configuration.md are kept in step with it (a test compares them).
 *
 * Each option has one name in three forms: flag `--foo-bar`, environment
 * `TESSERA_FOO_BAR`, key `fooBar` in tessera.config.json. `database` is the one
 * exception: its environment variable is `TESSERA_DATABASE_URL`.
 */

const seconds = z.coerce
  .number()
  .int()
  .min(1)
  .max(10 * 365 * 24 * 3600);
const flag = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);
const list = z.union([
  z.array(z.string().min(1)),
  z.string().transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ),
]);

/** proxy-addr's names for address ranges, which Fastify's `trustProxy` accepts beside addresses. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether `entry` is an IP address, a CIDR block or one of proxy-addr's range names. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `--trust-proxy HOPS|ADDRS`: how many proxies in front append to `X-Forwarded-For`, or their
 * addresses; `false` trusts none. The bare flag (`true`) is one hop: the one proxy in front.
 * Never "trust everything", which would make the left-most entry, the one the client
 * writes, its address.
 */
const trustProxy = z.unknown().transform((raw, ctx): false | number | readonly string[] => {
  const value = raw === 'true' ? true : raw === 'false' ? false : raw;
  if (value === true) return 1;
  if (value === false) return false;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text === 'string' && /^\d{1,3}$/.test(text.trim()))
    return Number(text) === 0 ? false : Number(text);
  const entries = Array.isArray(text)
    ? text
    : typeof text === 'string'
      ? text.split(',').map((s) => s.trim())
      : [];
  const bad = entries.find((e) => typeof e !== 'string' || !isProxyAddress(e));
  if (entries.length === 0 || bad !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(bad ?? value)} is neither a hop count nor a list of proxy addresses or CIDRs (e.g. 1, or 10.0.0.0/8,127.0.0.1)`,
    });
    return z.NEVER;
  }
  return entries as string[];
});

const dialectField = z.union([z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), z.literal(false)]);

/** A dialect declared in config: field renames, which fields, number or string expiry, request aliases. */
export const customDialectSchema = z
  .object({
    /** Response field names; `false` omits the field. Unnamed fields keep their RFC name. */
    fields: z
      .object({
        access_token: dialectField,
        token_type: dialectField,
        expires_in: dialectField,
        scope: dialectField,
        refresh_token: dialectField,
      })
      .partial()
      .strict()
      .default({}),
    expiresIn: z.enum(['number', 'string']).default('number'),
    /** What the `scope` field carries: the granted scopes, or the tenant id. */
    scopeValue: z.enum(['granted', 'tenant']).default('granted'),
    /** Request parameter aliases, alias → RFC name (e.g. `{"refreshToken": "refresh_token"}`). */
    requestAliases: z.record(z.string().min(1), z.string().min(1)).default({}),
    accessTokenTtl: seconds.optional(),
    /** Grants a new client of this dialect gets when none are given. */
    defaultGrants: z
      .array(z.enum(['client_credentials', 'refresh_token', 'authorization_code']))
      .optional(),
    /** The token request may omit `redirect_uri` or send it empty (the bound one is used). */
    redirectUriOptional: z.boolean().default(false),
  })
  .strict();

export type CustomDialectConfig = z.infer<typeof customDialectSchema>;

export const optionSchemas = {
  database: {
    schema: z
      .string()
      .regex(/^(sqlite:|postgres:|postgresql:)/, 'must start with sqlite: or postgres://'),
    default: 'sqlite:./data/tessera.db',
    env: 'TESSERA_DATABASE_URL',
    doc: 'Store URL: `sqlite:<path>` (embedded, default) or `postgres://…`.',
  },
  poolSize: {
    schema: z.coerce.number().int().min(1).max(1000),
    default: 10,
    doc: "PostgreSQL connections per process (each `--workers` process has its own pool); keep pool size × processes × nodes within the server's `max_connections`. Ignored for SQLite.",
  },
  port: {
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8080,
    doc: 'TCP port to listen on (0 picks a free port).',
  },
  host: { schema: z.string().min(1), default: '127.0.0.1', doc: 'Address to bind.' },
  issuer: {
    schema: z.string().url().optional(),
    default: undefined,
    doc: 'Issuer URL (`iss`). Default: `http://<host>:<port>`, or `https://` when serving TLS (`tlsCert`). `http://` only for loopback hosts.',
  },
  workers: {
    schema: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]),
    default: 1 as number | 'auto',
    doc: 'Worker processes sharing the port (node:cluster); `auto` = one per CPU core.',
  },
  tlsCert: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'PEM certificate file: serve HTTPS directly (else put a TLS-terminating proxy in front).',
  },
  tlsKey: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'PEM private key file for `tlsCert`.',
  },
  metricsPort: {
    schema: z.coerce.number().int().min(0).max(65535).optional(),
    default: undefined,
    doc: 'Serve `/metrics` on this port (same host) instead of the main port, e.g. to keep it off the public listener.',
  },
  trustProxy: {
    schema: trustProxy,
    default: false as false | number | readonly string[],
    doc: 'The proxies in front whose `X-Forwarded-For` entries are trusted: a hop count (`1`, also the bare flag) or a comma-separated list of their addresses or CIDRs (`10.0.0.0/8,127.0.0.1`). The client address is the right-most untrusted entry. Default: none, the peer is the client.',
  },
  headersTimeout: {
    schema: z.coerce.number().min(0.1).max(600),
    default: 20,
    doc: "Seconds a connection has to send a request's headers (a slow client is answered 408 and disconnected); at most `requestTimeout`.",
  },
  requestTimeout: {
    schema: z.coerce.number().min(0.1).max(600),
    default: 30,
    doc: 'Seconds a client has to send a whole request, headers and body.',
  },
  keepAliveTimeout: {
    schema: z.coerce.number().min(0.1).max(600),
    default: 5,
    doc: "Seconds an idle kept-alive connection stays open; put it above a load balancer's own idle timeout.",
  },
  shutdownGrace: {
    schema: z.coerce.number().min(0).max(600),
    default: 5,
    doc: 'Seconds after SIGTERM during which `/readyz` answers 503 while every other request is still served, so a load balancer takes the node out of rotation; then the node stops accepting connections and finishes the requests in flight.',
  },
  migrate: {
    schema: flag,
    default: true,
    doc: '`serve` applies pending migrations at start (`--no-migrate` to skip).',
  },
  demo: {
    schema: flag,
    default: false,
    doc: '`serve` seeds a demo tenant, user and one client per dialect into an empty database.',
  },
  masterKey: {
    schema: z
      .string()
      .refine(
        (v) => Buffer.from(v, 'base64').length === 32,
        'must be 32 bytes in base64 (openssl rand -base64 32)',
      )
      .optional(),
    default: undefined,
    doc: 'Master key, 32 random bytes in base64. With SQLite and none set, one is generated next to the database file (mode 0600).',
  },
  masterKeyFile: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'A file holding the master key (mode 0600; `tessera init` writes one), instead of `masterKey`; setting both is an error.',
  },
  signingAlg: {
    schema: z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']),
    default: 'RS256' as const,
    doc: 'Algorithm of the first signing key and of `key rotate` without `--alg`.',
  },
  keyPublishAhead: {
    schema: z.coerce.number().int().min(0),
    default: 3600,
    doc: 'Seconds a rotated key is published in the JWKS before it signs (resource servers cache JWKS).',
  },
  keyRotationDays: {
    schema: z.coerce.number().int().min(1),
    default: 90,
    doc: '`tessera doctor` warns when the newest signing key is older than this many days (rotate with `tessera key rotate`).',
  },
  audience: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Default `aud` of access tokens. Default: the issuer. Clients may override.',
  },
  accessTokenTtl: {
    schema: seconds,
    default: 3600,
    doc: 'Default access-token lifetime, seconds (a dialect or client may override).',
  },
  refreshTokenTtl: {
    schema: seconds,
    default: 2592000,
    doc: 'Absolute refresh-token family lifetime, seconds (30 days); a client may override.',
  },
  refreshTokenIdleTtl: {
    schema: seconds,
    default: 1209600,
    doc: 'A refresh token unused this many seconds expires (14 days).',
  },
  codeTtl: {
    schema: seconds,
    default: 300,
    doc: 'Authorization-code lifetime, seconds.',
  },
  idTokenTtl: {
    schema: seconds,
    default: 3600,
    doc: 'OpenID Connect ID Token lifetime, seconds (its `exp`).',
  },
  sessionTtl: {
    schema: seconds,
    default: 28800,
    doc: 'Browser login session lifetime, seconds (8 h): a second authorization in that time skips the password.',
  },
  spacesLaunchAllowedBaseUrls: {
    schema: list,
    default: [
      'https://dnaspaces.io',
      'https://dnaspaces.eu',
      'https://partners.dnaspaces.io',
      'https://partners.dnaspaces.eu',
    ],
    doc: 'Cisco Spaces `baseUrl`s a launch token may name; its public key is fetched only from these. http only for loopback, and only when listed explicitly.',
  },
  throttleWindow: {
    schema: seconds,
    default: 900,
    doc: 'Window, seconds, over which failed client authentications and logins are counted; a caller over a hard limit waits until it ends.',
  },
  clientAuthFailureLimit: {
    schema: z.coerce.number().int().min(1),
    default: 10,
    doc: 'Failed client authentications per (client_id, IP) in a window before that pair is refused (401 + `Retry-After`).',
  },
  clientAuthIpFailureLimit: {
    schema: z.coerce.number().int().min(1),
    default: 100,
    doc: 'Failed client authentications per IP, any client, in a window before that IP is refused.',
  },
  loginFailureLimit: {
    schema: z.coerce.number().int().min(1),
    default: 5,
    doc: 'Failed logins per (account, IP) in a window before that IP is locked out of that account (the email as typed) until the window ends; the account stays open to other addresses.',
  },
  loginAccountFailureLimit: {
    schema: z.coerce.number().int().min(1),
    default: 10,
    doc: 'Failed logins per account, from any IP, in a window after which every attempt on it must wait: 1 s, doubling with each further failure up to `loginMaxWait`.',
  },
  loginMaxWait: {
    schema: z.coerce.number().int().min(1).max(3600),
    default: 60,
    doc: 'Cap, seconds, on the per-account wait of `loginAccountFailureLimit`: the owner at another address is kept waiting at most this long after the last failure.',
  },
  loginIpFailureLimit: {
    schema: z.coerce.number().int().min(1),
    default: 50,
    doc: 'Failed logins per IP in a window before that IP is locked out of the login form.',
  },
  auditRetentionDays: {
    schema: z.coerce.number().int().min(1),
    default: 90,
    doc: 'Audit events older than this many days are deleted by the periodic sweep.',
  },
  backchannelLogoutPollInterval: {
    schema: z.coerce.number().min(0.05).max(300),
    default: 5,
    doc: 'Seconds between two looks of the Back-Channel Logout worker at its queue (every serve process runs one).',
  },
  smtpUrl: {
    schema: z
      .string()
      .url()
      .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
      .optional(),
    default: undefined,
    doc: 'SMTP server for account mail (invitations, password reset), credentials in the URL: `smtps://user:pass@mail.example:465` or `smtp://…:587` (STARTTLS required unless the host is loopback). A secret: environment or config file, no `serve` flag. Unset: links are printed by the CLI and "Forgot password?" is hidden.',
  },
  mailFrom: {
    schema: z.string().min(3).max(320).optional(),
    default: undefined,
    doc: 'From header of account mail. Default: `Tessera <no-reply@ISSUER-HOST>`.',
  },
  inviteTtl: {
    schema: seconds,
    default: 604800,
    doc: 'Seconds an invitation link (`user invite`) stays valid (7 days).',
  },
  passwordResetTtl: {
    schema: seconds,
    default: 1800,
    doc: 'Seconds a password-reset link stays valid.',
  },
  mailPollInterval: {
    schema: z.coerce.number().min(0.05).max(300),
    default: 2,
    doc: 'Seconds between two looks of the mail worker at the outbox (every serve process runs one).',
  },
  forgotPasswordLimit: {
    schema: z.coerce.number().int().min(1),
    default: 3,
    doc: 'Reset mails per account (the email as typed) in a `throttleWindow`; further requests get the same answer and send nothing.',
  },
  forgotPasswordIpLimit: {
    schema: z.coerce.number().int().min(1),
    default: 20,
    doc: 'Forgot-password requests per IP in a `throttleWindow` before that IP is answered 429.',
  },
  tokenEndpointAliases: {
    schema: list,
    default: ['/auth/token', '/configapi/v2/oauth/token'],
    doc: 'Extra paths that answer as the token endpoint (comma-separated in env/flag; empty for none).',
  },
  clientCacheTtl: {
    schema: z.coerce.number().min(0).max(300),
    default: 5,
    doc: 'Seconds a client read from the store is cached; bounds how long a deleted client or rotated secret keeps working on a running node.',
  },
  keyCacheTtl: {
    schema: z.coerce.number().min(0).max(300),
    default: 5,
    doc: 'Seconds the signing-key set is cached before the store is polled for rotations.',
  },
  staleIfError: {
    schema: z.coerce.number().min(0).max(3600),
    default: 300,
    doc: 'While the database is unreachable, cached clients and keys stay usable this many seconds past their cache TTL, so recently seen clients keep getting client_credentials tokens (0 to turn off).',
  },
  userinfoScope: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Scope a token must hold to read `/oauth/userinfo` (403 `insufficient_scope` otherwise). Default: none.',
  },
  dialects: {
    schema: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/), customDialectSchema),
    default: {},
    doc: 'Custom response dialects (config file only): `{"name": {fields, expiresIn, scopeValue, requestAliases, accessTokenTtl}}`.',
  },
  logLevel: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info' as const,
    doc: 'Log level (logs are JSON on stderr).',
  },
} as const;

export type OptionName = keyof typeof optionSchemas;
export type Config = {
  readonly [K in OptionName]: z.output<(typeof optionSchemas)[K]['schema']>;
} & { readonly issuer: string; readonly audience: string };

/**
 * Options with no `serve` flag: the master key and the SMTP URL are secrets (never an
 * argument, where `ps` and shell history show it), dialects are structured (config file only), and the database
 * is the global `--database` flag of every command.
 */
export const NO_SERVE_FLAG: readonly OptionName[] = [
  'database',
  'masterKey',
  'smtpUrl',
  'dialects',
];

/** `fooBar` → `TESSERA_FOO_BAR`. */
export function envName(name: OptionName): string {
  const spec = optionSchemas[name];
  if ('env' in spec) return spec.env;
  return `TESSERA_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** `fooBar` → `--foo-bar`. */
export function flagName(name: OptionName): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
