/**
 * The browser pages: sign-in and tenant picker (the authorization endpoint), sign-out, the
 * account pages (forgot password, setup, reset), the stylesheet, and the tenants' and
 * clients' logos and accent colours.
 */
import { CSRF_COOKIE } from '../oauth/authorize/session.js';
import { BRAND_KINDS } from '../store/store.js';
import { STYLESHEET_PATH } from '../views/pages.js';
import {
  type Schema,
  type Area,
  STORE_FAILURES,
  cached,
  header,
  operation,
  page,
  parameter,
  pathParameter,
  query,
  response,
  text,
} from './build.js';

/** A page's form post: URL-encoded fields, the `required` ones always sent. */
function formPost(properties: Schema, required: readonly string[] = []): Schema {
  return {
    required: true,
    content: {
      'application/x-www-form-urlencoded': {
        schema: { type: 'object', properties, ...(required.length > 0 && { required }) },
      },
    },
  };
}

/** The same, for an endpoint that also answers without a body. */
function optionalFormPost(properties: Schema): Schema {
  return { ...formPost(properties), required: false };
}

const authorizeQuery = [
  query('client_id', 'A registered client id.', true),
  query(
    'redirect_uri',
    'Exactly a registered redirect URI (optional when the client has one). A mismatch shows the `configuration-mismatch` page and never redirects.',
  ),
  query('response_type', '`code`.', true, { enum: ['code'] }),
  query('state', 'Returned verbatim.'),
  query('scope', 'Space-separated scopes, among the client’s.'),
  query('code_challenge', 'RFC 7636 S256 challenge (required for public clients).'),
  query('code_challenge_method', 'Only `S256`.', false, { enum: ['S256'] }),
  query('prompt', '`login` asks for the password even with a session.'),
];

const endSessionFields = {
  id_token_hint: {
    type: 'string',
    maxLength: 8192,
    description:
      'An ID Token Tessera issued (expired ones too). For the browser’s current session it signs out without asking.',
  },
  client_id: {
    type: 'string',
    maxLength: 256,
    description: 'Must be in the hint’s `aud` when both are sent.',
  },
  post_logout_redirect_uri: {
    type: 'string',
    maxLength: 2048,
    description:
      'Exactly one of the client’s `post_logout_redirect_uris`; anything else shows `logout-unregistered-redirect` and never redirects.',
  },
  state: { type: 'string', maxLength: 2048, description: 'Returned verbatim on the redirect.' },
} as const;

const endSessionResponses = {
  '200': page(
    'The confirmation page (a session, and no hint for it), or the signed-out page (`signed-out`; the session cookie is cleared).',
    { 'Set-Cookie': header('SetSessionCookie') },
  ),
  '303': {
    description: 'Signed out: to the registered `post_logout_redirect_uri`, with `state`.',
    headers: { Location: header('Location'), 'Set-Cookie': header('SetSessionCookie') },
  },
  '400': page(
    'An invalid hint, unknown client, `client_id` not in the hint’s `aud`, an oversized or repeated parameter (`logout-invalid-request`), or an unregistered `post_logout_redirect_uri` (`logout-unregistered-redirect`): nothing changes.',
  ),
  ...STORE_FAILURES,
};

const codeRedirect = {
  description:
    'To the redirect URI with `code`, `state` and `iss` (RFC 9207) — or, for an error after the client and redirect URI are trusted, `error`, `error_description`, `state` and `iss`.',
  headers: { Location: header('Location'), 'Set-Cookie': header('SetSessionCookie') },
};

/** GET and POST of the setup or reset page: one form, two purposes (DESIGN §7). */
function setPasswordOperations(purpose: 'setup' | 'reset', what: string) {
  return {
    get: operation({
      id: `${purpose}PasswordForm`,
      tag: 'pages',
      summary: `The form that sets the ${what}; opening it uses nothing up`,
      parameters: [query('token', 'The link’s 256-bit token.', true)],
      responses: {
        '200': page('The form: `password`, `password_confirm`, hidden `token` and `csrf`.'),
        '400': page('An unknown, used or expired link (`link-invalid`).'),
        ...STORE_FAILURES,
      },
    }),
    post: operation({
      id: `${purpose}Password`,
      tag: 'pages',
      summary: `Sets the ${what}, uses the link up and signs the browser in`,
      body: formPost(
        {
          token: { type: 'string' },
          csrf: { type: 'string' },
          password: {
            type: 'string',
            description: '8 to 1024 characters; otherwise 400 and the form again.',
          },
          password_confirm: { type: 'string' },
        },
        ['token', 'password', 'password_confirm'],
      ),
      responses: {
        '200': page('Signed in; “you can return to the app”.', {
          'Set-Cookie': header('SetSessionCookie'),
        }),
        '303': codeRedirect,
        '400': page(
          'An unknown, used or expired link (`link-invalid`), no valid CSRF token (`page-expired`), or passwords that are too short, too long or differ (the form again; the link stays unused).',
        ),
        ...STORE_FAILURES,
      },
    }),
  };
}

export const pagesArea: Area = {
  components: {
    parameters: {
      BrandKind: pathParameter('kind', 'Whose branding', { enum: [...BRAND_KINDS] }),
      CacheBuster: query(
        'v',
        'Ignored; the pages add the branding’s update time so caches refresh.',
      ),
    },
  },
  paths: {
    '/oauth/authorize': {
      get: operation({
        id: 'authorize',
        tag: 'pages',
        summary: 'Authorization endpoint (RFC 6749 §4.1.1)',
        description:
          'Shows the login form (inputs `email` and `password`), or the tenant picker, or — with a login session — redirects at once.',
        parameters: authorizeQuery,
        responses: {
          '200': page('The login page or the tenant picker.', {
            'Set-Cookie': header('SetSessionCookie'),
          }),
          '303': codeRedirect,
          '400': page(
            'Unknown `client_id` or unregistered `redirect_uri`: a page with the code `configuration-mismatch` naming the field; never a redirect.',
          ),
          ...STORE_FAILURES,
        },
      }),
      post: operation({
        id: 'authorizeSubmit',
        tag: 'pages',
        summary: 'The login form and tenant picker post here',
        body: formPost(
          {
            txn: { type: 'string', description: 'Hidden: the sealed authorization request.' },
            csrf: {
              type: 'string',
              description: `Hidden: equals the \`${CSRF_COOKIE}\` cookie.`,
            },
            email: { type: 'string' },
            password: { type: 'string' },
            tenant: { type: 'string', description: 'The picked tenant id.' },
          },
          ['txn', 'csrf'],
        ),
        responses: {
          '200': page('The tenant picker (a user in several tenants).'),
          '303': codeRedirect,
          '400': page(
            'The form expired (`login-expired`) or the client changed (`configuration-mismatch`).',
          ),
          '401': page('Sign-in failed; the message never says whether the account exists.'),
          '429': page('Too many failed sign-ins for this account or address.', {
            'Retry-After': header('RetryAfter'),
          }),
          ...STORE_FAILURES,
        },
      }),
    },
    '/oauth/logout': {
      post: operation({
        id: 'logout',
        tag: 'pages',
        summary: 'Ends the browser’s login session',
        body: formPost(
          {
            csrf: {
              type: 'string',
              description: `The hidden \`csrf\` field of a login or tenant-picker page; equals the \`${CSRF_COOKIE}\` cookie.`,
            },
          },
          ['csrf'],
        ),
        responses: {
          '200': page('The signed-out page; the session cookie is cleared.', {
            'Set-Cookie': header('SetSessionCookie'),
          }),
          '403': page(
            'No CSRF token, or not the one of this browser’s `tessera_csrf` cookie (`logout-refused`): the session stays.',
          ),
          ...STORE_FAILURES,
        },
      }),
    },
    '/oauth/end-session': {
      get: operation({
        id: 'endSession',
        tag: 'pages',
        summary: 'RP-Initiated Logout 1.0 (`end_session_endpoint`)',
        parameters: Object.entries(endSessionFields).map(([name, schema]) =>
          query(name, schema.description, false, { maxLength: schema.maxLength }),
        ),
        responses: endSessionResponses,
      }),
      post: operation({
        id: 'endSessionSubmit',
        tag: 'pages',
        summary: 'RP-Initiated Logout by form post; the confirmation page posts here too',
        body: optionalFormPost({
          ...endSessionFields,
          csrf: {
            type: 'string',
            description: `With \`confirm\`: the confirmation page’s hidden field, equal to the \`${CSRF_COOKIE}\` cookie.`,
          },
          confirm: {
            type: 'string',
            description: 'Sent by the confirmation page’s button.',
          },
        }),
        responses: {
          ...endSessionResponses,
          '403': page(
            '`confirm` without the CSRF token of this browser’s `tessera_csrf` cookie (`logout-refused`): the session stays.',
          ),
        },
      }),
    },
    '/account/forgot': {
      get: operation({
        id: 'forgotPasswordForm',
        tag: 'pages',
        summary:
          'The forgot-password form (DESIGN §7); without `smtpUrl`, a page that says to ask the administrator',
        responses: {
          '200': page('The form, or the ask-the-administrator page.'),
          ...STORE_FAILURES,
        },
      }),
      post: operation({
        id: 'forgotPassword',
        tag: 'pages',
        summary: 'Queues a reset mail for the address as typed; the same answer for every address',
        body: formPost(
          {
            csrf: {
              type: 'string',
              description: `The form’s hidden field, equal to the \`${CSRF_COOKIE}\` cookie.`,
            },
            email: { type: 'string', maxLength: 254 },
          },
          ['email'],
        ),
        responses: {
          '200': page(
            'The same “check your email” page whether or not an account has the address, and past the per-address limit too.',
          ),
          '400': page(
            'Not an email address (the form again), or no valid CSRF token (`page-expired`).',
          ),
          '429': page('Too many requests from this IP.', { 'Retry-After': header('RetryAfter') }),
          ...STORE_FAILURES,
        },
      }),
    },
    '/account/setup': setPasswordOperations('setup', 'first password (an invitation)'),
    '/account/reset': setPasswordOperations('reset', 'new password (a reset)'),
    [STYLESHEET_PATH]: {
      get: operation({
        id: 'stylesheet',
        tag: 'pages',
        summary: 'The pages’ stylesheet',
        responses: { '200': cached('CSS.', 86400, text('text/css')) },
      }),
    },
    '/branding/logo/{kind}/{id}': {
      get: operation({
        id: 'brandLogo',
        tag: 'pages',
        summary: 'An uploaded tenant or client logo',
        parameters: [
          parameter('BrandKind'),
          pathParameter('id', 'Tenant or client id'),
          parameter('CacheBuster'),
        ],
        responses: {
          '200': cached('The image, served with a sandboxing CSP.', 3600, {
            'image/png': {},
            'image/jpeg': {},
            'image/webp': {},
            'image/svg+xml': {},
          }),
          '404': response('NotFound'),
          ...STORE_FAILURES,
        },
      }),
    },
    '/branding/style/{kind}/{file}': {
      get: operation({
        id: 'brandStylesheet',
        tag: 'pages',
        summary: 'A tenant’s or client’s accent colour, as CSS',
        parameters: [
          parameter('BrandKind'),
          pathParameter('file', 'The tenant or client id followed by `.css`', {
            pattern: '\\.css$',
          }),
          parameter('CacheBuster'),
        ],
        responses: {
          '200': cached('CSS.', 3600, text('text/css')),
          '404': response('NotFound'),
          ...STORE_FAILURES,
        },
      }),
    },
  },
};
