/**
 * Building blocks of the OpenAPI document: the schema and response shapes every area
 * (./oauth.ts, ./token.ts, ./pages.ts, ./spaces.ts, ./admin.ts, ./operations.ts) repeats, so
 * each is written once. Everything here is plain JSON data.
 */

/** A JSON Schema (or any OpenAPI object): plain JSON data. */
export type Schema = { readonly [keyword: string]: unknown };

type ComponentKind =
  'schemas' | 'responses' | 'parameters' | 'requestBodies' | 'headers' | 'securitySchemes';

/** What one area adds to the document: its paths and the components they refer to. */
export interface Area {
  readonly paths: Record<string, Schema>;
  readonly components?: Partial<Record<ComponentKind, Record<string, Schema>>>;
}

const component = (kind: ComponentKind, name: string): Schema => ({
  $ref: `#/components/${kind}/${name}`,
});
export const ref = (name: string) => component('schemas', name);
export const response = (name: string) => component('responses', name);
export const header = (name: string) => component('headers', name);
export const parameter = (name: string) => component('parameters', name);
export const requestBody = (name: string) => component('requestBodies', name);

/* ---------------------------------------------------------------------------------------- */
/* Schemas                                                                                  */
/* ---------------------------------------------------------------------------------------- */

export const string = (description?: string): Schema => ({
  type: 'string',
  ...(description !== undefined && { description }),
});
export const nullable = (type: string, description: string, extra: Schema = {}): Schema => ({
  type: [type, 'null'],
  description,
  ...extra,
});
export const dateTime = (description: string): Schema => ({
  type: 'string',
  format: 'date-time',
  description,
});
export const strings = (description: string): Schema => ({
  type: 'array',
  items: { type: 'string' },
  description,
});
export const list = (name: string): Schema => ({ type: 'array', items: ref(name) });

/** A closed object: exactly these properties, the `required` ones always present. */
export function object(
  properties: Readonly<Record<string, Schema>>,
  required: readonly string[] = Object.keys(properties),
  extra: Schema = {},
): Schema {
  return {
    type: 'object',
    properties,
    ...(required.length > 0 && { required }),
    additionalProperties: false,
    ...extra,
  };
}

/** RFC 6749 §5.2 / RFC 6750 §3.1 error body, restricted to `codes` when given. */
export function oauthErrorSchema(codes?: readonly string[]): Schema {
  if (codes === undefined) return ref('OAuthError');
  return {
    allOf: [ref('OAuthError')],
    type: 'object',
    properties: { error: { enum: codes } },
  };
}

/* ---------------------------------------------------------------------------------------- */
/* Media types and responses                                                                */
/* ---------------------------------------------------------------------------------------- */

export const json = (schema: Schema): Schema => ({ 'application/json': { schema } });
/** Form and JSON bodies of one schema: the OAuth and launch endpoints read both (DESIGN §3). */
export const formOrJson = (schema: Schema): Schema => ({
  'application/x-www-form-urlencoded': { schema },
  'application/json': { schema },
});
export const text = (type: string): Schema => ({ [type]: { schema: { type: 'string' } } });

/** The headers of an answer that must not be cached: every one but the public documents. */
export const noStore = (headers: Schema = {}): Schema => ({
  'Cache-Control': header('NoStore'),
  Pragma: header('NoCache'),
  ...headers,
});

export function ok(description: string, content: Schema, headers: Schema = {}): Schema {
  return { description, headers: noStore(headers), content };
}

/** A public, cacheable answer (discovery, keys, static files, this document). */
export function cached(description: string, seconds: number, content: Schema): Schema {
  return {
    description,
    headers: {
      'Cache-Control': {
        description: 'Public: caches and resource servers may keep it this long.',
        schema: { const: `public, max-age=${seconds}` },
      },
    },
    content,
  };
}

export const page = (description: string, headers: Schema = {}): Schema =>
  ok(description, text('text/html'), headers);

/** A failure the one error serializer sends: `{error, error_description}`. */
export function errorResponse(description: string, codes?: readonly string[], headers?: Schema) {
  return ok(description, json(oauthErrorSchema(codes)), headers);
}

/** What any endpoint that reads the store may answer besides its own responses. */
export const STORE_FAILURES = {
  '500': response('ServerError'),
  '503': response('TemporarilyUnavailable'),
};

/** Token, revocation and introspection: the caller is an OAuth client. */
export const CLIENT_FAILURES = {
  '400': response('InvalidRequest'),
  '401': response('InvalidClient'),
  ...STORE_FAILURES,
};

/** RFC 6750 resources: userinfo, App Info, the admin API. */
export const BEARER_FAILURES = {
  '400': response('InvalidRequest'),
  '401': response('InvalidToken'),
  '403': response('InsufficientScope'),
  ...STORE_FAILURES,
};

/* ---------------------------------------------------------------------------------------- */
/* Operations                                                                               */
/* ---------------------------------------------------------------------------------------- */

/**
 * `client_secret_basic` is an HTTP scheme; `client_secret_post` and public clients (`none`)
 * put their credentials in the body, which OpenAPI has no scheme for: the empty requirement
 * says "no header", and the body schema carries `client_id` / `client_secret`.
 */
export const CLIENT_AUTH = [{ clientSecretBasic: [] }, {}];
export const BEARER = [{ bearerToken: [] }];

interface Operation {
  readonly id: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly security?: readonly Schema[];
  readonly parameters?: readonly Schema[];
  readonly body?: Schema;
  readonly responses: Schema;
}

export function operation(o: Operation): Schema {
  return {
    operationId: o.id,
    tags: [o.tag],
    summary: o.summary,
    ...(o.description !== undefined && { description: o.description }),
    ...(o.security !== undefined && { security: o.security }),
    ...(o.parameters !== undefined && { parameters: o.parameters }),
    ...(o.body !== undefined && { requestBody: o.body }),
    responses: o.responses,
  };
}

export const query = (
  name: string,
  description: string,
  required = false,
  schema: Schema = {},
) => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string', ...schema },
});

/** A required path parameter holding a string. */
export const pathParameter = (name: string, description: string, schema: Schema = {}) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', ...schema },
});
