/**
 * The token endpoint (RFC 6749 §3.2) at `/oauth/token` and at each configured alias: one
 * request schema per grant, from the grants' own required parameters and the dialects'
 * aliases, and one success schema per dialect, from the same data that renders it.
 */
import type { Config } from '../config/options.js';
import { type Dialect, createDialectRegistry } from '../oauth/dialects/index.js';
import { GRANTS } from '../oauth/token/grants/index.js';
import { GRANT_TYPES, type GrantType } from '../store/store.js';
import { BODY_LIMIT } from '../http/params.js';
import {
  type Area,
  type Schema,
  CLIENT_AUTH,
  CLIENT_FAILURES,
  errorResponse,
  formOrJson,
  json,
  object,
  ok,
  operation,
  ref,
  requestBody,
  response,
  string,
} from './build.js';

/**
 * The optional parameters of each grant (its required ones come from the grant itself). A
 * `Record` over every grant type, so a new grant cannot be left out of the document.
 */
const GRANT_PARAMETERS: Readonly<Record<GrantType, Readonly<Record<string, Schema>>>> = {
  client_credentials: {
    scope: string(
      'Space-separated. One entry may name a tenant the client is bound to (by id or domain); the others must be among the client’s scopes. Default: all of them.',
    ),
    tenant: string('Names the tenant instead of a `scope` entry (by id or domain).'),
    resource: string('RFC 8707: must be the client’s audience.'),
  },
  authorization_code: {
    code: string('The code from the authorization redirect (single use, 300 s by default).'),
    redirect_uri: string(
      'Identical to the one the code was issued for. A client whose dialect allows it (cisco-spaces) may send "" or leave it out.',
    ),
    state: string('If sent, equal to the `state` of the authorization request.'),
    code_verifier: string('RFC 7636 verifier, when the code was issued with a challenge.'),
    resource: string('RFC 8707: must be the client’s audience.'),
  },
  refresh_token: {
    refresh_token: string('The refresh token; rotated on every use.'),
    scope: string('A subset of the original grant’s scopes (narrows this access token only).'),
    resource: string('RFC 8707: must be the audience of the grant.'),
  },
};

/** The client authentication parameters of `client_secret_post` (and of public clients). */
export const CLIENT_AUTH_PARAMETERS: Readonly<Record<string, Schema>> = {
  client_id: string(
    'Client id, for `client_secret_post` and public clients; with Basic, if sent it must equal the Basic id.',
  ),
  client_secret: string(
    '`client_secret_post`: the secret in the body. Never together with an `Authorization: Basic` header.',
  ),
};

/** Alias → RFC name, over every configured dialect (e.g. setu's `refreshToken`). */
function requestAliases(dialects: readonly Dialect[]): Map<string, { rfc: string; by: string[] }> {
  const out = new Map<string, { rfc: string; by: string[] }>();
  for (const d of dialects) {
    for (const [alias, rfc] of Object.entries(d.requestAliases)) {
      const entry = out.get(alias) ?? { rfc, by: [] };
      entry.by.push(d.name);
      out.set(alias, entry);
    }
  }
  return out;
}

/** One `grant_type`'s request: its parameters, dialect aliases for them, and what is required. */
function grantRequest(grantType: GrantType, dialects: readonly Dialect[]): Schema {
  const own = GRANT_PARAMETERS[grantType];
  const properties: Record<string, Schema> = {
    grant_type: { const: grantType },
    ...CLIENT_AUTH_PARAMETERS,
    ...own,
  };
  const aliases = [...requestAliases(dialects)].filter(([, a]) => a.rfc in own);
  for (const [alias, { rfc, by }] of aliases) {
    properties[alias] = string(`Alias of \`${rfc}\` for clients of the ${by.join(', ')} dialect.`);
  }
  // A required parameter may be sent under any of its aliases instead.
  const namesFor = (rfc: string) => [
    rfc,
    ...aliases.filter(([, a]) => a.rfc === rfc).map(([n]) => n),
  ];
  const required = GRANTS.get(grantType)?.parameters ?? [];
  const alternatives = required
    .map(namesFor)
    .filter((names) => names.length > 1)
    .map((names) => ({ anyOf: names.map((n) => ({ required: [n] })) }));
  return {
    type: 'object',
    properties,
    required: ['grant_type', ...required.filter((r) => namesFor(r).length === 1)],
    ...(alternatives.length > 0 && { allOf: alternatives }),
    // Unknown parameters are ignored (RFC 6749 §3.2); every value is a string.
    additionalProperties: { type: 'string' },
  };
}

/** `TokenResponse.<dialect>` is the component name of each dialect's success body. */
export const tokenResponseName = (dialect: string) => `TokenResponse.${dialect}`;

/** A dialect's success body, from the same data that renders it (src/oauth/dialects). */
function dialectResponse(d: Dialect): Schema {
  const scope =
    d.scopeValue === 'tenant'
      ? 'The tenant id (for Cisco Spaces, the partnerTenantId); absent when the token has no tenant.'
      : 'The granted scope, space-separated, as requested (a tenant named in the request is echoed); absent when empty.';
  const fields = {
    access_token: string('RFC 9068 JWT access token (`typ: at+jwt`).'),
    token_type: { const: 'Bearer' },
    expires_in:
      d.expiresIn === 'string'
        ? { type: 'string', pattern: '^[0-9]+$', description: 'Lifetime in seconds, as a string.' }
        : { type: 'integer', minimum: 1, description: 'Lifetime in seconds.' },
    scope: string(scope),
    refresh_token: string('Opaque refresh token, when the client holds the refresh_token grant.'),
  } satisfies Record<keyof Dialect['fields'], Schema>;
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [field, schema] of Object.entries(fields)) {
    const wire = d.fields[field as keyof Dialect['fields']];
    if (wire === false) continue;
    properties[wire] = schema;
    // scope and refresh_token are left out when there is nothing to send.
    if (field !== 'scope' && field !== 'refresh_token') required.push(wire);
  }
  if (d.idTokens)
    properties['id_token'] = string(
      'OpenID Connect ID Token (JWT, `typ: JWT`), when the grant holds the `openid` scope.',
    );
  return object(properties, required, {
    title: `${d.name} dialect`,
    description: `Token response of a client in the \`${d.name}\` dialect.`,
  });
}

/**
 * Whether some object could match both closed dialect schemas: each one's required fields
 * are allowed by the other, and every shared field can hold the same value.
 */
function overlap(a: Schema, b: Schema): boolean {
  const props = (s: Schema) => s['properties'] as Record<string, Schema>;
  const required = (s: Schema) => (s['required'] as string[] | undefined) ?? [];
  if (!required(a).every((f) => f in props(b)) || !required(b).every((f) => f in props(a)))
    return false;
  return Object.keys(props(a))
    .filter((f) => f in props(b))
    .every((f) => props(a)[f]?.['type'] === props(b)[f]?.['type']);
}

function tokenEndpoint(path: string): Schema {
  const primary = path === '/oauth/token';
  return {
    post: operation({
      id: primary ? 'token' : `token${path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      tag: 'oauth',
      summary: primary ? 'Token endpoint (RFC 6749 §3.2)' : `Token endpoint, at the alias ${path}`,
      description: `${primary ? '' : 'Answers exactly as `/oauth/token` (a configured `tokenEndpointAliases` path). '}Grants: client_credentials, authorization_code (PKCE S256), refresh_token (rotating, reuse revokes the family). The success body is shaped by the client’s dialect; errors are RFC 6749 JSON in every dialect.`,
      security: CLIENT_AUTH,
      body: requestBody('TokenRequest'),
      responses: {
        '200': ok('Tokens, in the client’s dialect.', json(ref('TokenResponse'))),
        ...CLIENT_FAILURES,
        '400': response('TokenError'),
      },
    }),
  };
}

/** The dialects a server with `config` knows: the built-in ones and those it declares. */
function dialectsOf(config: Pick<Config, 'dialects'>): Dialect[] {
  const registry = createDialectRegistry(config);
  return registry.names().map((n) => registry.get(n) as Dialect);
}

export function tokenArea(config: Pick<Config, 'dialects' | 'tokenEndpointAliases'>): Area {
  const dialects = dialectsOf(config);
  const responses = Object.fromEntries(
    dialects.map((d) => [tokenResponseName(d.name), dialectResponse(d)]),
  );
  const bodies = Object.values(responses);
  // oneOf says "exactly one": true of the built-in dialects; a custom dialect that differs
  // from another only in optional fields would make it false, and then anyOf is the truth.
  const exclusive = bodies.every((a, i) => bodies.slice(i + 1).every((b) => !overlap(a, b)));
  const grants = GRANT_TYPES.filter((g) => GRANTS.has(g));
  return {
    paths: Object.fromEntries(
      ['/oauth/token', ...config.tokenEndpointAliases].map((p) => [p, tokenEndpoint(p)]),
    ),
    components: {
      schemas: {
        TokenRequest: {
          oneOf: grants.map((g) => ref(`TokenRequest.${g}`)),
          description:
            'Form or JSON (an object of string values). A parameter given twice, a non-string value or a body over 16 KiB is `invalid_request`.',
        },
        ...Object.fromEntries(grants.map((g) => [`TokenRequest.${g}`, grantRequest(g, dialects)])),
        TokenResponse: {
          [exclusive ? 'oneOf' : 'anyOf']: dialects.map((d) => ref(tokenResponseName(d.name))),
          description:
            'The success body is shaped by the dialect of the authenticated client (DESIGN §3 “Dialects”).',
        },
        ...responses,
      },
      responses: {
        TokenError: errorResponse('RFC 6749 §5.2 refusal.', [
          'invalid_request',
          'invalid_grant',
          'unauthorized_client',
          'unsupported_grant_type',
          'invalid_scope',
          'invalid_target',
        ]),
      },
      requestBodies: {
        TokenRequest: {
          required: true,
          description: `A form or a JSON object of string values; another or no content type is sniffed (\`{\` means JSON). At most ${BODY_LIMIT / 1024} KiB.`,
          content: formOrJson(ref('TokenRequest')),
        },
      },
    },
  };
}
