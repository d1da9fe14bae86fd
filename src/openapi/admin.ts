/** The admin API (`/admin/v1`): the CLI's management services over HTTP. */
import { ADMIN_SCOPE } from '../admin/bodies.js';
import { type AdminBody, adminSchemas } from './admin-schemas.js';
import {
  type Area,
  BEARER_FAILURES,
  type Schema,
  json,
  list,
  noStore,
  ok,
  operation,
  parameter,
  pathParameter,
  query,
  ref,
  response,
} from './build.js';

/** What an operation answers: a JSON result, or 204 and no body. */
type AdminAnswer =
  | { readonly status?: '200' | '201'; readonly result: Schema }
  | { readonly status: '204'; readonly result?: never };

/** Admin operations share their security and failure responses. */
function adminOperation(
  o: {
    readonly id: string;
    readonly summary: string;
    readonly parameters?: readonly Schema[];
    /** The JSON body's component, when the operation takes one. */
    readonly input?: AdminBody;
    readonly notFound?: boolean;
    readonly conflict?: boolean;
  } & AdminAnswer,
): Schema {
  return operation({
    id: o.id,
    tag: 'admin',
    summary: o.summary,
    security: [{ oauth2: [ADMIN_SCOPE] }],
    ...(o.parameters !== undefined && { parameters: o.parameters }),
    // Creating needs the body; an update or option body may be left out (`{}`).
    ...(o.input !== undefined && {
      body: { required: o.status === '201', content: json(ref(o.input)) },
    }),
    responses: {
      [o.status ?? '200']:
        o.result === undefined
          ? { description: o.summary, headers: noStore() }
          : ok(o.summary, json(o.result)),
      ...BEARER_FAILURES,
      ...(o.notFound === true && { '404': response('NotFound') }),
      ...(o.conflict === true && { '409': response('Conflict') }),
    },
  });
}

function adminPaths(): Record<string, Schema> {
  const tenantId = parameter('TenantId');
  const clientId = parameter('ClientId');
  const email = parameter('UserEmail');
  return {
    '/admin/v1/tenants': {
      get: adminOperation({ id: 'listTenants', summary: 'Tenants', result: list('Tenant') }),
      post: adminOperation({
        id: 'createTenant',
        summary: 'The new tenant',
        status: '201',
        input: 'TenantCreate',
        result: ref('Tenant'),
        conflict: true,
      }),
    },
    '/admin/v1/tenants/{id}': {
      patch: adminOperation({
        id: 'updateTenant',
        summary: 'The updated tenant',
        parameters: [tenantId],
        input: 'TenantUpdate',
        result: ref('Tenant'),
        notFound: true,
      }),
    },
    '/admin/v1/tenants/{id}/telemetry/{name}': {
      put: adminOperation({
        id: 'setTelemetry',
        summary: 'The telemetry entry App Info reports',
        parameters: [tenantId, pathParameter('name', 'Telemetry name')],
        input: 'TelemetrySet',
        result: ref('TelemetryEntry'),
        notFound: true,
      }),
    },
    '/admin/v1/users': {
      get: adminOperation({ id: 'listUsers', summary: 'Users', result: list('User') }),
      post: adminOperation({
        id: 'createUser',
        summary: 'The new user',
        status: '201',
        input: 'UserCreate',
        result: ref('User'),
        conflict: true,
      }),
    },
    '/admin/v1/users/{email}/password': {
      put: adminOperation({
        id: 'setUserPassword',
        summary: 'The user, with a new password',
        parameters: [email],
        input: 'PasswordSet',
        result: ref('User'),
        notFound: true,
      }),
    },
    '/admin/v1/users/{email}/invite': {
      post: adminOperation({
        id: 'inviteUser',
        summary:
          'The user (created without a password, or invited again) and whether the setup link was mailed, or the link',
        parameters: [email],
        input: 'UserInvite',
        result: ref('UserLink'),
        conflict: true,
      }),
    },
    '/admin/v1/users/{email}/reset-password': {
      post: adminOperation({
        id: 'resetUserPassword',
        summary: 'The user and whether the reset link was mailed, or the link',
        parameters: [email],
        input: 'LinkRequest',
        result: ref('UserLink'),
        notFound: true,
        conflict: true,
      }),
    },
    '/admin/v1/users/{email}/disable': {
      post: adminOperation({
        id: 'disableUser',
        summary: 'The disabled user',
        parameters: [email],
        result: ref('User'),
        notFound: true,
      }),
    },
    '/admin/v1/users/{email}/consents': {
      get: adminOperation({
        id: 'listUserConsents',
        summary: 'The scopes the user allowed each consent client',
        parameters: [email],
        result: list('Consent'),
        notFound: true,
      }),
    },
    '/admin/v1/users/{email}/consents/{clientId}': {
      delete: adminOperation({
        id: 'revokeUserConsent',
        summary: 'The consent is withdrawn and the user’s refresh tokens of the client revoked',
        parameters: [email, pathParameter('clientId', 'Client id')],
        status: '204',
        notFound: true,
      }),
    },
    '/admin/v1/clients': {
      get: adminOperation({ id: 'listClients', summary: 'Clients', result: list('Client') }),
      post: adminOperation({
        id: 'createClient',
        summary: 'The new client, with its secret if Tessera generated it (shown once)',
        status: '201',
        input: 'ClientCreate',
        result: ref('Client'),
        conflict: true,
      }),
    },
    '/admin/v1/clients/{id}': {
      get: adminOperation({
        id: 'getClient',
        summary: 'One client, with its branding',
        parameters: [clientId],
        result: ref('Client'),
        notFound: true,
      }),
      patch: adminOperation({
        id: 'updateClient',
        summary: 'The updated client',
        parameters: [clientId],
        input: 'ClientUpdate',
        result: ref('Client'),
        notFound: true,
      }),
      delete: adminOperation({
        id: 'deleteClient',
        summary: 'The client is deleted',
        parameters: [clientId],
        result: ref('ClientDeleted'),
        notFound: true,
      }),
    },
    '/admin/v1/clients/{id}/rotate-secret': {
      post: adminOperation({
        id: 'rotateClientSecret',
        summary: 'The client, with its new secret if Tessera generated it (shown once)',
        parameters: [clientId],
        input: 'SecretRotation',
        result: ref('Client'),
        notFound: true,
      }),
    },
    '/admin/v1/keys': {
      get: adminOperation({ id: 'listKeys', summary: 'Signing keys', result: list('SigningKey') }),
    },
    '/admin/v1/keys/rotate': {
      post: adminOperation({
        id: 'rotateKey',
        summary: 'The new signing key',
        input: 'KeyRotation',
        result: ref('SigningKey'),
      }),
    },
    '/admin/v1/audit': {
      get: adminOperation({
        id: 'listAudit',
        summary: 'Audit events, oldest first',
        parameters: [
          query('since', 'ISO-8601 time.', false, { format: 'date-time' }),
          query('type', 'Event type.'),
          query('tenant', 'Tenant id.'),
          query('client', 'Client id.'),
          {
            ...query('limit', 'At most this many (default 1000).'),
            schema: { type: 'integer', minimum: 1, maximum: 10000 },
          },
        ],
        result: list('AuditEvent'),
      }),
    },
  };
}

export const adminArea: Area = {
  components: {
    schemas: adminSchemas,
    parameters: {
      TenantId: pathParameter('id', 'Tenant id'),
      ClientId: pathParameter('id', 'Client id'),
      UserEmail: pathParameter('email', 'The user’s email'),
    },
  },
  paths: adminPaths(),
};
