import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, createTestApp } from '../helpers/app.js';

/** The value of one sample line of the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp();
    await t.tenant('acme');
    await t.client({
      clientId: 'setu1',
      secret: 'setu-secret-0123456789',
      dialect: 'setu',
      tenants: ['acme'],
    });
    const ok = {
      grant_type: 'client_credentials',
      client_id: 'setu1',
      client_secret: 'setu-secret-0123456789',
    };
    await t.app.inject({ method: 'POST', url: '/auth/token', payload: ok });
    await t.app.inject({ method: 'POST', url: '/auth/token', payload: ok });
    await t.app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { ...ok, client_secret: 'wrong-wrong-wrong' },
    });
    await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { ...ok, grant_type: 'made-up' },
    });
  });
  after(() => t.close());

  test('counts token requests by grant type, dialect and outcome, with closed label values', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const text = res.body;
    assert.equal(
      sample(
        text,
        'tessera_token_requests_total{grant_type="client_credentials",dialect="setu",outcome="issued"}',
      ),
      2,
    );
    assert.equal(
      sample(
        text,
        'tessera_token_requests_total{grant_type="client_credentials",dialect="unknown",outcome="invalid_client"}',
      ),
      1,
    );
    // The caller's grant_type never becomes a label value.
    assert.equal(
      sample(
        text,
        'tessera_token_requests_total{grant_type="other",dialect="setu",outcome="unsupported_grant_type"}',
      ),
      1,
    );
    assert.ok(!text.includes('made-up'));
  });

  test('counts HTTP requests by route pattern and observes latency', async () => {
    await t.app.inject({ method: 'GET', url: '/no/such/path?x=1' });
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(
      sample(text, 'tessera_http_requests_total{route="/auth/token",method="POST",status="200"}'),
      2,
    );
    assert.equal(
      sample(text, 'tessera_http_requests_total{route="unmatched",method="GET",status="404"}'),
      1,
    );
    assert.equal(
      sample(text, 'tessera_http_request_duration_seconds_count{route="/auth/token"}'),
      3,
    );
  });

  test('reports the age of the signing key and process metrics', async () => {
    t.clock.advance(120);
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'tessera_signing_key_age_seconds'), 120);
    assert.ok(
      sample(text, 'tessera_process_resident_memory_bytes') !== undefined ||
        text.includes('tessera_nodejs_heap_size_total_bytes'),
    );
  });

  test('reports the database pool on PostgreSQL (SQLite has a single connection and no pool)', async () => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const total = sample(text, 'tessera_db_pool_connections{state="total"}');
    if (t.deps.store.engine === 'postgres') {
      assert.ok(total !== undefined && total >= 1, `pool total ${total}`);
      assert.equal(sample(text, 'tessera_db_pool_connections{state="waiting"}'), 0);
    } else {
      assert.equal(total, undefined);
    }
  });

  test('with metricsPort set, the main listener does not serve /metrics', async () => {
    const other = await createTestApp({ flags: { metricsPort: 0 } });
    try {
      assert.equal((await other.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await other.close();
    }
  });
});
