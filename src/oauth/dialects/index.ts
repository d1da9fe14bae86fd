import type { Config, CustomDialectConfig } from '../../config/options.js';
import type { GrantType } from '../../store/store.js';

/** The fields a token response can carry, by their RFC 6749 §5.1 names. */
export const RESPONSE_FIELDS = [
  'access_token',
  'token_type',
  'expires_in',
  'scope',
  'refresh_token',
] as const;
export type ResponseField = (typeof RESPONSE_FIELDS)[number];

/**
 * A wire dialect, as data: which response fields appear and under what names, how
 * `expires_in` is typed, what `scope` carries, and which request parameters are aliases.
 * No endpoint branches on a dialect's name; they all read these fields.
 */
export interface Dialect {
  readonly name: string;
  /** Wire name of each field, or `false` to leave it out. */
  readonly fields: Readonly<Record<ResponseField, string | false>>;
  readonly expiresIn: 'number' | 'string';
  readonly scopeValue: 'granted' | 'tenant';
  /** alias → RFC parameter name, applied to request parameters once the client is known. */
  readonly requestAliases: Readonly<Record<string, string>>;
  /** Default access-token lifetime for clients of this dialect (else the server default). */
  readonly accessTokenTtl: number | undefined;
  /** Grants a client of this dialect gets when created without `--grant`. */
  readonly defaultGrants: readonly GrantType[];
  /** The token request may send `redirect_uri` empty or not at all; the bound one is used. */
  readonly redirectUriOptional: boolean;
  /** OpenID Connect: an `openid` grant's response carries `id_token` (the standard dialect only). */
  readonly idTokens: boolean;
}

const RFC_FIELDS: Dialect['fields'] = {
  access_token: 'access_token',
  token_type: 'token_type',
  expires_in: 'expires_in',
  scope: 'scope',
  refresh_token: 'refresh_token',
};

const BASE: Omit<Dialect, 'name'> = {
  fields: RFC_FIELDS,
  expiresIn: 'number',
  scopeValue: 'granted',
  requestAliases: {},
  accessTokenTtl: undefined,
  defaultGrants: ['client_credentials'],
  redirectUriOptional: false,
  idTokens: false,
};

export const BUILTIN_DIALECTS: readonly Dialect[] = [
  { ...BASE, name: 'standard', idTokens: true },
  {
    // Cisco Spaces partner-app activation: exactly access_token, token_type, scope = tenant.
    // No expiry and no refresh token reach Spaces, so its tokens live long enough for the
    // App Info calls that follow activation (24 h by default).
    ...BASE,
    name: 'cisco-spaces',
    fields: { ...RFC_FIELDS, expires_in: false, refresh_token: false },
    scopeValue: 'tenant',
    accessTokenTtl: 86400,
    defaultGrants: ['authorization_code'],
    redirectUriOptional: true,
  },
  {
    // Bright Pattern: expires_in is a JSON string ("3599").
    ...BASE,
    name: 'bright-pattern',
    fields: { ...RFC_FIELDS, scope: false, refresh_token: false },
    expiresIn: 'string',
  },
  {
    // Setu: camelCase accessToken/refreshToken only; 15-minute access tokens.
    ...BASE,
    name: 'setu',
    fields: {
      access_token: 'accessToken',
      token_type: false,
      expires_in: false,
      scope: false,
      refresh_token: 'refreshToken',
    },
    requestAliases: { refreshToken: 'refresh_token' },
    accessTokenTtl: 900,
    defaultGrants: ['client_credentials', 'refresh_token'],
  },
];

function fromConfig(name: string, c: CustomDialectConfig): Dialect {
  return {
    name,
    fields: Object.fromEntries(
      RESPONSE_FIELDS.map((f) => [f, c.fields[f] ?? RFC_FIELDS[f]]),
    ) as Dialect['fields'],
    expiresIn: c.expiresIn,
    scopeValue: c.scopeValue,
    requestAliases: c.requestAliases,
    accessTokenTtl: c.accessTokenTtl,
    defaultGrants: c.defaultGrants ?? BASE.defaultGrants,
    redirectUriOptional: c.redirectUriOptional,
    idTokens: false,
  };
}

export interface DialectRegistry {
  get(name: string): Dialect | undefined;
  names(): string[];
}

export function createDialectRegistry(config: Pick<Config, 'dialects'>): DialectRegistry {
  const all = new Map(BUILTIN_DIALECTS.map((d) => [d.name, d]));
  for (const [name, spec] of Object.entries(config.dialects)) {
    if (all.has(name)) throw new Error(`dialect "${name}" is built in and cannot be redefined`);
    all.set(name, fromConfig(name, spec));
  }
  return { get: (name) => all.get(name), names: () => [...all.keys()] };
}

/** What a grant produced, before the dialect shapes it. */
export interface TokenResult {
  readonly accessToken: string;
  readonly expiresIn: number;
  /** Granted scope, space-separated, as the standard response echoes it. */
  readonly scope: string;
  readonly tenantId: string | null;
  readonly refreshToken?: string | undefined;
  /** Only for a dialect with `idTokens`. */
  readonly idToken?: string | undefined;
}

/** Shapes a token response for a dialect (RFC 6749 §5.1 for `standard`). */
export function renderTokenResponse(
  dialect: Dialect,
  r: TokenResult,
): Record<string, string | number> {
  const values: Record<ResponseField, string | number | undefined> = {
    access_token: r.accessToken,
    token_type: 'Bearer',
    expires_in: dialect.expiresIn === 'string' ? String(r.expiresIn) : r.expiresIn,
    scope: (dialect.scopeValue === 'tenant' ? r.tenantId : r.scope) || undefined,
    refresh_token: r.refreshToken,
  };
  const body: Record<string, string | number> = {};
  for (const field of RESPONSE_FIELDS) {
    const wire = dialect.fields[field];
    const value = values[field];
    if (wire !== false && value !== undefined) body[wire] = value;
  }
  if (r.idToken !== undefined) body['id_token'] = r.idToken;
  return body;
}

/**
 * Renames a dialect's request aliases to their RFC names. Sending both the alias and the
 * RFC name is ambiguous: `clash` names the pair and the caller refuses the request.
 */
export function applyRequestAliases(
  dialect: Dialect,
  params: Readonly<Record<string, string>>,
): { params: Readonly<Record<string, string>>; clash?: string } {
  if (Object.keys(dialect.requestAliases).length === 0) return { params };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    const rfcName = Object.hasOwn(dialect.requestAliases, name)
      ? dialect.requestAliases[name]
      : undefined;
    if (rfcName !== undefined && params[rfcName] !== undefined)
      return { params: out, clash: `${name} and ${rfcName}` };
    out[rfcName ?? name] = value;
  }
  return { params: out };
}
