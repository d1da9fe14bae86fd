/**
 * `tessera init` and `tessera doctor` as processes (DESIGN §8), on the engine of the pass
 * (TESSERA_TEST_ENGINE): the files init writes and refuses to overwrite, its next steps run
 * as printed, and each doctor check triggered and named, text and `--json`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/store/sql/db.js';
import { testEngine } from '../helpers/app.js';
import { type CliResult, newMasterKey, runCli } from '../helpers/cli.js';
import { createPostgresDatabase } from '../helpers/engines.js';
import { freePort } from '../helpers/postgres.js';
import { startServer } from '../helpers/server.js';

const SANDBOX = 'https://partners.dnaspaces.io/partner/OAuthValidation';
const LIVE = 'https://dnaspaces.io/partner/OAuthValidation';
const CHECKS = [
  'issuer',
  'host',
  'trust proxy',
  'launch allow-list',
  'store reachable',
  'store migrated',
  'master key',
  'signing key',
  'signing key age',
  'spaces redirect URIs',
  'spaces tenants',
  'demo clients',
];

interface Check {
  readonly name: string;
  readonly level: string;
  readonly reason: string;
}

interface Setup {
  readonly dir: string;
  /** A fresh, empty database of the pass's engine (a SQLite file not created yet). */
  readonly database: string;
  /** `tessera --database <database> …args` in `dir`. */
  run(args: readonly string[], env?: Record<string, string>): Promise<CliResult>;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-init-'));
  cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  let database = `sqlite:${join(dir, 'tessera.db')}`;
  if (testEngine() === 'postgres') {
    const pg = await createPostgresDatabase({ migrate: false });
    cleanups.push(pg.drop);
    database = pg.url;
  }
  return {
    dir,
    database,
    run: (args, env = {}) => runCli(['--database', database, ...args], { cwd: dir, env }),
  };
}

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A failure: exit 1, nothing on stdout, one line on stderr matching `pattern`. */
function refused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stdout);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^tessera: [^\n]+\n$/);
  assert.match(r.stderr, pattern);
}

const mode = (path: string): number => statSync(path).mode & 0o777;

/** `doctor --json`: the exit code and the checks, the shape asserted exactly. */
async function doctor(
  s: Setup,
  env: Record<string, string>,
): Promise<{ code: number | null; checks: Check[] }> {
  const r = await s.run(['--json', 'doctor'], env);
  const value = JSON.parse(r.stdout) as { checks: Check[] };
  assert.deepEqual(Object.keys(value), ['checks'], r.stdout);
  for (const c of value.checks) {
    assert.deepEqual(Object.keys(c), ['name', 'level', 'reason'], JSON.stringify(c));
    assert.match(c.level, /^(PASS|WARN|FAIL)$/);
    assert.ok(c.reason.length > 0, c.name);
  }
  return { code: r.code, checks: value.checks };
}

/** name → level of every check, in order. */
const levels = (checks: Check[]): [string, string][] => checks.map((c) => [c.name, c.level]);

function reasonOf(checks: Check[], name: string): string {
  const check = checks.find((c) => c.name === name);
  assert.ok(check, `no check ${name}`);
  return check.reason;
}

/** A migrated store with a signing key (made under `masterKey`, as any command makes it). */
async function migratedWithKey(s: Setup, masterKey: string): Promise<void> {
  ok(await s.run(['migrate']));
  ok(await s.run(['key', 'list'], { TESSERA_MASTER_KEY: masterKey }));
}

/** `client create` of a cisco-spaces client bound to tenant `acme`. */
function spacesClient(
  s: Setup,
  env: Record<string, string>,
  id: string,
  redirectUris: readonly string[],
): Promise<CliResult> {
  const uris = redirectUris.flatMap((u) => ['--redirect-uri', u]);
  return s.run(
    [
      'client',
      'create',
      '--name',
      id,
      '--client-id',
      id,
      '--dialect',
      'cisco-spaces',
      ...uris,
      '--tenant',
      'acme',
    ],
    env,
  );
}

/** A Cisco Spaces customer done right: both redirect URIs, a tenant with app URL and support email. */
async function spacesCustomer(s: Setup, env: Record<string, string>): Promise<void> {
  ok(
    await s.run(
      [
        'tenant',
        'create',
        '--id',
        'acme',
        '--name',
        'Acme',
        '--app-url',
        'https://app.example.com/',
        '--support-email',
        'support@example.com',
      ],
      env,
    ),
  );
  ok(await spacesClient(s, env, 'spaces-app', [SANDBOX, LIVE]));
}

describe(`tessera init [${testEngine()}]`, () => {
  test('writes the config and master key (mode 0600); its next steps work as printed', async () => {
    const s = await setup();
    const prod = join(s.dir, 'prod');
    const r = ok(await s.run(['init', '--issuer', 'https://auth.example.com/', '--dir', prod]));
    const configFile = join(prod, 'tessera.config.json');
    const keyFile = join(prod, 'master.key');
    assert.equal(r.stderr, '');
    assert.equal(mode(configFile), 0o600);
    assert.equal(mode(keyFile), 0o600);
    const key = readFileSync(keyFile, 'utf8');
    assert.match(key, /^[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(Buffer.from(key, 'base64').length, 32);
    assert.ok(!r.stdout.includes(key.trim()), 'the key in the file is not printed');
    assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')), {
      database: s.database,
      issuer: 'https://auth.example.com',
      host: '0.0.0.0',
      trustProxy: 1,
      masterKeyFile: keyFile,
    });
    assert.match(
      r.stdout,
      new RegExp(`^config_file: ${configFile}\nmaster_key_file: ${keyFile}\n`),
    );

    const commands = r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('tessera '))
      .map((l) => l.split(' ').slice(1));
    assert.deepEqual(commands, [
      ['--config', configFile, 'migrate'],
      ['--config', configFile, 'serve', '--no-migrate', '--host', '0.0.0.0', '--trust-proxy', '1'],
      ['--config', configFile, 'doctor'],
    ]);
    // From another directory, with no TESSERA_* in the environment: the config says it all.
    const elsewhere = { cwd: tmpdir() };
    ok(await runCli(commands[0] as string[], elsewhere));
    const server = await startServer({
      database: s.database,
      env: { TESSERA_CONFIG: configFile },
      args: (commands[1] as string[]).slice(3),
    });
    assert.equal(server.issuer, 'https://auth.example.com');
    await server.stop();
    const d = ok(await runCli(commands[2] as string[], elsewhere));
    assert.deepEqual(
      d.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.replace(/ — .*$/, '')),
      CHECKS.map((name) => `PASS ${name}`),
    );
  });

  test('never overwrites a file: either one present, nothing is written', async () => {
    const s = await setup();
    const configFile = join(s.dir, 'tessera.config.json');
    const keyFile = join(s.dir, 'master.key');
    writeFileSync(configFile, 'keep');
    refused(await s.run(['init']), /tessera\.config\.json already exists.*nothing written/);
    assert.equal(readFileSync(configFile, 'utf8'), 'keep');
    assert.equal(existsSync(keyFile), false);

    rmSync(configFile);
    writeFileSync(keyFile, 'keep');
    refused(await s.run(['init']), /master\.key already exists.*nothing written/);
    assert.equal(readFileSync(keyFile, 'utf8'), 'keep');
    assert.equal(existsSync(configFile), false);
  });

  test('refuses a store that holds signing keys; a migrated store without any is fine', async () => {
    const s = await setup();
    ok(await s.run(['migrate']));
    ok(await s.run(['--json', 'init', '--dir', 'first']));
    ok(await s.run(['key', 'list'], { TESSERA_MASTER_KEY: newMasterKey() }));
    refused(
      await s.run(['init', '--dir', 'second']),
      /already holds signing keys.*nothing written/,
    );
    assert.equal(existsSync(join(s.dir, 'second')), false);
  });

  test('--print-master-key prints the key once and the config names no key file', async () => {
    const s = await setup();
    // The issuer from the environment is kept as a flag's would be.
    const r = ok(
      await s.run(['--json', 'init', '--print-master-key'], {
        TESSERA_ISSUER: 'https://auth.example.com',
      }),
    );
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    const configFile = join(s.dir, 'tessera.config.json');
    assert.deepEqual(Object.keys(out), ['config_file', 'master_key', 'next_steps']);
    assert.equal(out['config_file'], configFile);
    assert.equal(Buffer.from(out['master_key'] as string, 'base64').length, 32);
    assert.equal(existsSync(join(s.dir, 'master.key')), false);
    assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')), {
      database: s.database,
      issuer: 'https://auth.example.com',
      host: '0.0.0.0',
      trustProxy: 1,
    });
    assert.equal(mode(configFile), 0o600);
  });

  test('a store it cannot reach is an error, and nothing is written', async () => {
    const s = await setup();
    const database = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    refused(await runCli(['--database', database, 'init'], { cwd: s.dir }), /ECONNREFUSED/);
    assert.equal(existsSync(join(s.dir, 'tessera.config.json')), false);
    assert.equal(existsSync(join(s.dir, 'master.key')), false);
  });

  test('an http issuer on a public host is refused before anything is written', async () => {
    const s = await setup();
    refused(
      await s.run(['init', '--issuer', 'http://auth.example.com', '--dir', 'prod']),
      /invalid issuer: http:\/\/ is accepted only for loopback hosts/,
    );
    assert.equal(existsSync(join(s.dir, 'prod')), false);
  });
});

describe(`tessera doctor [${testEngine()}]`, () => {
  const masterKey = newMasterKey();
  /** A public deployment behind one proxy, as `init` configures it. */
  const good = {
    TESSERA_MASTER_KEY: masterKey,
    TESSERA_ISSUER: 'https://auth.example.com',
    TESSERA_HOST: '0.0.0.0',
    TESSERA_TRUST_PROXY: '1',
  };

  test('a good setup: every check PASS, exit 0, text one line per check', async () => {
    const s = await setup();
    await migratedWithKey(s, masterKey);
    await spacesCustomer(s, good);
    const d = await doctor(s, good);
    assert.equal(d.code, 0);
    assert.deepEqual(
      levels(d.checks),
      CHECKS.map((name) => [name, 'PASS']),
    );
    const text = ok(await s.run(['doctor'], good));
    assert.deepEqual(
      text.stdout.trimEnd().split('\n'),
      d.checks.map((c) => `PASS ${c.name} — ${c.reason}`),
    );
  });

  test('names each WARN and FAIL: host, proxy, allow-list, key age, Spaces clients, demo clients', async () => {
    const s = await setup();
    await migratedWithKey(s, masterKey);
    const env = { TESSERA_MASTER_KEY: masterKey, TESSERA_ISSUER: 'https://auth.example.com' };
    ok(await s.run(['tenant', 'create', '--id', 'acme', '--name', 'Acme'], env));
    ok(await spacesClient(s, env, 'spaces-app', [SANDBOX]));
    ok(await spacesClient(s, env, 'spaces-live', [LIVE]));
    ok(
      await s.run(
        ['client', 'create', '--name', 'Demo', '--client-id', 'demo-setu', '--dialect', 'setu'],
        env,
      ),
    );
    const { db } = openDatabase(s.database);
    await sql`update signing_keys set created_at = created_at - ${100 * 86400}`.execute(db);
    await db.destroy();

    const allowed = [
      'https://partners.dnaspaces.io',
      'http://dnaspaces.io',
      'https://dnaspaces.io.evil.example',
      'https://dnaspaces.io:8443',
      'https://evil.example',
    ];
    const d = await doctor(s, {
      ...env,
      TESSERA_SPACES_LAUNCH_ALLOWED_BASE_URLS: allowed.join(','),
    });
    assert.equal(d.code, 1);
    assert.deepEqual(levels(d.checks), [
      ['issuer', 'PASS'],
      ['host', 'WARN'],
      ['trust proxy', 'WARN'],
      ['launch allow-list', 'FAIL'],
      ['store reachable', 'PASS'],
      ['store migrated', 'PASS'],
      ['master key', 'PASS'],
      ['signing key', 'PASS'],
      ['signing key age', 'WARN'],
      ['spaces redirect URIs', 'WARN'],
      ['spaces tenants', 'WARN'],
      ['demo clients', 'FAIL'],
    ]);
    assert.match(reasonOf(d.checks, 'host'), /host 127\.0\.0\.1 .*--host 0\.0\.0\.0/);
    assert.match(reasonOf(d.checks, 'trust proxy'), /per-IP limit/);
    assert.match(
      reasonOf(d.checks, 'launch allow-list'),
      /: http:\/\/dnaspaces\.io, https:\/\/dnaspaces\.io\.evil\.example, https:\/\/dnaspaces\.io:8443, https:\/\/evil\.example \(/,
    );
    assert.match(reasonOf(d.checks, 'signing key age'), /is 100 days old \(keyRotationDays 90\)/);
    assert.equal(
      reasonOf(d.checks, 'spaces redirect URIs'),
      `client spaces-app lacks the live redirect URI ${LIVE}; client spaces-live lacks the sandbox redirect URI ${SANDBOX}`,
    );
    assert.equal(
      reasonOf(d.checks, 'spaces tenants'),
      'tenant acme (client spaces-app) has no app URL nor support email; tenant acme (client spaces-live) has no app URL nor support email',
    );
    assert.match(reasonOf(d.checks, 'demo clients'), /: demo-setu \(/);

    // The same store on a loopback issuer, with a longer rotation period: demo clients are
    // fine there, and so are the host and the missing proxy; the issuer itself is a warning.
    const local = await doctor(s, {
      TESSERA_MASTER_KEY: masterKey,
      TESSERA_ISSUER: 'http://127.0.0.1:8080',
      TESSERA_KEY_ROTATION_DAYS: '101',
    });
    assert.equal(local.code, 0);
    assert.deepEqual(levels(local.checks).slice(0, 3), [
      ['issuer', 'WARN'],
      ['host', 'PASS'],
      ['trust proxy', 'PASS'],
    ]);
    assert.equal(
      reasonOf(local.checks, 'signing key age'),
      'the newest signing key is 100 days old',
    );
    assert.equal(local.checks.find((c) => c.name === 'demo clients')?.level, 'PASS');

    // Public again, now listening on every interface and serving TLS itself; the rotation
    // period ends on the key's 100th day; the tenant has an app URL but still no support email.
    ok(await s.run(['tenant', 'update', 'acme', '--app-url', 'https://app.example.com/'], env));
    const tls = await doctor(s, {
      ...env,
      TESSERA_HOST: '0.0.0.0',
      TESSERA_TLS_CERT: join(s.dir, 'cert.pem'),
      TESSERA_TLS_KEY: join(s.dir, 'key.pem'),
      TESSERA_KEY_ROTATION_DAYS: '100',
    });
    assert.deepEqual(levels(tls.checks).slice(1, 3), [
      ['host', 'PASS'],
      ['trust proxy', 'PASS'],
    ]);
    assert.match(
      reasonOf(tls.checks, 'signing key age'),
      /is 100 days old \(keyRotationDays 100\)/,
    );
    assert.match(
      reasonOf(tls.checks, 'spaces tenants'),
      /^tenant acme \(client spaces-app\) has no support email;/,
    );
  });

  test('an http issuer on a public host: FAIL issuer, exit 1', async () => {
    const s = await setup();
    const d = await doctor(s, { TESSERA_ISSUER: 'http://auth.example.com' });
    assert.equal(d.code, 1);
    assert.deepEqual(levels(d.checks), [['issuer', 'FAIL']]);
    assert.match(reasonOf(d.checks, 'issuer'), /http:\/\/ is accepted only for loopback hosts/);
  });

  test('a master key that does not decrypt the signing keys: FAIL master key', async () => {
    const s = await setup();
    await migratedWithKey(s, masterKey);
    const d = await doctor(s, { ...good, TESSERA_MASTER_KEY: newMasterKey() });
    assert.equal(d.code, 1);
    assert.equal(d.checks.find((c) => c.name === 'master key')?.level, 'FAIL');
    assert.match(reasonOf(d.checks, 'master key'), /^does not decrypt signing key [\w-]{43}: /);
  });

  test('an unmigrated store: FAIL store migrated; migrated without a key: FAIL signing key', async () => {
    const s = await setup();
    // An empty database that exists (a SQLite file is made by opening it).
    await openDatabase(s.database).db.destroy();
    const bare = await doctor(s, good);
    assert.equal(bare.code, 1);
    assert.deepEqual(levels(bare.checks).slice(4), [
      ['store reachable', 'PASS'],
      ['store migrated', 'FAIL'],
    ]);
    assert.match(reasonOf(bare.checks, 'store migrated'), /^pending: 0001_initial, /);

    ok(await s.run(['migrate']));
    const keyless = await doctor(s, good);
    assert.equal(keyless.code, 1);
    assert.deepEqual(levels(keyless.checks).slice(6), [
      ['master key', 'PASS'],
      ['signing key', 'FAIL'],
      ['spaces redirect URIs', 'PASS'],
      ['spaces tenants', 'PASS'],
      ['demo clients', 'PASS'],
    ]);
  });

  test('a SQLite file that does not exist: FAIL store reachable, and the file is not created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-doctor-'));
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const file = join(dir, 'none', 'tessera.db');
    const r = await runCli(['--json', '--database', `sqlite:${file}`, 'doctor'], {
      cwd: dir,
      env: good,
    });
    assert.equal(r.code, 1);
    const { checks } = JSON.parse(r.stdout) as { checks: Check[] };
    assert.deepEqual(checks.at(-1), {
      name: 'store reachable',
      level: 'FAIL',
      reason: `no database file at ${file} (run \`tessera migrate\`)`,
    });
    assert.equal(existsSync(join(dir, 'none')), false);
  });

  test('a PostgreSQL nobody listens on: FAIL store reachable, exit 1, within a bound', async () => {
    const port = await freePort();
    const r = await runCli(
      ['--json', '--database', `postgres://postgres@127.0.0.1:${port}/postgres`, 'doctor'],
      { env: good, timeoutMs: 30_000 },
    );
    assert.equal(r.code, 1, r.stderr);
    const { checks } = JSON.parse(r.stdout) as { checks: Check[] };
    assert.deepEqual(levels(checks), [
      ['issuer', 'PASS'],
      ['host', 'PASS'],
      ['trust proxy', 'PASS'],
      ['launch allow-list', 'PASS'],
      ['store reachable', 'FAIL'],
    ]);
    assert.match(reasonOf(checks, 'store reachable'), /ECONNREFUSED/);
  });
});
