/**
 * The RFC endpoints around the token endpoint (./token.ts): discovery (RFC 8414, OpenID
 * Connect Discovery), the key set (RFC 7517), revocation (RFC 7009), introspection (RFC 7662)
 * and userinfo (RFC 6750, OpenID Connect Core §5.3).
 */
import type { Config } from '../config/options.js';
import { INTROSPECT_SCOPE } from '../oauth/introspect.js';
import { BASE_CLAIMS, IDENTITY_SCOPES, PROMPT_VALUES, SCOPE_CLAIMS } from '../oauth/oidc.js';
import { GRANTS } from '../oauth/token/grants/index.js';
import { SIGNING_ALGS } from '../tokens/keystore.js';
import {
  type Area,
  BEARER,
  BEARER_FAILURES,
  CLIENT_AUTH,
  CLIENT_FAILURES,
  type Schema,
  STORE_FAILURES,
  cached,
  errorResponse,
  formOrJson,
  json,
  noStore,
  object,
  ok,
  operation,
  ref,
  requestBody,
  response,
  string,
  strings,
} from './build.js';
import { CLIENT_AUTH_PARAMETERS } from './token.js';

const tokenParameter = {
  token: string('The access or refresh token.'),
  token_type_hint: {
    enum: ['access_token', 'refresh_token'],
    description: 'Accepted and not needed: Tessera recognises the token either way.',
  },
};

/** The RFC 8414 fields, which the OpenID Provider metadata repeats. */
const SERVER_METADATA: Record<string, Schema> = {
  issuer: string(),
  authorization_endpoint: string(),
  token_endpoint: string(),
  jwks_uri: string(),
  revocation_endpoint: string(),
  introspection_endpoint: string(),
  userinfo_endpoint: string(),
  grant_types_supported: { type: 'array', items: { enum: [...GRANTS.keys()] } },
  response_types_supported: { type: 'array', items: { const: 'code' } },
  response_modes_supported: { type: 'array', items: { const: 'query' } },
  code_challenge_methods_supported: { type: 'array', items: { const: 'S256' } },
  authorization_response_iss_parameter_supported: { const: true },
  token_endpoint_auth_methods_supported: strings('Includes `none` (public clients).'),
  revocation_endpoint_auth_methods_supported: strings('Includes `none` (public clients).'),
  introspection_endpoint_auth_methods_supported: strings('Public clients may not introspect.'),
};

const schemas: Record<string, Schema> = {
  TokenOperationRequest: {
    type: 'object',
    properties: { ...tokenParameter, ...CLIENT_AUTH_PARAMETERS },
    required: ['token'],
    additionalProperties: { type: 'string' },
    description: 'RFC 7009 / RFC 7662 request, form or JSON.',
  },
  IntrospectionResponse: {
    oneOf: [
      object({ active: { const: false } }, undefined, {
        title: 'inactive',
        description:
          'Unknown, expired, revoked or rotated — or another client’s token, unless the caller holds `tessera:introspect`.',
      }),
      object(
        {
          active: { const: true },
          token_type: { enum: ['Bearer', 'refresh_token'] },
          client_id: string(),
          scope: string(),
          sub: string(),
          aud: { oneOf: [string(), strings('Audiences.')] },
          iss: string(),
          exp: { type: 'integer', description: 'Seconds since the epoch.' },
          iat: { type: 'integer', description: 'Seconds since the epoch.' },
          jti: string('Access tokens only.'),
          tenant_id: string(),
          email: string('User access tokens only.'),
        },
        ['active', 'token_type', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat'],
        { title: 'active' },
      ),
    ],
    description: 'RFC 7662 §2.2.',
  },
  AccessTokenClaims: object(
    {
      iss: string('The issuer.'),
      sub: string('The user id (a UUID), or the client id for client tokens.'),
      aud: {
        oneOf: [
          string('The audience.'),
          strings('With the `openid` scope: the audience and the issuer.'),
        ],
      },
      exp: { type: 'integer' },
      iat: { type: 'integer' },
      jti: string(),
      client_id: string(),
      scope: string('Granted scopes, space-separated; absent when none. Never the tenant.'),
      tenant_id: string('The selected tenant, when there is one.'),
      email: string('The user’s email, for user tokens.'),
      grant_id: string('The refresh-token family or code the token came from.'),
    },
    ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
    { description: 'The claims of the presented RFC 9068 access token.' },
  ),
  UserInfo: object(
    {
      sub: string('The same subject as the ID Token’s.'),
      name: string('`profile` scope; absent when the account has no name.'),
      updated_at: { type: 'integer', description: '`profile` scope: seconds since the epoch.' },
      email: string('`email` scope.'),
      email_verified: { type: 'boolean', description: '`email` scope.' },
      tenant_id: string('The tenant the token was issued for.'),
    },
    ['sub'],
    { description: 'OpenID Connect UserInfo (Core §5.3.2) of a token carrying `openid`.' },
  ),
  ServerMetadata: object(SERVER_METADATA, undefined, {
    description: 'RFC 8414 authorization server metadata.',
  }),
  OpenIdProviderMetadata: object(
    {
      ...SERVER_METADATA,
      scopes_supported: { type: 'array', items: { enum: [...IDENTITY_SCOPES] } },
      claims_supported: {
        type: 'array',
        items: { enum: [...BASE_CLAIMS, ...Object.values(SCOPE_CLAIMS).flat()] },
      },
      subject_types_supported: { type: 'array', items: { const: 'public' } },
      id_token_signing_alg_values_supported: {
        type: 'array',
        items: { enum: [...SIGNING_ALGS] },
      },
      prompt_values_supported: { type: 'array', items: { enum: [...PROMPT_VALUES] } },
      end_session_endpoint: string(),
      backchannel_logout_supported: { const: true },
      backchannel_logout_session_supported: { const: true },
      claims_parameter_supported: { const: false },
      request_parameter_supported: { const: false },
      request_uri_parameter_supported: { const: false },
    },
    undefined,
    {
      description:
        'OpenID Connect Discovery 1.0 §3: the RFC 8414 document (same issuer and endpoints) and the OpenID Provider fields.',
    },
  ),
  JsonWebKeySet: object(
    {
      keys: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            kty: { enum: ['RSA', 'EC', 'OKP'] },
            kid: string('RFC 7638 thumbprint.'),
            alg: { enum: [...SIGNING_ALGS] },
            use: { const: 'sig' },
          },
          required: ['kty', 'kid', 'alg', 'use'],
          description:
            'A public signing key (RFC 7517), plus its key-type members (n, e, crv, x, y).',
        },
      },
    },
    undefined,
    {
      description:
        'Keys that sign now, the next key (published before it signs) and retired keys still within the lifetime of a token they signed.',
    },
  ),
};

export function oauthArea(config: Pick<Config, 'userinfoScope'>): Area {
  const userinfo = (method: string) =>
    operation({
      id: `userinfo${method}`,
      tag: 'oauth',
      summary: 'OpenID Connect UserInfo, or the claims of the presented access token',
      description: `A token carrying \`openid\` gets OpenID Connect UserInfo (Core §5.3): \`sub\`, the claims of its identity scopes and \`tenant_id\`. Any other token gets its own claims: a generic RFC 6750 protected resource.${config.userinfoScope === undefined ? '' : ` Such a token must hold the scope \`${config.userinfoScope}\`.`}`,
      security: BEARER,
      responses: {
        '200': ok(
          'UserInfo, or the token’s claims.',
          json({ oneOf: [ref('UserInfo'), ref('AccessTokenClaims')] }),
        ),
        ...BEARER_FAILURES,
      },
    });
  const paths = {
    '/.well-known/oauth-authorization-server': {
      get: operation({
        id: 'metadata',
        tag: 'oauth',
        summary: 'Authorization server metadata (RFC 8414)',
        responses: { '200': cached('The metadata.', 300, json(ref('ServerMetadata'))) },
      }),
    },
    '/.well-known/openid-configuration': {
      get: operation({
        id: 'openidConfiguration',
        tag: 'oauth',
        summary: 'OpenID Provider metadata (OpenID Connect Discovery 1.0)',
        responses: { '200': cached('The metadata.', 300, json(ref('OpenIdProviderMetadata'))) },
      }),
    },
    '/.well-known/jwks.json': {
      get: operation({
        id: 'jwks',
        tag: 'oauth',
        summary: 'Public signing keys (RFC 7517)',
        responses: {
          '200': cached('The key set.', 300, {
            'application/jwk-set+json': { schema: ref('JsonWebKeySet') },
          }),
          ...STORE_FAILURES,
        },
      }),
    },
    '/oauth/revoke': {
      post: operation({
        id: 'revoke',
        tag: 'oauth',
        summary: 'Token revocation (RFC 7009)',
        description:
          'A refresh token revokes its whole family and the access tokens of that grant; an access token is refused everywhere until it expires. An unknown, malformed or expired token gets the same empty 200. Another client’s token is refused with 400 `unauthorized_client` and left alone; a public client presenting one gets the empty 200 and revokes nothing.',
        security: CLIENT_AUTH,
        body: requestBody('TokenOperationRequest'),
        responses: {
          '200': {
            description: 'Revoked (or nothing to revoke); no body.',
            headers: noStore(),
          },
          ...CLIENT_FAILURES,
          '400': response('RevocationError'),
        },
      }),
    },
    '/oauth/introspect': {
      post: operation({
        id: 'introspect',
        tag: 'oauth',
        summary: 'Token introspection (RFC 7662)',
        description: `Answers a client only about its own tokens, unless it holds the \`${INTROSPECT_SCOPE}\` scope. Public clients may not introspect.`,
        security: CLIENT_AUTH,
        body: requestBody('TokenOperationRequest'),
        responses: {
          '200': ok(
            'Whether the token is active, and its claims.',
            json(ref('IntrospectionResponse')),
          ),
          ...CLIENT_FAILURES,
        },
      }),
    },
    '/oauth/userinfo': { get: userinfo('Get'), post: userinfo('Post') },
  };
  return {
    paths,
    components: {
      schemas,
      responses: {
        RevocationError: errorResponse(
          'Malformed request, or a confidential client presented a token issued to another client (RFC 7009 §2.1; nothing is revoked).',
          ['invalid_request', 'unauthorized_client'],
        ),
      },
      requestBodies: {
        TokenOperationRequest: {
          required: true,
          content: formOrJson(ref('TokenOperationRequest')),
        },
      },
    },
  };
}
