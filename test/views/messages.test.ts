/**
 * The message catalogue: every page renders from it alone. A catalogue wrapped in a Proxy
 * fails on any key it lacks, every key is used by some page, and no page shows `undefined`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Messages, catalogues, messages } from '../../src/views/messages/index.js';
import {
  type MismatchProblem,
  consentPage,
  endSessionPage,
  errorPage,
  forgotPage,
  loginPage,
  mismatchPage,
  noticePage,
  setPasswordPage,
  tenantPickerPage,
} from '../../src/views/pages.js';
import { accountMail } from '../../src/views/mail.js';

const form = { txn: 'txn-value', csrf: 'csrf-value' };
const brand = { name: 'Acme', logoUrl: '/branding/logo/client/x', supportUrl: 'https://help' };

const problems: MismatchProblem[] = [
  { kind: 'missing-client' },
  { kind: 'unknown-client', clientId: 'nope' },
  { kind: 'missing-redirect', clientId: 'app', registered: ['https://a/cb', 'https://b/cb'] },
  {
    kind: 'unregistered-redirect',
    clientId: 'app',
    sent: 'https://dnaspaces.io/cb',
    registered: ['https://dnaspaces.eu/cb'],
    spaces: { sent: 'sandbox', registered: ['live'] },
  },
  { kind: 'repeated', field: 'client_id' },
];

/** Every page, rendered with `m`. */
function renderAll(m: Messages): string[] {
  return [
    loginPage({ ...form, m, brand, clientName: 'App', forgotUrl: '/account/forgot' }),
    // Account pages and mail (DESIGN §7).
    forgotPage({ m, csrf: 'c', available: true }),
    forgotPage({ m, csrf: 'c', available: true, email: 'x', error: m.forgotInvalidEmail }),
    forgotPage({ m, csrf: 'c', available: true, email: 'a@b', error: m.forgotTooMany(30) }),
    forgotPage({ m, csrf: 'c', available: false }),
    noticePage({ m, title: m.forgotSentTitle, message: m.forgotSentMessage }),
    noticePage({ m, title: m.passwordSetTitle, message: m.passwordSetMessage }),
    ...[m.passwordTooShort(8), m.passwordTooLong(1024), m.passwordsDiffer].map((error) =>
      setPasswordPage({
        m,
        purpose: 'reset',
        token: 't',
        csrf: 'c',
        email: 'a@b',
        minLength: 8,
        error,
      }),
    ),
    setPasswordPage({ m, purpose: 'setup', token: 't', csrf: 'c', email: 'a@b', minLength: 8 }),
    errorPage({
      m,
      title: m.linkInvalidTitle,
      code: 'link-invalid',
      message: m.linkInvalidMessage,
    }),
    errorPage({
      m,
      title: m.accountPageExpiredTitle,
      code: 'page-expired',
      message: m.accountPageExpiredMessage,
    }),
    ...(['setup', 'reset'] as const).flatMap((purpose) =>
      [60, 1800, 7200, 604800].map((ttl) => {
        const mail = accountMail(
          { purpose, email: 'a@b', link: 'https://x/l', ttl, brand: { name: 'Acme' } },
          m,
        );
        return `${mail.subject}\n${mail.text}\n${mail.html}`;
      }),
    ),
    loginPage({ ...form, m, clientName: 'App', email: 'a@b.example', error: m.loginFailed }),
    loginPage({ ...form, m, clientName: 'App', email: 'a@b.example', error: m.lockedOut(10) }),
    tenantPickerPage({
      ...form,
      m,
      clientName: 'App',
      tenants: [
        { id: 'a', name: 'A' },
        { id: 'b', name: 'B' },
      ],
    }),
    consentPage({
      ...form,
      m,
      brand,
      clientName: 'App',
      scopes: ['openid', 'profile', 'email', 'offline_access', 'reports:read'],
      signedInAs: 'a@b.example',
    }),
    endSessionPage({ m, csrf: 'csrf-value', fields: { state: 's' }, clientName: 'App' }),
    endSessionPage({ m, csrf: 'csrf-value', fields: {} }),
    errorPage({
      m,
      title: m.endSessionRefusedTitle,
      code: 'logout-unregistered-redirect',
      message: m.endSessionUnregisteredMessage,
    }),
    errorPage({
      m,
      title: m.endSessionRefusedTitle,
      code: 'logout-invalid-request',
      message: m.endSessionInvalidMessage,
    }),
    ...problems.map((p) =>
      mismatchPage(p.kind.includes('redirect') ? 'redirect_uri' : 'client_id', p, 'req-1', m),
    ),
    errorPage({ m, title: m.expiredTitle, code: 'login-expired', message: m.expiredMessage }),
    errorPage({ m, title: m.signedOutTitle, code: 'signed-out', message: m.signedOutMessage }),
    errorPage({
      m,
      title: m.logoutRefusedTitle,
      code: 'logout-refused',
      message: m.logoutRefusedMessage,
    }),
    errorPage({
      m,
      title: m.unavailableTitle,
      code: 'temporarily_unavailable',
      message: m.unavailableMessage,
    }),
    errorPage({
      m,
      title: m.launchRefusedTitle,
      code: 'launch-refused',
      message: m.launchRefusedMessage,
    }),
  ];
}

/** `catalogue` behind a Proxy that records the keys read and throws on a missing one. */
function strict(catalogue: Messages): { m: Messages; used: Set<string> } {
  const used = new Set<string>();
  const m = new Proxy(catalogue, {
    get(target, key) {
      if (typeof key !== 'string') return undefined;
      if (!(key in target)) throw new Error(`message key "${key}" is missing`);
      used.add(key);
      return target[key as keyof Messages];
    },
  });
  return { m, used };
}

for (const [lang, catalogue] of Object.entries(catalogues)) {
  test(`catalogue "${lang}": every page renders from it, with no missing or empty text`, () => {
    const { m, used } = strict(catalogue);
    const pages = renderAll(m);
    for (const page of pages) {
      assert.ok(!/undefined|\[object Object\]|NaN/.test(page), page);
      assert.match(page, new RegExp(`<html lang="${catalogue.lang}">`));
    }
    for (const [key, value] of Object.entries(catalogue)) {
      if (typeof value === 'string') assert.ok(value.trim().length > 0, `${key} is empty`);
    }
    // The catalogue is read by the pages (mismatchField and the like through the page itself).
    const unused = Object.keys(catalogue).filter((k) => !used.has(k));
    assert.deepEqual(unused, [], 'every key is used by some page');
  });
}

test('the default catalogue is English', () => {
  assert.equal(messages.lang, 'en');
});
