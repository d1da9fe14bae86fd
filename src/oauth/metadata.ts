import type { Config } from '../config/options.js';
import { SIGNING_ALGS } from '../tokens/keystore.js';
import { BASE_CLAIMS, IDENTITY_SCOPES, PROMPT_VALUES, SCOPE_CLAIMS } from './oidc.js';
import { GRANTS } from './token/grants/index.js';

/** RFC 8414 authorization server metadata, listing only what is implemented. */
export function serverMetadata(config: Pick<Config, 'issuer'>): Record<string, unknown> {
  const base = config.issuer;
  const authMethods = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: base,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/oauth/revoke`,
    introspection_endpoint: `${base}/oauth/introspect`,
    userinfo_endpoint: `${base}/oauth/userinfo`,
    grant_types_supported: [...GRANTS.keys()],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: [...authMethods, 'none'],
    revocation_endpoint_auth_methods_supported: [...authMethods, 'none'],
    introspection_endpoint_auth_methods_supported: authMethods,
  };
}

/**
 * OpenID Connect Discovery 1.0 §3 provider metadata: the RFC 8414 document (same issuer and
 * endpoints) plus what an OpenID Provider declares, listing only what is implemented (no
 * claims parameter or request objects yet: docs/oidc.md).
 */
export function openIdMetadata(config: Pick<Config, 'issuer'>): Record<string, unknown> {
  return {
    ...serverMetadata(config),
    scopes_supported: IDENTITY_SCOPES,
    claims_supported: [...BASE_CLAIMS, ...Object.values(SCOPE_CLAIMS).flat()],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: SIGNING_ALGS,
    prompt_values_supported: PROMPT_VALUES,
    end_session_endpoint: `${config.issuer}/oauth/end-session`,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}
