import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { isLoopbackHost, loadConfig } from '../config/load.js';
import { sqlitePath } from '../store/sql/db.js';
import { createSqlStore } from '../store/sql/sql-store.js';
import { globals, guarded } from './context.js';
import type { GlobalOptions } from './io.js';

interface InitFlags {
  readonly issuer?: string;
  readonly dir: string;
  readonly printMasterKey?: boolean;
}

/** Whether the store already holds signing keys; a SQLite file that does not exist is not made. */
async function storeHasKeys(database: string): Promise<boolean> {
  if (database.startsWith('sqlite:') && !existsSync(sqlitePath(database))) return false;
  const store = createSqlStore(database, { poolSize: 1 });
  try {
    // A store with no migration applied has no signing_keys table yet.
    const pending = await store.pendingMigrations();
    if (pending.includes('0001_initial')) return false;
    return (await store.listSigningKeys()).length > 0;
  } finally {
    await store.close();
  }
}

/** `wx`, mode 0600: never overwrites, and the file is never readable by others. */
function writeExclusive(path: string, text: string): void {
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new Error(`${path} already exists: init never overwrites a file`);
    throw err;
  }
}

async function init(opts: GlobalOptions, flags: InitFlags): Promise<void> {
  // Validates the issuer and database as `serve` would, before anything is written.
  const config = loadConfig({
    flags: {
      ...(opts.database !== undefined && { database: opts.database }),
      ...(flags.issuer !== undefined && { issuer: flags.issuer }),
    },
    file: false,
  });
  // An absolute SQLite path, so the config means the same file from any working directory.
  const database = config.database.startsWith('sqlite:')
    ? `sqlite:${sqlitePath(config.database)}`
    : config.database;
  const dir = resolve(flags.dir);
  const configFile = join(dir, 'tessera.config.json');
  const keyFile = join(dir, 'master.key');
  const printKey = flags.printMasterKey === true;
  for (const file of printKey ? [configFile] : [configFile, keyFile])
    if (existsSync(file))
      throw new Error(`${file} already exists: init never overwrites a file (nothing written)`);
  if (await storeHasKeys(database))
    throw new Error(
      'the store already holds signing keys: init is for a new deployment, whose new master key could not decrypt them (nothing written)',
    );

  // Behind a load balancer: listen on every interface and trust the one proxy hop in front.
  const publicIssuer = !isLoopbackHost(new URL(config.issuer).hostname);
  const masterKey = randomBytes(32).toString('base64');
  const fileConfig = {
    database,
    // Given by flag or environment: the config keeps it, so later commands need neither.
    ...((flags.issuer ?? process.env['TESSERA_ISSUER']) !== undefined && {
      issuer: config.issuer,
    }),
    ...(publicIssuer && { host: '0.0.0.0', trustProxy: 1 }),
    ...(!printKey && { masterKeyFile: keyFile }),
  };
  mkdirSync(dir, { recursive: true });
  if (!printKey) writeExclusive(keyFile, `${masterKey}\n`);
  try {
    writeExclusive(configFile, `${JSON.stringify(fileConfig, null, 2)}\n`);
  } catch (err) {
    if (!printKey) unlinkSync(keyFile);
    throw err;
  }

  const tessera = `tessera --config ${configFile}`;
  const steps: { why: string; command: string }[] = [
    { why: 'apply the schema: once now, and once per upgrade', command: `${tessera} migrate` },
    {
      why: publicIssuer
        ? 'on each node; --host and --trust-proxy repeat the config (which doctor reads): one load balancer or TLS proxy in front; give its addresses instead (10.0.0.0/8), or serve TLS here with --tls-cert F --tls-key F'
        : 'on this machine',
      command: `${tessera} serve --no-migrate${publicIssuer ? ' --host 0.0.0.0 --trust-proxy 1' : ''}`,
    },
    { why: 'the go-live checks', command: `${tessera} doctor` },
  ];
  const result = {
    config_file: configFile,
    ...(printKey ? { master_key: masterKey } : { master_key_file: keyFile }),
    next_steps: steps.map((s) => s.command),
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const out = [`config_file: ${configFile}`];
  if (printKey)
    out.push(
      `master_key: ${masterKey}`,
      '# shown once: keep it in your secret manager and give every node TESSERA_MASTER_KEY',
    );
  else out.push(`master_key_file: ${keyFile}`, '# back it up: without it no signing key opens');
  out.push('', 'Next steps:');
  for (const s of steps) out.push(`  # ${s.why}`, `  ${s.command}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

export function initCommand(): Command {
  return new Command('init')
    .description(
      'write a production tessera.config.json and a fresh master key, and print the next steps',
    )
    .option('--issuer <url>', 'the public issuer URL, e.g. https://auth.example.com')
    .option('--dir <dir>', 'where tessera.config.json and master.key go', '.')
    .option(
      '--print-master-key',
      'print the master key once (for a secret manager) instead of writing master.key',
    )
    .action((flags: InitFlags, cmd: Command) => guarded(() => init(globals(cmd), flags)));
}
