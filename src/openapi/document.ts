/**
 * The OpenAPI 3.1 description of every HTTP endpoint Tessera serves, built from the running
 * configuration (issuer, token endpoint aliases, custom dialects, where `/metrics` listens)
 * and served at `GET /openapi.json`. Each area (./oauth.ts, ./token.ts, ./pages.ts,
 * ./spaces.ts, ./admin.ts, ./operations.ts) brings its paths and the components they use;
 * this file assembles them. test/http/openapi.test.ts checks the result against the routes
 * the app registers and the bodies it actually sends and accepts.
 */
import { ADMIN_SCOPE } from '../admin/bodies.js';
import type { Config } from '../config/options.js';
import { adminArea } from './admin.js';
import type { Area, Schema } from './build.js';
import { oauthArea } from './oauth.js';
import { operationsArea } from './operations.js';
import { pagesArea } from './pages.js';
import { sharedArea } from './shared.js';
import { spacesArea } from './spaces.js';
import { tokenArea } from './token.js';

export { OPENAPI_PATH } from './operations.js';

export type OpenApiConfig = Pick<
  Config,
  'issuer' | 'host' | 'metricsPort' | 'tokenEndpointAliases' | 'dialects' | 'userinfoScope'
>;

/**
 * The version of this description (OpenAPI `info.version`), not of the package: raised when
 * a path, parameter or body changes shape.
 */
export const DOCUMENT_VERSION = '1.0.0';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The HTTP methods of a path item, for walking a document. */
export function operationsOf(item: Schema): string[] {
  return Object.keys(item).filter((k) => HTTP_METHODS.includes(k));
}

/** The areas' components, kind by kind; a name two areas both define is a mistake. */
function mergeComponents(areas: readonly Area[]): Record<string, Record<string, Schema>> {
  const out: Record<string, Record<string, Schema>> = {};
  for (const area of areas) {
    for (const [kind, entries] of Object.entries(area.components ?? {})) {
      const merged = (out[kind] ??= {});
      for (const [name, value] of Object.entries(entries)) {
        if (name in merged) throw new Error(`two areas define components.${kind}.${name}`);
        merged[name] = value;
      }
    }
  }
  return out;
}

/** The OpenAPI 3.1 document for a server running with `config`. */
export function openApiDocument(config: OpenApiConfig): Schema {
  const areas = [
    oauthArea(config),
    tokenArea(config),
    pagesArea,
    spacesArea,
    adminArea,
    operationsArea(config),
    sharedArea(config),
  ];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version: DOCUMENT_VERSION,
      summary: 'OAuth 2.0 authorization server with per-client wire dialects',
      description:
        'Strict RFC OAuth by default and, per client, the wire dialect a partner platform speaks (`standard`, `cisco-spaces`, `bright-pattern`, `setu`, and any configured). Token, revocation and introspection requests are forms or JSON objects of strings. Errors are RFC 6749 §5.2 JSON in every dialect. docs/api.md has a curl example for every endpoint.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: config.issuer, description: 'The issuer' }],
    tags: [
      {
        name: 'oauth',
        description: 'RFC endpoints: metadata, keys, token, revocation, introspection, userinfo.',
      },
      {
        name: 'pages',
        description: 'Browser pages: sign-in, tenant picker, sign-out, styles and logos.',
      },
      { name: 'cisco-spaces', description: 'Cisco Spaces partner-app App Info and launch.' },
      {
        name: 'admin',
        description: `Management API; a client_credentials token with the \`${ADMIN_SCOPE}\` scope.`,
      },
      { name: 'operations', description: 'Health, readiness, metrics and this document.' },
    ],
    paths: Object.assign({}, ...areas.map((a) => a.paths)) as Schema,
    components: mergeComponents(areas),
  };
}
