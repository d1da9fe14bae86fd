/**
 * Branding per tenant and per client: validation (type sniffing, size, colour, support
 * link, no logo URLs), storage, the logo and stylesheet routes, the admin API fields, and
 * the login page using the client's branding over the tenant's, with the CSP untouched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MAX_LOGO_BYTES,
  applyBranding,
  checkColor,
  checkSupportUrl,
  sniffImage,
} from '../../src/admin/branding.js';
import { ValidationError } from '../../src/admin/context.js';
import { createTenant, updateTenant } from '../../src/admin/tenants.js';
import { textOn } from '../../src/views/brand.js';
import { type TestApp, createTestApp } from '../helpers/app.js';

/** A 1×1 transparent PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

describe('branding', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await t.client({
      clientId: 'app',
      secret: 'app-secret-0123456789',
      name: 'Portal',
      grants: ['authorization_code'],
      redirectUris: ['https://app.example/cb'],
      tenants: ['acme'],
    });
    await t.client({ clientId: 'ops', secret: 'ops-secret-0123456789', scopes: ['tessera:admin'] });
  });
  after(() => t.close());

  test('images are recognised by their bytes, not their names', () => {
    assert.equal(sniffImage(PNG), 'image/png');
    assert.equal(sniffImage(SVG), 'image/svg+xml');
    assert.equal(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0])), 'image/jpeg');
    assert.equal(sniffImage(Buffer.from('RIFF\0\0\0\0WEBPVP8 ')), 'image/webp');
    assert.equal(sniffImage(Buffer.from('GIF89a')), undefined);
    assert.equal(sniffImage(Buffer.from('<html><svg></svg></html>')), undefined);
  });

  test('colour, support link and text colour on the accent', () => {
    assert.equal(checkColor('#0B5CAD'), '#0b5cad');
    for (const bad of ['red', '#fff', '#12345g', 'url(x)', '#0b5cad;}'])
      assert.throws(() => checkColor(bad), ValidationError);
    assert.equal(checkSupportUrl('mailto:help@acme.example'), 'mailto:help@acme.example');
    assert.equal(checkSupportUrl('https://acme.example/help'), 'https://acme.example/help');
    for (const bad of ['http://acme.example', 'javascript:alert(1)', 'ftp://x', 'help'])
      assert.throws(() => checkSupportUrl(bad), ValidationError);
    assert.equal(textOn('#0b5cad'), '#ffffff');
    assert.equal(textOn('#ffd400'), '#111111');
  });

  test('logos: too big, wrong type, script in SVG or given as a URL are refused', async () => {
    const big = Buffer.concat([PNG, Buffer.alloc(MAX_LOGO_BYTES)]);
    await assert.rejects(applyBranding(t.deps, 'tenant', 'acme', { logo: big }), /KiB/);
    await assert.rejects(
      applyBranding(t.deps, 'tenant', 'acme', { logo: Buffer.from('GIF89a') }),
      /PNG, SVG, JPEG or WebP/,
    );
    await assert.rejects(
      applyBranding(t.deps, 'tenant', 'acme', {
        logo: Buffer.from('<svg onload="alert(1)"></svg>'),
      }),
      /scripts/,
    );
    await assert.rejects(
      applyBranding(t.deps, 'tenant', 'acme', { logoUrl: 'https://cdn.example/logo.png' }),
      /not supported.*CSP/,
    );
    await assert.rejects(
      createTenant(t.deps, 'never', { name: 'Never', branding: { color: 'blue' } }),
      ValidationError,
    );
    assert.equal(await t.deps.store.getTenant('never'), undefined, 'nothing half-created');
  });

  test('login page: the client branding wins over its single tenant, CSP unchanged', async () => {
    const tenantView = await updateTenant(t.deps, 'acme', {
      branding: { name: 'Acme Corp', color: '#aa0000', logo: SVG },
    });
    assert.equal(tenantView.brand_name, 'Acme Corp');
    assert.equal(tenantView.brand_logo, '/branding/logo/tenant/acme');

    const login = () =>
      t.app.inject({
        method: 'GET',
        url: '/oauth/authorize?client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code',
      });
    let page = await login();
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-security-policy'], CSP);
    assert.match(page.body, /Acme Corp/);
    assert.match(page.body, /href="\/branding\/style\/tenant\/acme\.css\?v=\d+"/);
    assert.match(page.body, /src="\/branding\/logo\/tenant\/acme\?v=\d+"/);
    assert.ok(!/style=/.test(page.body), 'no inline style');

    const res = await t.app.inject({
      method: 'PATCH',
      url: '/admin/v1/clients/app',
      headers: {
        authorization: `Bearer ${await adminToken()}`,
        'content-type': 'application/json',
      },
      payload: JSON.stringify({
        brand_name: 'Portal Pro',
        brand_color: '#00AA55',
        brand_support_url: 'mailto:help@portal.example',
        brand_logo_base64: PNG.toString('base64'),
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().brand_color, '#00aa55');
    assert.equal(res.json().brand_logo, '/branding/logo/client/app');

    page = await login();
    assert.match(page.body, /Portal Pro/);
    assert.ok(!page.body.includes('Acme Corp'));
    assert.match(page.body, /href="\/branding\/style\/client\/app\.css\?v=\d+"/);
    assert.match(page.body, /src="\/branding\/logo\/client\/app\?v=\d+"/);
    assert.match(page.body, /href="mailto:help@portal\.example"/);

    const logo = await t.app.inject({ method: 'GET', url: '/branding/logo/client/app?v=1' });
    assert.equal(logo.statusCode, 200);
    assert.equal(logo.headers['content-type'], 'image/png');
    assert.equal(logo.headers['cache-control'], 'public, max-age=3600');
    assert.equal(logo.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual(logo.rawPayload, PNG);
    const svg = await t.app.inject({ method: 'GET', url: '/branding/logo/tenant/acme' });
    assert.equal(svg.headers['content-type'], 'image/svg+xml');
    assert.match(String(svg.headers['content-security-policy']), /sandbox/);

    const css = await t.app.inject({ method: 'GET', url: '/branding/style/client/app.css' });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.match(css.body, /--accent: #00aa55;/);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/branding/logo/client/none' })).statusCode,
      404,
    );
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/branding/style/other/app.css' })).statusCode,
      404,
    );

    const refused = await t.app.inject({
      method: 'PATCH',
      url: '/admin/v1/tenants/acme',
      headers: {
        authorization: `Bearer ${await adminToken()}`,
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ brand_logo_url: 'https://cdn.example/logo.png' }),
    });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.json().error_description, /CSP/);
  });

  async function adminToken(): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'client_credentials',
        client_id: 'ops',
        client_secret: 'ops-secret-0123456789',
        scope: 'tessera:admin',
      },
    });
    return res.json().access_token as string;
  }
});
