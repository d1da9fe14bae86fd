/**
 * The configuration-mismatch page is shown to whoever opens the link, so it names only the
 * field and echoes what the request sent; what the client has registered, and the full
 * reason, go to the audit trail (`authorize.mismatch`) for the operator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listAudit } from '../../src/admin/audit.js';
import { applyBranding } from '../../src/admin/branding.js';
import { updateClient } from '../../src/admin/clients.js';
import { createUser } from '../../src/admin/users.js';
import { type TestApp, createTestApp } from '../helpers/app.js';
import {
  CookieJar,
  assertPageHeaders,
  authorizeUrl,
  browserGet,
  isLoginPage,
  submitLogin,
} from '../helpers/spaces.js';

const SANDBOX = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const SANDBOX_EU = 'https://partners.dnaspaces.eu/partner/OAuthValidation';
const LIVE = 'https://dnaspaces.io/partner/OAuthValidation';
const CLIENT_NAME = 'Globex Occupancy Dashboard';
/** What a stranger must not learn from the page: the client's registration. */
const REGISTERED_SECRETS = [
  SANDBOX,
  SANDBOX_EU,
  'partners.dnaspaces',
  CLIENT_NAME,
  'sandbox',
  'Globex Brand',
  'support.globex.example',
  '/branding/',
];

type Page = Awaited<ReturnType<typeof browserGet>>;

/** A 400 mismatch page naming `field`, no redirect, and none of `hidden` on it. */
function assertBareMismatch(
  res: Page,
  field: 'client_id' | 'redirect_uri',
  hidden: readonly string[] = REGISTERED_SECRETS,
): void {
  assert.equal(res.statusCode, 400, res.body);
  assertPageHeaders(res);
  assert.equal(res.headers['location'], undefined);
  assert.ok(res.body.includes('configuration-mismatch'), res.body);
  assert.ok(res.body.includes(`Field that did not match: ${field}`), res.body);
  for (const secret of hidden) assert.ok(!res.body.includes(secret), secret);
}

describe('configuration mismatch: the page tells nothing registered, the audit trail does', () => {
  let t: TestApp;
  const password = 'correct horse battery';

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await createUser(t.deps, { email: 'ann@acme.example', tenants: ['acme'], password });
    await t.client({
      clientId: 'dnaspaces',
      secret: '31e08c21136c9102cdee',
      name: CLIENT_NAME,
      dialect: 'cisco-spaces',
      redirectUris: [SANDBOX, SANDBOX_EU],
    });
    await applyBranding(t.deps, 'client', 'dnaspaces', {
      name: 'Globex Brand',
      supportUrl: 'https://support.globex.example/help',
    });
  });
  after(() => t.close());

  async function get(query: Record<string, string>): Promise<Page> {
    return browserGet(t, new CookieJar(), authorizeUrl({ response_type: 'code', ...query }));
  }

  /** The one `authorize.mismatch` event of request `res`. */
  async function auditOf(res: Page) {
    const events = (await listAudit(t.deps, { type: 'authorize.mismatch' })).filter(
      (e) => e.request_id === res.headers['x-request-id'],
    );
    assert.equal(events.length, 1, JSON.stringify(events));
    return events[0] as (typeof events)[number];
  }

  test('an unregistered redirect_uri: the page shows what was sent, the audit what is registered', async () => {
    const res = await get({ client_id: 'dnaspaces', redirect_uri: LIVE, state: 'st' });
    assertBareMismatch(res, 'redirect_uri');
    assert.ok(res.body.includes(`redirect_uri sent: ${LIVE}`), res.body);
    assert.ok(res.body.includes('tessera audit list --type authorize.mismatch'), res.body);
    assert.ok(
      res.body.includes(String(res.headers['x-request-id'])),
      'the page gives the reference',
    );

    const event = await auditOf(res);
    assert.equal(event.client_id, 'dnaspaces');
    assert.equal(event.ip, '127.0.0.1');
    assert.equal(
      event.reason,
      `redirect_uri not registered; registered: ${SANDBOX}, ${SANDBOX_EU}; ` +
        'the request comes from a Cisco Spaces live app, but only sandbox redirect URIs are registered; ' +
        `sent: ${LIVE}`,
    );
  });

  test('no redirect_uri with several registered: none of them on the page', async () => {
    const res = await get({ client_id: 'dnaspaces' });
    assertBareMismatch(res, 'redirect_uri');
    assert.equal(
      (await auditOf(res)).reason,
      `redirect_uri missing; registered: ${SANDBOX}, ${SANDBOX_EU}`,
    );
  });

  test('an unknown client_id: named on the page as sent, audited under that id', async () => {
    const res = await get({ client_id: 'dnaspace', redirect_uri: SANDBOX });
    assertBareMismatch(res, 'client_id');
    assert.ok(res.body.includes('client_id &quot;dnaspace&quot; is not a registered client'));
    const event = await auditOf(res);
    assert.equal(event.client_id, 'dnaspace');
    assert.equal(event.reason, 'client_id not registered');
  });

  test('no client_id, or a repeated one: audited too', async () => {
    const missing = await get({ redirect_uri: SANDBOX });
    assertBareMismatch(missing, 'client_id');
    assert.equal((await auditOf(missing)).reason, 'client_id missing');
    const repeated = await browserGet(
      t,
      new CookieJar(),
      `/oauth/authorize?client_id=dnaspaces&redirect_uri=x&redirect_uri=y&response_type=code`,
    );
    assertBareMismatch(repeated, 'redirect_uri');
    assert.equal((await auditOf(repeated)).reason, 'redirect_uri given more than once');
  });

  test('a hostile redirect_uri (long, with NUL and newlines): a 400, the registered values kept in the reason', async () => {
    const hostile = `https://evil.example/\0cb\r\n${'x'.repeat(4000)}`;
    const res = await get({ client_id: 'dnaspaces', redirect_uri: hostile });
    assertBareMismatch(res, 'redirect_uri');
    const reason = (await auditOf(res)).reason ?? '';
    assert.ok(
      reason.startsWith(
        `redirect_uri not registered; registered: ${SANDBOX}, ${SANDBOX_EU}; sent: https://evil.example/cb `,
      ),
      reason,
    );
    assert.equal(reason.length, 500);
  });

  test('a client changed while its login page was open: the post gets the bare page too', async () => {
    const jar = new CookieJar();
    const page = await browserGet(
      t,
      jar,
      authorizeUrl({ client_id: 'dnaspaces', redirect_uri: SANDBOX, response_type: 'code' }),
    );
    assert.ok(isLoginPage(page));
    assert.ok(page.body.includes('Globex Brand'), 'the login page, past the checks, is branded');
    await updateClient(t.deps, 'dnaspaces', { redirectUris: [SANDBOX_EU] });
    try {
      const res = await submitLogin(t, jar, page, 'ann@acme.example', password);
      // What the transaction sent is echoed; what is registered now is not.
      assertBareMismatch(res, 'redirect_uri', [SANDBOX_EU, 'dnaspaces.eu', CLIENT_NAME]);
      assert.ok(res.body.includes(`redirect_uri sent: ${SANDBOX}`), res.body);
      assert.equal(
        (await auditOf(res)).reason,
        `redirect_uri not registered; registered: ${SANDBOX_EU}; sent: ${SANDBOX}`,
      );
    } finally {
      await updateClient(t.deps, 'dnaspaces', { redirectUris: [SANDBOX, SANDBOX_EU] });
    }
  });
});
