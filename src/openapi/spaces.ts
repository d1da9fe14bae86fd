/** Cisco Spaces: the partner app's App Info resource and its launch (DESIGN §3). */
import {
  type Area,
  BEARER,
  BEARER_FAILURES,
  type Schema,
  STORE_FAILURES,
  formOrJson,
  header,
  json,
  object,
  ok,
  operation,
  page,
  query,
  ref,
  string,
} from './build.js';

const schemas: Record<string, Schema> = {
  Telemetry: object({
    type: string('e.g. `metric`.'),
    name: string(),
    value: string('Always a string.'),
    units: string(),
  }),
  AppInfo: object(
    {
      partnerTenantId: string(),
      userEmail: string(),
      supportEmail: string('The tenant’s support email, when set.'),
      telemetry: { type: 'array', items: ref('Telemetry') },
    },
    ['partnerTenantId', 'userEmail', 'telemetry'],
    { description: 'Cisco Spaces App Info.' },
  ),
  LaunchRequest: {
    type: 'object',
    properties: {
      token: string('The Cisco-signed RS256 launch JWT.'),
      version: string(
        'The version of the Spaces public key that signed it (optional when the key list has one entry).',
      ),
    },
    required: ['token'],
    additionalProperties: { type: 'string' },
  },
};

export const spacesArea: Area = {
  components: { schemas },
  paths: {
    '/spaces/app-info': {
      get: operation({
        id: 'spacesAppInfo',
        tag: 'cisco-spaces',
        summary: 'Cisco Spaces App Info',
        description:
          'Served only to a user token (from the authorization-code flow) issued to a cisco-spaces client; any other token gets 401 `invalid_token` (RFC 9068 §4), a token of another tenant 403 `insufficient_scope`.',
        security: BEARER,
        parameters: [query('partnerTenantId', 'The tenant id (once).', true)],
        responses: {
          '200': ok('The tenant’s App Info.', json(ref('AppInfo'))),
          ...BEARER_FAILURES,
        },
      }),
    },
    '/spaces/launch': {
      post: operation({
        id: 'spacesLaunch',
        tag: 'cisco-spaces',
        summary: 'Cisco Spaces app launch',
        description:
          'Verifies the Cisco-signed RS256 launch JWT (key fetched only from an allow-listed `baseUrl`, replays refused), opens a login session for the tenant and sends the browser to its `app_url`, where the authorization-code flow completes without a prompt.',
        security: [],
        body: { required: true, content: formOrJson(ref('LaunchRequest')) },
        responses: {
          '303': {
            description: 'To the tenant’s app URL, with a login session for the tenant.',
            headers: { Location: header('Location'), 'Set-Cookie': header('SetSessionCookie') },
          },
          '401': page(
            'Refused (`launch-refused`): the reason is in the audit trail, never on the page.',
          ),
          ...STORE_FAILURES,
        },
      }),
    },
  },
};
