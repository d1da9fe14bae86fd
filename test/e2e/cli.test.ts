/**
 * The management CLI as a process: every command with and without `--json`, its output
 * contract (one JSON value on stdout, snake_case keys; errors one line on stderr, exit 1) and,
 * against a running server, what the commands change (secret rotation, deletion).
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type CliResult,
  type Workspace,
  createWorkspace,
  newMasterKey,
  runCli,
} from '../helpers/cli.js';
import { type RunningServer, postForm, startServer } from '../helpers/server.js';

type Json = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What a user's JSON holds: never a password or hash, only whether a password is set. */
const USER_KEYS = [
  'created_at',
  'disabled',
  'email',
  'email_verified',
  'id',
  'name',
  'password_set',
  'tenants',
];
const GENERATED_SECRET = /^[A-Za-z0-9_-]{43}$/;
const SPACES_SECRET = '31e08c21136c9102cdee';

const workspaces: Workspace[] = [];
function workspace(env: Record<string, string> = {}): Workspace {
  const ws = createWorkspace({ env, prefix: 'tessera-cli-' });
  workspaces.push(ws);
  return ws;
}
after(() => {
  for (const ws of workspaces) ws.remove();
});

function assertSnakeCase(item: Json): void {
  for (const key of Object.keys(item)) assert.match(key, /^[a-z][a-z0-9_]*$/, `key ${key}`);
}

/** `--json` output: exactly one JSON object on stdout, snake_case keys. */
function jsonObject(r: CliResult): Json {
  assert.equal(r.code, 0, r.stderr);
  const value: unknown = JSON.parse(r.stdout);
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), r.stdout);
  assertSnakeCase(value as Json);
  return value as Json;
}

/** `--json` output for a list: exactly one JSON array of snake_case objects. */
function jsonArray(r: CliResult): Json[] {
  assert.equal(r.code, 0, r.stderr);
  const value: unknown = JSON.parse(r.stdout);
  assert.ok(Array.isArray(value), r.stdout);
  for (const item of value as Json[]) assertSnakeCase(item);
  return value as Json[];
}

/** Plain output: text, not JSON; returns its lines. */
function textLines(r: CliResult): string[] {
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /^\s*[[{]/, 'plain output is not JSON');
  return r.stdout.split('\n').filter((l) => l.length > 0);
}

/** An operator error: exit 1, nothing on stdout, one line on stderr. */
function oneLineError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', pattern);
}

/** `key: value` lines of plain `show`-style output. */
function fields(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const m = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (m?.[1] !== undefined) out.set(m[1], m[2] ?? '');
  }
  return out;
}

/** DESIGN §3: an imported secret is never echoed, neither as `client_secret` nor anywhere. */
function assertNotEchoed(r: CliResult, secret: string): void {
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /client_secret/);
  assert.equal(r.stdout.includes(secret), false, 'the imported secret is on stdout');
  assert.equal(r.stderr.includes(secret), false, 'the imported secret is on stderr');
}

describe('migrate', { timeout: 300_000 }, () => {
  test('prints the applied migrations the first time and an empty list the second', async () => {
    const ws = workspace({ TESSERA_MASTER_KEY: newMasterKey() });
    const first = jsonObject(await ws.cli(['--json', 'migrate']));
    assert.ok(Array.isArray(first['applied']));
    assert.ok((first['applied'] as string[]).length > 0);
    for (const name of first['applied'] as string[]) assert.match(name, /^\d{4}_/);
    assert.deepEqual(jsonObject(await ws.cli(['--json', 'migrate'])), { applied: [] });
    assert.deepEqual(textLines(await ws.cli(['migrate'])), ['applied: -']);
    // A configured master key: nothing is generated.
    assert.equal(existsSync(join(ws.dir, 'master.key')), false);
  });

  test('plain output; TESSERA_DATABASE_URL names the store, --database wins over it', async () => {
    const ws = workspace();
    const env = { TESSERA_MASTER_KEY: newMasterKey() };
    const fromEnv = `sqlite:${join(ws.dir, 'from-env.db')}`;
    const r = await runCli(['migrate'], {
      cwd: ws.dir,
      env: { ...env, TESSERA_DATABASE_URL: fromEnv },
    });
    assert.match(textLines(r)[0] ?? '', /^applied: +\d{4}_/);
    assert.ok(existsSync(join(ws.dir, 'from-env.db')));
    assert.equal(existsSync(join(ws.dir, 'data')), false, 'not the default ./data/tessera.db');

    const flagged = await runCli(['--database', ws.database, '--json', 'migrate'], {
      cwd: ws.dir,
      env: { ...env, TESSERA_DATABASE_URL: fromEnv },
    });
    assert.ok((jsonObject(flagged)['applied'] as string[]).length > 0, 'a fresh database');
    assert.ok(existsSync(join(ws.dir, 'tessera.db')));
  });
});

describe('management commands', { timeout: 900_000 }, () => {
  // No TESSERA_MASTER_KEY: the CLI generates one beside the SQLite file on first use.
  let ws: Workspace;
  let server: RunningServer;

  before(async () => {
    ws = workspace();
  });
  after(async () => {
    await server?.stop();
  });

  const token = (clientId: string, secret: string) =>
    postForm(`${server.url}/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
    });

  describe('tenant', () => {
    test('create --json prints the tenant; the first command generated the master key', async () => {
      const r = await ws.cli([
        '--json',
        'tenant',
        'create',
        '--id',
        'acme',
        '--name',
        'Acme',
        '--domain',
        'Acme.Example.com',
        '--support-email',
        'help@acme.example.com',
      ]);
      const tenant = jsonObject(r);
      assert.equal(tenant['id'], 'acme');
      assert.equal(tenant['name'], 'Acme');
      assert.equal(tenant['domain'], 'acme.example.com');
      assert.equal(tenant['support_email'], 'help@acme.example.com');
      // The warning goes to stderr, never stdout.
      assert.match(r.stderr, /master key/);
      assert.equal(statSync(join(ws.dir, 'master.key')).mode & 0o777, 0o600);
    });

    test('create (plain) prints key: value lines', async () => {
      const r = await ws.cli(['tenant', 'create', '--id', 'beta', '--name', 'Beta']);
      const f = fields(textLines(r));
      assert.equal(f.get('id'), 'beta');
      assert.equal(f.get('name'), 'Beta');
      // The generated key is reused: no second warning.
      assert.equal(r.stderr, '');
    });

    test('a duplicate tenant id is one line on stderr, exit 1', async () => {
      oneLineError(
        await ws.cli(['--json', 'tenant', 'create', '--id', 'acme', '--name', 'Again']),
        /acme/,
      );
      oneLineError(await ws.cli(['tenant', 'create', '--id', 'acme', '--name', 'Again']), /acme/);
    });

    test('update', async () => {
      const updated = jsonObject(
        await ws.cli([
          '--json',
          'tenant',
          'update',
          'acme',
          '--name',
          'Acme Corp',
          '--app-url',
          'https://app.acme.example.com/',
        ]),
      );
      assert.equal(updated['id'], 'acme');
      assert.equal(updated['name'], 'Acme Corp');
      assert.equal(updated['app_url'], 'https://app.acme.example.com/');
      assert.equal(updated['domain'], 'acme.example.com', 'fields not given are kept');
      const f = fields(textLines(await ws.cli(['tenant', 'update', 'beta', '--name', 'Beta 2'])));
      assert.equal(f.get('name'), 'Beta 2');
      oneLineError(await ws.cli(['tenant', 'update', 'nope', '--name', 'X']), /nope/);
    });

    test('telemetry set', async () => {
      const entry = jsonObject(
        await ws.cli([
          '--json',
          'tenant',
          'telemetry',
          'set',
          'acme',
          '--name',
          'devices',
          '--value',
          '12',
          '--units',
          'count',
        ]),
      );
      assert.equal(entry['tenant_id'], 'acme');
      assert.equal(entry['name'], 'devices');
      assert.equal(entry['value'], '12', 'telemetry values are strings');
      assert.equal(entry['units'], 'count');
      assert.equal(typeof entry['type'], 'string');
      const f = fields(
        textLines(
          await ws.cli([
            'tenant',
            'telemetry',
            'set',
            'acme',
            '--name',
            'devices',
            '--value',
            '13',
            '--units',
            'count',
            '--type',
            'gauge',
          ]),
        ),
      );
      assert.equal(f.get('value'), '13');
      assert.equal(f.get('type'), 'gauge');
      oneLineError(
        await ws.cli([
          'tenant',
          'telemetry',
          'set',
          'nope',
          '--name',
          'n',
          '--value',
          '1',
          '--units',
          'u',
        ]),
        /nope/,
      );
    });

    test('list', async () => {
      const tenants = jsonArray(await ws.cli(['--json', 'tenant', 'list']));
      assert.deepEqual(tenants.map((t) => t['id']).sort(), ['acme', 'beta']);
      const lines = textLines(await ws.cli(['tenant', 'list']));
      assert.match(lines[0] ?? '', /^ID\s+NAME\s+DOMAIN/);
      assert.equal(lines.length, 3);
      assert.ok(lines.some((l) => /^acme\s+Acme Corp\s+acme\.example\.com/.test(l)));
    });
  });

  describe('user', () => {
    let userId: string;

    test('create --tenant a --tenant b --password-stdin', async () => {
      const user = jsonObject(
        await ws.cli(
          [
            '--json',
            'user',
            'create',
            '--email',
            'Ada@Example.com',
            '--name',
            'Ada',
            '--tenant',
            'acme',
            '--tenant',
            'beta',
            '--password-stdin',
          ],
          { stdin: 'correct horse battery staple\n' },
        ),
      );
      assert.match(user['id'] as string, UUID);
      userId = user['id'] as string;
      assert.equal(user['email'], 'ada@example.com');
      assert.deepEqual(user['tenants'], ['acme', 'beta']);
      assert.equal(user['disabled'], false);
      // Whether a password is set, never the password or its hash.
      assert.deepEqual(Object.keys(user).sort(), USER_KEYS);
      assert.equal(user['password_set'], true);
    });

    test('create (plain)', async () => {
      const f = fields(
        textLines(
          await ws.cli(
            [
              'user',
              'create',
              '--email',
              'bob@example.com',
              '--tenant',
              'acme',
              '--password-stdin',
            ],
            { stdin: 'another long password' },
          ),
        ),
      );
      assert.equal(f.get('email'), 'bob@example.com');
      assert.equal(f.get('tenants'), 'acme');
    });

    test('errors: unknown tenant, duplicate email, no password on stdin', async () => {
      oneLineError(
        await ws.cli(
          ['user', 'create', '--email', 'eve@example.com', '--tenant', 'nope', '--password-stdin'],
          { stdin: 'a fine password\n' },
        ),
        /nope/,
      );
      oneLineError(
        await ws.cli(
          ['user', 'create', '--email', 'ada@example.com', '--tenant', 'acme', '--password-stdin'],
          { stdin: 'a fine password\n' },
        ),
        /ada@example\.com/,
      );
      oneLineError(
        await ws.cli(['user', 'create', '--email', 'eve@example.com', '--tenant', 'acme']),
        /password-stdin/,
      );
      oneLineError(
        await ws.cli(
          ['user', 'create', '--email', 'eve@example.com', '--tenant', 'acme', '--password-stdin'],
          { stdin: '' },
        ),
        /password/,
      );
    });

    test('set-password', async () => {
      const user = jsonObject(
        await ws.cli(['--json', 'user', 'set-password', 'ada@example.com', '--password-stdin'], {
          stdin: 'a brand new password\n',
        }),
      );
      assert.equal(user['id'], userId);
      const f = fields(
        textLines(
          await ws.cli(['user', 'set-password', 'bob@example.com', '--password-stdin'], {
            stdin: 'yet another password\n',
          }),
        ),
      );
      assert.equal(f.get('email'), 'bob@example.com');
      oneLineError(
        await ws.cli(['user', 'set-password', 'nobody@example.com', '--password-stdin'], {
          stdin: 'a password that fits\n',
        }),
        /nobody@example\.com/,
      );
    });

    test('consents and revoke-consent: none yet; an unknown user or consent is refused', async () => {
      assert.deepEqual(
        jsonArray(await ws.cli(['--json', 'user', 'consents', 'ada@example.com'])),
        [],
      );
      oneLineError(await ws.cli(['user', 'consents', 'nobody@example.com']), /nobody@example\.com/);
      oneLineError(
        await ws.cli(['user', 'revoke-consent', 'ada@example.com', '--client', 'ghost']),
        /no consent for client ghost/,
      );
      // A usage error: commander's exit code 2.
      const usage = await ws.cli(['user', 'revoke-consent', 'ada@example.com']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--client/);
    });

    test('disable', async () => {
      const user = jsonObject(await ws.cli(['--json', 'user', 'disable', 'ada@example.com']));
      assert.equal(user['disabled'], true);
      const f = fields(textLines(await ws.cli(['user', 'disable', 'bob@example.com'])));
      assert.equal(f.get('disabled'), 'true');
    });

    test('list', async () => {
      const users = jsonArray(await ws.cli(['--json', 'user', 'list']));
      assert.deepEqual(users.map((u) => u['email']).sort(), ['ada@example.com', 'bob@example.com']);
      for (const u of users) {
        assert.equal(u['disabled'], true);
        assert.deepEqual(Object.keys(u).sort(), USER_KEYS);
      }
      const lines = textLines(await ws.cli(['user', 'list']));
      assert.match(lines[0] ?? '', /^EMAIL\s+ID\s+TENANTS/);
      assert.ok(lines.some((l) => /^ada@example\.com\s+\S+\s+acme,beta\s+true$/.test(l)));
    });

    const LINK = /^http:\/\/127\.0\.0\.1:\d+\/account\/(setup|reset)\?token=[A-Za-z0-9_-]{43}$/;

    test('invite without smtpUrl prints the link; with it, queues the mail and prints none', async () => {
      const invited = jsonObject(
        await ws.cli([
          '--json',
          'user',
          'invite',
          '--email',
          'ivy@example.com',
          '--tenant',
          'acme',
        ]),
      );
      assert.equal(invited['mailed'], false);
      assert.equal(invited['password_set'], false);
      assert.match(invited['link'] as string, LINK);
      assert.equal(LINK.exec(invited['link'] as string)?.[1], 'setup');
      // Plain output: the link on its own line, for the operator to pass on.
      const again = fields(
        textLines(await ws.cli(['user', 'invite', '--email', 'ivy@example.com'])),
      );
      assert.match(again.get('link') ?? '', LINK);
      assert.notEqual(again.get('link'), invited['link'], 'a new link each time');

      const smtp = { env: { TESSERA_SMTP_URL: 'smtp://127.0.0.1:2525' } };
      const mailed = jsonObject(
        await ws.cli(['--json', 'user', 'invite', '--email', 'ivy@example.com'], smtp),
      );
      assert.equal(mailed['mailed'], true);
      assert.equal(mailed['link'], undefined);
      const printed = jsonObject(
        await ws.cli(
          ['--json', 'user', 'invite', '--email', 'ivy@example.com', '--print-link'],
          smtp,
        ),
      );
      assert.match(printed['link'] as string, LINK);
      // A new user needs a tenant; a disabled one is refused.
      const noTenant = await ws.cli(['user', 'invite', '--email', 'new@example.com']);
      assert.equal(noTenant.code, 1);
      assert.match(noTenant.stderr, /at least one --tenant/);
      const disabled = await ws.cli(['user', 'invite', '--email', 'ada@example.com']);
      assert.equal(disabled.code, 1);
      assert.match(disabled.stderr, /is disabled/);
    });

    test('reset-password prints a reset link; unknown and disabled users are refused', async () => {
      const reset = jsonObject(
        await ws.cli(['--json', 'user', 'reset-password', 'ivy@example.com']),
      );
      assert.equal(LINK.exec(reset['link'] as string)?.[1], 'reset');
      const unknown = await ws.cli(['user', 'reset-password', 'nobody@example.com']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /not found/);
      const disabled = await ws.cli(['user', 'reset-password', 'bob@example.com']);
      assert.equal(disabled.code, 1);
      assert.match(disabled.stderr, /is disabled/);
    });
  });

  describe('client', () => {
    let generated: Json;
    const secrets: string[] = [];

    before(async () => {
      // A server on the same database; no client or key cache, so changes show at once.
      server = await startServer({
        database: ws.database,
        cwd: ws.dir,
        env: { ...ws.env, TESSERA_CLIENT_CACHE_TTL: '0', TESSERA_KEY_CACHE_TTL: '0' },
      });
    });

    test('create --client-id dnaspaces --secret-stdin imports the 20-character Spaces secret, never echoing it', async () => {
      const r = await ws.cli(
        [
          '--json',
          'client',
          'create',
          '--name',
          'Cisco Spaces',
          '--client-id',
          'dnaspaces',
          '--secret-stdin',
          '--dialect',
          'cisco-spaces',
          '--redirect-uri',
          'https://partners.dnaspaces.io/partner/OAuthValidation',
          '--tenant',
          'acme',
        ],
        { stdin: `${SPACES_SECRET}\n` },
      );
      assertNotEchoed(r, SPACES_SECRET);
      const created = jsonObject(r);
      assert.equal(SPACES_SECRET.length, 20);
      assert.equal(created['client_id'], 'dnaspaces');
      assert.equal(created['dialect'], 'cisco-spaces');
      assert.deepEqual(created['redirect_uris'], [
        'https://partners.dnaspaces.io/partner/OAuthValidation',
      ]);
      assert.deepEqual(created['tenants'], ['acme']);
      secrets.push(SPACES_SECRET);
    });

    test('a 10-character imported secret is refused', async () => {
      oneLineError(
        await ws.cli(
          [
            '--json',
            'client',
            'create',
            '--name',
            'Short',
            '--client-id',
            'short-secret',
            '--secret-stdin',
          ],
          { stdin: '0123456789\n' },
        ),
        /16/,
      );
      oneLineError(await ws.cli(['client', 'show', 'short-secret']), /short-secret/);
    });

    test('a generated secret is 43 base64url characters (256 bits), shown once', async () => {
      generated = jsonObject(
        await ws.cli([
          '--json',
          'client',
          'create',
          '--name',
          'Backend',
          '--grant',
          'client_credentials',
          '--grant',
          'refresh_token',
          '--tenant',
          'acme',
          '--scope',
          'api:read',
          '--scope',
          'api:write',
          '--access-token-ttl',
          '600',
        ]),
      );
      assert.match(generated['client_secret'] as string, GENERATED_SECRET);
      assert.equal(typeof generated['client_id'], 'string');
      assert.equal(generated['dialect'], 'standard');
      assert.deepEqual(generated['grants'], ['client_credentials', 'refresh_token']);
      assert.deepEqual(generated['scopes'], ['api:read', 'api:write']);
      assert.equal(generated['access_token_ttl'], 600);
      assert.equal(generated['public'], false);
      secrets.push(generated['client_secret'] as string);

      const res = await token(
        generated['client_id'] as string,
        generated['client_secret'] as string,
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body['expires_in'], 600);
    });

    test('create (plain) prints the secret once, as a client_secret line', async () => {
      const f = fields(
        textLines(
          await ws.cli([
            'client',
            'create',
            '--name',
            'Setu',
            '--client-id',
            'setu-partner',
            '--dialect',
            'setu',
          ]),
        ),
      );
      assert.equal(f.get('client_id'), 'setu-partner');
      assert.match(f.get('client_secret') ?? '', GENERATED_SECRET);
      assert.equal(f.get('dialect'), 'setu');
      secrets.push(f.get('client_secret') ?? '');
    });

    test('show and list never print a secret', async () => {
      const shown = jsonObject(await ws.cli(['--json', 'client', 'show', 'dnaspaces']));
      assert.equal(shown['client_id'], 'dnaspaces');
      assert.equal('client_secret' in shown, false);
      const list = jsonArray(await ws.cli(['--json', 'client', 'list']));
      assert.deepEqual(
        list.map((c) => c['client_id']).sort(),
        [generated['client_id'], 'dnaspaces', 'setu-partner'].sort(),
      );
      for (const c of list) assert.equal('client_secret' in c, false);

      const outputs = [
        await ws.cli(['--json', 'client', 'show', 'dnaspaces']),
        await ws.cli(['client', 'show', 'dnaspaces']),
        await ws.cli(['client', 'show', generated['client_id'] as string]),
        await ws.cli(['--json', 'client', 'list']),
        await ws.cli(['client', 'list']),
      ];
      for (const r of outputs) {
        assert.equal(r.code, 0, r.stderr);
        for (const secret of secrets) {
          assert.equal(r.stdout.includes(secret), false, 'a secret was printed');
          assert.equal(r.stderr.includes(secret), false, 'a secret was printed');
        }
        assert.doesNotMatch(r.stdout, /client_secret/);
      }
      const plain = textLines(await ws.cli(['client', 'list']));
      assert.match(plain[0] ?? '', /^CLIENT_ID\s+NAME\s+DIALECT/);
      assert.equal(
        fields(textLines(await ws.cli(['client', 'show', 'dnaspaces']))).get('dialect'),
        'cisco-spaces',
      );
    });

    test('an unknown client is one line on stderr, exit 1', async () => {
      oneLineError(await ws.cli(['client', 'show', 'nope']), /nope/);
      oneLineError(await ws.cli(['--json', 'client', 'show', 'nope']), /nope/);
      oneLineError(await ws.cli(['client', 'rotate-secret', 'nope']), /nope/);
      oneLineError(await ws.cli(['client', 'delete', 'nope']), /nope/);
    });

    test('update', async () => {
      const updated = jsonObject(
        await ws.cli([
          '--json',
          'client',
          'update',
          generated['client_id'] as string,
          '--name',
          'Backend v2',
          '--scope',
          'api:read',
          '--refresh-grace',
        ]),
      );
      assert.equal(updated['name'], 'Backend v2');
      assert.deepEqual(updated['scopes'], ['api:read']);
      // A bare --refresh-grace means 30 s (DESIGN §3).
      assert.equal(updated['refresh_grace'], 30);
      assert.equal('client_secret' in updated, false);
      const f = fields(
        textLines(
          await ws.cli([
            'client',
            'update',
            generated['client_id'] as string,
            '--no-refresh-grace',
          ]),
        ),
      );
      assert.equal(f.get('refresh_grace'), '0');
      assert.equal(f.get('name'), 'Backend v2');
    });

    test('--refresh-grace S takes whole seconds up to 300; anything else is refused', async () => {
      const id = generated['client_id'] as string;
      const set = async (value: string) =>
        jsonObject(await ws.cli(['--json', 'client', 'update', id, '--refresh-grace', value]));
      assert.equal((await set('10'))['refresh_grace'], 10);
      assert.equal((await set('300'))['refresh_grace'], 300);
      assert.equal((await set('0'))['refresh_grace'], 0);
      for (const bad of ['301', '-1', '1.5', 'ten', '1e1', ''])
        oneLineError(
          await ws.cli(['client', 'update', id, '--refresh-grace', bad]),
          /refresh.grace/,
        );
      // The refusals changed nothing.
      assert.equal(jsonObject(await ws.cli(['--json', 'client', 'show', id]))['refresh_grace'], 0);
    });

    test('--id-token-alg takes an algorithm the keystore signs with; anything else is refused', async () => {
      const id = generated['client_id'] as string;
      const show = async () => jsonObject(await ws.cli(['--json', 'client', 'show', id]));
      assert.equal((await show())['id_token_alg'], 'RS256');
      const set = async (value: string) =>
        jsonObject(await ws.cli(['--json', 'client', 'update', id, '--id-token-alg', value]));
      assert.equal((await set('EdDSA'))['id_token_alg'], 'EdDSA');
      for (const bad of ['HS256', 'none', 'es256'])
        oneLineError(
          await ws.cli(['client', 'update', id, '--id-token-alg', bad]),
          /ID Token algorithm/,
        );
      assert.equal((await set('RS256'))['id_token_alg'], 'RS256');
    });

    test('--post-logout-redirect-uri (repeatable) and --backchannel-logout-uri are validated like redirect URIs', async () => {
      const id = generated['client_id'] as string;
      const updated = jsonObject(
        await ws.cli([
          '--json',
          'client',
          'update',
          id,
          '--post-logout-redirect-uri',
          'https://app.example/bye',
          '--post-logout-redirect-uri',
          'http://127.0.0.1:9000/out',
          '--backchannel-logout-uri',
          'https://app.example/bc',
        ]),
      );
      assert.deepEqual(updated['post_logout_redirect_uris'], [
        'https://app.example/bye',
        'http://127.0.0.1:9000/out',
      ]);
      assert.equal(updated['backchannel_logout_uri'], 'https://app.example/bc');
      oneLineError(
        await ws.cli([
          'client',
          'update',
          id,
          '--post-logout-redirect-uri',
          'http://app.example/x',
        ]),
        /post-logout redirect URI .* must use https/,
      );
      oneLineError(
        await ws.cli(['client', 'update', id, '--backchannel-logout-uri', 'https://a.example/#f']),
        /back-channel logout URI .* must not have a fragment/,
      );
      const cleared = jsonObject(
        await ws.cli(['--json', 'client', 'update', id, '--backchannel-logout-uri', '']),
      );
      assert.equal(cleared['backchannel_logout_uri'], null);
      assert.equal(
        (
          jsonObject(await ws.cli(['--json', 'client', 'show', id]))[
            'post_logout_redirect_uris'
          ] as string[]
        ).length,
        2,
      );
    });

    test('--consent marks a client that asks; --no-consent makes it first-party again', async () => {
      const id = generated['client_id'] as string;
      const show = async () => jsonObject(await ws.cli(['--json', 'client', 'show', id]));
      assert.equal((await show())['consent'], false);
      const update = async (...flags: string[]) =>
        jsonObject(await ws.cli(['--json', 'client', 'update', id, ...flags]));
      assert.equal((await update('--consent'))['consent'], true);
      assert.equal((await update('--name', 'Backend v2'))['consent'], true);
      assert.equal((await update('--no-consent'))['consent'], false);
    });

    test('rotate-secret --grace keeps the old secret working; without it the old one stops', async () => {
      const id = generated['client_id'] as string;
      const original = generated['client_secret'] as string;

      const graced = jsonObject(
        await ws.cli(['--json', 'client', 'rotate-secret', id, '--grace', '3600']),
      );
      const second = graced['client_secret'] as string;
      assert.match(second, GENERATED_SECRET);
      assert.notEqual(second, original);
      secrets.push(second);
      assert.equal((await token(id, second)).status, 200);
      assert.equal(
        (await token(id, original)).status,
        200,
        'the old secret works during the grace',
      );

      const f = fields(textLines(await ws.cli(['client', 'rotate-secret', id])));
      const third = f.get('client_secret') ?? '';
      assert.match(third, GENERATED_SECRET);
      secrets.push(third);
      assert.equal((await token(id, third)).status, 200);
      const old = await token(id, second);
      assert.equal(old.status, 401, 'no grace: the previous secret stops at once');
      assert.equal(old.body['error'], 'invalid_client');
      assert.equal((await token(id, original)).status, 401);
      generated = { ...generated, client_secret: third };
    });

    test('rotate-secret --secret-stdin imports the new secret, never echoing it', async () => {
      const imported = 'a-new-imported-secret-0123';
      const r = await ws.cli(['--json', 'client', 'rotate-secret', 'dnaspaces', '--secret-stdin'], {
        stdin: `${imported}\n`,
      });
      assertNotEchoed(r, imported);
      assert.equal(jsonObject(r)['client_id'], 'dnaspaces');
      const again = 'another-imported-secret-4567';
      const plain = await ws.cli(['client', 'rotate-secret', 'dnaspaces', '--secret-stdin'], {
        stdin: `${again}\n`,
      });
      assertNotEchoed(plain, again);
      assert.equal(fields(textLines(plain)).get('client_id'), 'dnaspaces');
      oneLineError(
        await ws.cli(['client', 'rotate-secret', 'dnaspaces', '--secret-stdin'], {
          stdin: 'short\n',
        }),
        /16/,
      );
    });

    test('delete', async () => {
      const id = generated['client_id'] as string;
      const deleted = jsonObject(await ws.cli(['--json', 'client', 'delete', id]));
      assert.deepEqual(deleted, { client_id: id, deleted: true });
      oneLineError(await ws.cli(['client', 'show', id]), new RegExp(id));
      const res = await token(id, generated['client_secret'] as string);
      assert.equal(res.status, 401);
      assert.equal(res.body['error'], 'invalid_client');

      const f = fields(textLines(await ws.cli(['client', 'delete', 'setu-partner'])));
      assert.equal(f.get('client_id'), 'setu-partner');
      assert.equal(f.get('deleted'), 'true');
      assert.deepEqual(
        jsonArray(await ws.cli(['--json', 'client', 'list'])).map((c) => c['client_id']),
        ['dnaspaces'],
      );
    });
  });

  describe('key', () => {
    test('list shows the one active key', async () => {
      const keys = jsonArray(await ws.cli(['--json', 'key', 'list']));
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.['status'], 'active');
      assert.equal(keys[0]?.['alg'], 'RS256');
      const lines = textLines(await ws.cli(['key', 'list']));
      assert.match(lines[0] ?? '', /^KID\s+ALG\s+STATUS/);
      assert.equal(lines.length, 2);
    });

    test('rotate publishes a next key; rotate --now makes a new key active and retires the old', async () => {
      const [initial] = jsonArray(await ws.cli(['--json', 'key', 'list']));
      assert.ok(initial);

      const next = jsonObject(await ws.cli(['--json', 'key', 'rotate']));
      assert.equal(next['status'], 'next');
      assert.ok(Date.parse(next['activates_at'] as string) > Date.now());

      const now = fields(textLines(await ws.cli(['key', 'rotate', '--now', '--alg', 'ES256'])));
      assert.equal(now.get('status'), 'active');
      assert.equal(now.get('alg'), 'ES256');

      const keys = jsonArray(await ws.cli(['--json', 'key', 'list']));
      const status = new Map(keys.map((k) => [k['kid'], k['status']]));
      assert.equal(status.get(initial['kid']), 'retired');
      assert.equal(status.get(next['kid']), 'next');
      assert.equal(status.get(now.get('kid')), 'active');
      const retired = keys.find((k) => k['kid'] === initial['kid']);
      assert.equal(
        typeof retired?.['publish_until'],
        'string',
        'a retired key stays published a while',
      );

      // The running server publishes all three and signs with the new one.
      const jwks = await fetch(`${server.url}/.well-known/jwks.json`, {
        signal: AbortSignal.timeout(30_000),
      });
      const published = ((await jwks.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
      assert.deepEqual(published.sort(), keys.map((k) => k['kid'] as string).sort());
    });

    test('an unknown --alg is refused', async () => {
      const r = await ws.cli(['key', 'rotate', '--alg', 'HS256']);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /HS256/);
    });
  });
});
