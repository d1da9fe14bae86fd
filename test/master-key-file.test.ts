/**
 * `masterKeyFile` (the file `tessera init` writes) as the loader reads it, and the master-key
 * check of `tessera doctor` where no key exists: it reports, never generates one.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { masterKeyCheck } from '../src/doctor/checks.js';
import { newMasterKey } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-keyfile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const load = (flags: Record<string, unknown>) => loadConfig({ env: {}, file: false, flags });

/** The loader's refusal: a ConfigError naming masterKeyFile, with a message matching `pattern`. */
function refuses(flags: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(
    () => load(flags),
    (err: unknown) =>
      err instanceof ConfigError && err.option === 'masterKeyFile' && pattern.test(err.message),
  );
}

test('masterKeyFile: the key in the file becomes the master key (surrounding whitespace ignored)', () => {
  const key = newMasterKey();
  const file = join(dir, 'good.key');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  assert.equal(load({ masterKeyFile: file }).masterKey, key);
});

test('masterKeyFile: refused with masterKey too, unreadable, or not a 32-byte key', () => {
  const file = join(dir, 'both.key');
  writeFileSync(file, newMasterKey(), { mode: 0o600 });
  refuses({ masterKeyFile: file, masterKey: newMasterKey() }, /not both/);
  refuses({ masterKeyFile: join(dir, 'missing.key') }, /cannot read masterKeyFile .*missing\.key/);
  const short = join(dir, 'short.key');
  writeFileSync(short, Buffer.alloc(16).toString('base64'), { mode: 0o600 });
  refuses({ masterKeyFile: short }, /must hold 32 bytes in base64/);
});

test('doctor: SQLite without a configured or generated master key is a FAIL, and none is made', () => {
  const db = join(dir, 'store.db');
  const check = masterKeyCheck(load({ database: `sqlite:${db}` }), db, []);
  assert.deepEqual(check, {
    name: 'master key',
    level: 'FAIL',
    reason: 'no master key: set TESSERA_MASTER_KEY or masterKeyFile',
  });
  assert.equal(existsSync(join(dir, 'master.key')), false);
});

test('doctor: a malformed master.key beside the SQLite file is a FAIL naming it, not a crash', () => {
  const db = join(dir, 'bad', 'store.db');
  mkdirSync(join(dir, 'bad'));
  writeFileSync(join(dir, 'bad', 'master.key'), 'short', { mode: 0o600 });
  const check = masterKeyCheck(load({ database: `sqlite:${db}` }), db, []);
  assert.deepEqual(check, {
    name: 'master key',
    level: 'FAIL',
    reason: `${join(dir, 'bad', 'master.key')} does not hold a 32-byte base64 key`,
  });
});
