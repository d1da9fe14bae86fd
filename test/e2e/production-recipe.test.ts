/**
 * docs/production.md run as written (issue 21): its `sh recipe` blocks, extracted from the
 * document, run in order in one bash shell against a throwaway PostgreSQL that accepts only
 * TLS and (but for the superuser) passwords, with only the placeholders the document lists
 * replaced. Where the document says the nodes start, two nodes start from
 * deploy/tessera.service's own ExecStart, Environment= and LoadCredential= lines; the recipe
 * then checks them itself (readiness, a token from each), and the test checks each node's
 * /readyz, a client_credentials token from each, each token against the other node's JWKS,
 * and that every connection the nodes hold is TLS. The unit's flags and variables are
 * checked against what `tessera serve` knows, and the nginx example against the unit.
 *
 * The PostgreSQL server is this file's own (not test/run.ts's shared one): the recipe
 * creates a role and a database of fixed names, and needs TLS and password authentication.
 * Skipped without the PostgreSQL binaries or the client tools the recipe uses, a failure
 * when CI=true.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JSONWebKeySet, createLocalJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { type OptionName, envName, optionSchemas } from '../../src/config/options.js';
import {
  CLI_ENTRY,
  ROOT,
  TSX_LOADER,
  childEnv,
  cliArgv,
  liveChildren,
  runCli,
} from '../helpers/cli.js';
import {
  type PostgresServer,
  findPostgresBinaries,
  freePort,
  startPostgres,
} from '../helpers/postgres.js';
import { getJson, postForm } from '../helpers/server.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const DOC = read('docs/production.md');
const UNIT = read('deploy/tessera.service');
const NGINX = read('deploy/nginx.conf');

const NODES_MARKER = '<!-- recipe: the nodes start here -->';
/** The recipe's blocks before and after the nodes start: a block lost from the page fails here. */
const BLOCKS_BEFORE_NODES = 3;
const BLOCKS_AFTER_NODES = 6;
const ISSUER = 'https://auth.example.com';
/** Where the document's install step puts the command, and so the unit's ExecStart. */
const INSTALLED_COMMAND = '/usr/local/bin/tessera';
const RECIPE_TIMEOUT_MS = 240_000;
const READY_TIMEOUT_MS = 60_000;

const inCi = process.env.CI === 'true';

/** The bodies of the ```sh recipe blocks of `markdown`, in order. */
function recipeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh recipe\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/** Every fenced block of the document: its info string and body. */
function fencedBlocks(markdown: string): { info: string; body: string }[] {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    info: m[1] ?? '',
    body: m[2] ?? '',
  }));
}

function recipe(): { before: string[]; after: string[] } {
  const at = DOC.indexOf(NODES_MARKER);
  assert.ok(at > 0, `docs/production.md marks where the nodes start (${NODES_MARKER})`);
  assert.equal(DOC.indexOf(NODES_MARKER, at + 1), -1, 'the nodes start once');
  return { before: recipeBlocks(DOC.slice(0, at)), after: recipeBlocks(DOC.slice(at)) };
}

/** The placeholders the document's opening table lists (its first column). */
function documentedPlaceholders(): string[] {
  const intro = DOC.slice(0, DOC.indexOf('\n## '));
  return [...intro.matchAll(/^\| `([^`]+)` +\|/gm)].map((m) => m[1] ?? '');
}

/** A word for the shell, single-quoted. */
const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The `[Service]` directives of a unit file, in order, repeated keys kept. Only what the test
 * can honour: no quoting and no specifier but `%d` (checked where the values are used).
 */
function serviceDirectives(unit: string): [string, string][] {
  const out: [string, string][] = [];
  let section = '';
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `unit line ${line} is key=value`);
    if (section === 'Service') out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

interface UnitCommand {
  /** ExecStart's words. */
  readonly argv: readonly string[];
  /** Environment= assignments, `%d` unexpanded. */
  readonly env: readonly (readonly [string, string])[];
  /** LoadCredential= id → source path. */
  readonly credentials: readonly (readonly [string, string])[];
}

function unitCommand(): UnitCommand {
  const directives = serviceDirectives(UNIT);
  const values = (key: string) => directives.filter(([k]) => k === key).map(([, v]) => v);
  const execStart = values('ExecStart');
  assert.equal(execStart.length, 1, 'one ExecStart');
  for (const v of [...execStart, ...values('Environment'), ...values('LoadCredential')])
    assert.doesNotMatch(v, /["']/, `no quoting the test would have to interpret: ${v}`);
  return {
    argv: (execStart[0] ?? '').split(/\s+/),
    env: values('Environment')
      .flatMap((v) => v.split(/\s+/))
      .map((assignment) => {
        const eq = assignment.indexOf('=');
        return [assignment.slice(0, eq), assignment.slice(eq + 1)] as const;
      }),
    credentials: values('LoadCredential').map((v) => {
      const colon = v.indexOf(':');
      return [v.slice(0, colon), v.slice(colon + 1)] as const;
    }),
  };
}

/** A directory holding `tessera`: the checkout's CLI, as the installed command runs it. */
function commandDir(parent: string): string {
  const bin = join(parent, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'tessera'),
    `#!/bin/sh\nexec ${shq(process.execPath)} --import ${shq(TSX_LOADER)} ${shq(CLI_ENTRY)} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/** The environment of the recipe's shell: no TESSERA_* (childEnv) and no libpq PG* variable. */
function shellEnv(bin: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(childEnv()).filter(([k]) => !k.startsWith('PG')));
  return { ...env, PATH: `${bin}:${env['PATH'] ?? ''}` };
}

interface RecipeOptions {
  readonly cwd: string;
  readonly bin: string;
  /** Literal placeholder → value, applied to every block. */
  readonly replace: readonly (readonly [string, string])[];
  /** Runs where the document says the nodes start; the shell waits for it. */
  readonly atNodes: () => Promise<void>;
}

const substitute = (text: string, replace: RecipeOptions['replace']) =>
  replace.reduce((t, [from, to]) => t.replaceAll(from, to), text);

/**
 * Runs the blocks as one bash script under `set -euo pipefail`, as a reader pastes them into
 * one shell. At the nodes marker the script prints `@@nodes` and blocks on fd 3 until
 * `atNodes` has run. A failing command fails the run with its block and its stderr.
 */
function runRecipe(
  blocks: { before: readonly string[]; after: readonly string[] },
  options: RecipeOptions,
): Promise<{ stdout: string; stderr: string }> {
  const all = [...blocks.before, ...blocks.after];
  const part = (block: string, i: number) => [
    `printf '@@block %d\\n' ${i} >&2`,
    substitute(block, options.replace),
  ];
  const script = [
    'set -euo pipefail',
    ...blocks.before.flatMap(part),
    "printf '@@nodes\\n'",
    'read -r _ <&3',
    ...blocks.after.flatMap((b, i) => part(b, blocks.before.length + i)),
  ].join('\n');
  const child = spawn('bash', ['-c', script], {
    cwd: options.cwd,
    env: shellEnv(options.bin),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const control = child.stdio[3] as Writable;
  control.on('error', () => undefined);

  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    let nodesStarted = false;
    const timer = setTimeout(() => {
      failure ??= new Error(`the recipe did not finish within ${RECIPE_TIMEOUT_MS} ms`);
      child.kill('SIGKILL');
    }, RECIPE_TIMEOUT_MS);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (nodesStarted || !/^@@nodes$/m.test(stdout)) return;
      nodesStarted = true;
      options.atNodes().then(
        () => control.write('go\n'),
        (err: unknown) => {
          failure = err instanceof Error ? err : new Error(String(err));
          child.kill('SIGKILL');
        },
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      if (failure) return reject(failure);
      if (code === 0) return resolve({ stdout, stderr });
      const markers = [...stderr.matchAll(/^@@block (\d+)\n/gm)];
      const last = markers[markers.length - 1];
      const index = Number(last?.[1] ?? -1);
      const since = last ? stderr.slice((last.index ?? 0) + last[0].length) : stderr;
      reject(
        new Error(
          `recipe block ${index + 1} of ${all.length} failed (exit ${code ?? signal}):\n${all[index] ?? '(before any block)'}\n--- stderr ---\n${since}\n--- stdout ---\n${stdout}`,
        ),
      );
    });
  });
}

interface Node {
  readonly url: string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Polls /readyz until 200; fails with the node's stderr if it exits or takes too long. */
async function untilReady(url: string, exited: () => boolean, stderr: () => string) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited()) throw new Error(`the node at ${url} exited before it was ready:\n${stderr()}`);
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline)
      throw new Error(
        `the node at ${url} was not ready within ${READY_TIMEOUT_MS} ms:\n${stderr()}`,
      );
    await sleep(200);
  }
}

/**
 * One node as systemd would start it from the unit: the credentials copied into a directory
 * of its own (read-only, as systemd leaves them), `%d` that directory, ExecStart's
 * arguments given to the checkout's CLI. The port is the one thing added: TESSERA_PORT.
 */
async function startNode(
  unit: UnitCommand,
  replace: RecipeOptions['replace'],
  dir: string,
  port: number,
): Promise<Node> {
  const credentials = join(dir, 'credentials');
  mkdirSync(credentials, { recursive: true, mode: 0o700 });
  for (const [id, source] of unit.credentials) {
    copyFileSync(substitute(source, replace), join(credentials, id));
    chmodSync(join(credentials, id), 0o400);
  }
  const expand = (v: string) => {
    const out = v.replaceAll('%d', credentials);
    assert.doesNotMatch(out, /%/, `a specifier the test does not expand: ${v}`);
    return out;
  };
  const [command, ...args] = unit.argv;
  assert.equal(command, INSTALLED_COMMAND);
  const child = spawn(process.execPath, cliArgv(args.map(expand)), {
    cwd: credentials,
    env: childEnv({
      ...Object.fromEntries(unit.env.map(([k, v]) => [k, expand(v)])),
      TESSERA_PORT: String(port),
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  liveChildren.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      liveChildren.delete(child);
      resolve(code);
    }),
  );
  let exited = false;
  void exit.then(() => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const node: Node = {
    url,
    stderr: () => stderr,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      try {
        return await exit;
      } finally {
        clearTimeout(killer);
      }
    },
  };
  try {
    await untilReady(
      url,
      () => exited,
      () => stderr,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return node;
}

/** The commands the recipe runs besides `tessera`, which CI installs with PostgreSQL. */
const TOOLS = ['bash', 'psql', 'pg_dump', 'pg_restore', 'openssl', 'curl'];
const missingTools = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const unavailable =
  findPostgresBinaries() === undefined
    ? 'initdb/pg_ctl not found'
    : missingTools.length > 0
      ? `missing ${missingTools.join(', ')}`
      : undefined;
const skip = unavailable !== undefined && !inCi ? unavailable : false;

const isRoot = process.getuid?.() === 0;

/**
 * A PostgreSQL server speaking TLS with a certificate for 127.0.0.1 from a CA of its own,
 * accepting TCP connections only over TLS: the superuser without a password (the harness's
 * way, and the recipe's `ADMIN_URL`), everyone else with a password (scram-sha-256).
 */
async function startTlsPostgres(): Promise<{ server: PostgresServer; dir: string; ca: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-recipe-pg-tls-'));
  // The server runs as `postgres` and must read its certificate, key and hba file.
  chmodSync(dir, 0o755);
  const openssl = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Recipe test database CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  chmodSync(join(dir, 'server.key'), 0o600);
  chmodSync(join(dir, 'server.crt'), 0o644);
  if (isRoot) {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(join(dir, 'server.key'), id('-u'), id('-g'));
  }
  writeFileSync(
    join(dir, 'pg_hba.conf'),
    [
      'local all all trust',
      'hostssl all postgres 127.0.0.1/32 trust',
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  try {
    const server = await startPostgres({
      settings: {
        ssl: 'on',
        ssl_cert_file: join(dir, 'server.crt'),
        ssl_key_file: join(dir, 'server.key'),
        hba_file: join(dir, 'pg_hba.conf'),
      },
    });
    return { server, dir, ca: join(dir, 'ca.pem') };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

describe('docs/production.md: the page', () => {
  test('holds its recipe blocks, the nodes marker between them, and every step', () => {
    const { before, after } = recipe();
    assert.equal(before.length, BLOCKS_BEFORE_NODES, 'recipe blocks before the nodes start');
    assert.equal(after.length, BLOCKS_AFTER_NODES, 'recipe blocks once the nodes run');
    // The first lines say which blocks run.
    assert.match(DOC.slice(0, 800), /`sh recipe`/);
    const text = [...before, ...after].join('\n');
    for (const step of [
      /CREATE ROLE tessera LOGIN/,
      /CREATE DATABASE tessera OWNER tessera/,
      /sslmode=verify-full&sslrootcert=/,
      /^tessera .*init --issuer /m,
      /^tessera migrate$/m,
      /\/readyz/,
      /grant_type=client_credentials/,
      /^tessera doctor$/m,
      /^pg_dump /m,
      /^pg_restore /m,
      /^tessera key rotate$/m,
    ])
      assert.match(text, step);
  });

  test('root and systemd steps are shown, never in a block the recipe runs', () => {
    const blocks = fencedBlocks(DOC);
    for (const { body } of blocks.filter((b) => b.info === 'sh recipe'))
      assert.doesNotMatch(body, /\b(sudo|systemctl|journalctl)\b/);
    const shown = blocks.filter((b) => b.info === 'sh').map((b) => b.body);
    assert.ok(shown.some((b) => /sudo systemctl enable --now tessera/.test(b)));
    assert.ok(shown.some((b) => /sudo npm install --global tessera-oauth@/.test(b)));
  });

  test('the placeholder table lists exactly what the test replaces', () => {
    assert.deepEqual(documentedPlaceholders().sort(), Object.keys(placeholderValues({})).sort());
  });

  test('the install step names the version in package.json', () => {
    const { version } = JSON.parse(read('package.json')) as { version: string };
    assert.match(DOC, new RegExp(`tessera-oauth@${version.replaceAll('.', '\\.')}\\n`));
    assert.ok(DOC.includes(INSTALLED_COMMAND));
  });

  test('its links reach files and headings that exist', () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replaceAll(' ', '-');
    const anchors = (markdown: string) =>
      new Set([...markdown.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1] ?? '')));
    const links = [...DOC.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
    assert.ok(links.length > 10);
    for (const link of links.filter((l) => !/^https?:/.test(l))) {
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? DOC : read(join('docs', path));
      if (anchor !== undefined) assert.ok(anchors(target).has(anchor), `${link}: no such heading`);
    }
  });

  test('the README links it before its first section', () => {
    const readme = read('README.md');
    assert.match(readme.slice(0, readme.indexOf('\n## ')), /\]\(docs\/production\.md\)/);
  });
});

/**
 * Placeholder → what the test puts there; `null` for those that stay as written (the issuer)
 * or are not text (the `tessera` command, which is on the shell's PATH).
 */
function placeholderValues(v: {
  dbPort?: number;
  etc?: string;
  backups?: string;
  nodeA?: number;
  nodeB?: number;
}): Record<string, string | null> {
  return {
    'db.internal:5432': `127.0.0.1:${v.dbPort ?? 0}`,
    '/etc/tessera': v.etc ?? '',
    '/var/backups/tessera': v.backups ?? '',
    '10.0.0.11:8080': `127.0.0.1:${v.nodeA ?? 0}`,
    '10.0.0.12:8080': `127.0.0.1:${v.nodeB ?? 0}`,
    [ISSUER]: null,
    tessera: null,
  };
}

const textReplacements = (values: Record<string, string | null>) =>
  Object.entries(values).filter((e): e is [string, string] => e[1] !== null);

describe('deploy/tessera.service', () => {
  const unit = unitCommand();

  test('runs the installed command with flags `tessera serve --help` lists', async () => {
    const [command, subcommand, ...flags] = unit.argv;
    assert.equal(command, INSTALLED_COMMAND);
    assert.equal(subcommand, 'serve');
    const help = await runCli(['serve', '--help']);
    assert.equal(help.code, 0, help.stderr);
    const known = new Set(
      [...help.stdout.matchAll(/(?:^|[\s,])(--[a-z][a-z-]*)/g)].map((m) => m[1]),
    );
    const given = flags.filter((f) => f.startsWith('--'));
    assert.ok(given.length >= 3, 'the unit gives --no-migrate, --host and --trust-proxy');
    for (const flag of given) assert.ok(known.has(flag), `${flag} is a serve flag`);
    assert.deepEqual(flags, ['--no-migrate', '--host', '0.0.0.0', '--trust-proxy', '1']);
  });

  test('sets only variables Tessera reads, pointing at credentials it loads', () => {
    const names = new Set([
      'TESSERA_CONFIG',
      ...(Object.keys(optionSchemas) as OptionName[]).map(envName),
    ]);
    const ids = new Set(unit.credentials.map(([id]) => id));
    assert.ok(unit.env.length > 0);
    for (const [name, value] of unit.env) {
      assert.ok(names.has(name), `${name} is read by Tessera`);
      for (const [, id] of value.matchAll(/%d\/([^\s/]+)/g))
        assert.ok(ids.has(id ?? ''), `${name} names credential ${id}, which LoadCredential= loads`);
    }
    // What init writes, where the recipe's init puts it.
    assert.deepEqual(unit.credentials, [
      ['tessera.config.json', '/etc/tessera/tessera.config.json'],
      ['master.key', '/etc/tessera/master.key'],
    ]);
  });

  test('systemd-analyze verify finds nothing to say about it', async (t) => {
    // CI installs it (.ci/run); elsewhere a missing one skips, as the recipe's tools do.
    if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0 && !inCi) {
      t.skip('systemd-analyze is not installed');
      return;
    }
    // verify wants ExecStart's binary to exist: the installed path becomes a real executable.
    const dir = mkdtempSync(join(tmpdir(), 'tessera-unit-'));
    try {
      const bin = commandDir(dir);
      writeFileSync(
        join(dir, 'tessera.service'),
        UNIT.replace(`ExecStart=${INSTALLED_COMMAND} `, `ExecStart=${join(bin, 'tessera')} `),
      );
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'tessera.service')], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '', 'no unknown or misspelt directive');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('deploy/nginx.conf sends to the two nodes what the unit expects', () => {
    const servers = [...NGINX.matchAll(/^\s*server (\S+:\d+)/gm)].map((m) => m[1]);
    assert.deepEqual(servers, ['10.0.0.11:8080', '10.0.0.12:8080']);
    // Appending to X-Forwarded-For is one hop: --trust-proxy 1 (docs/deployment.md's table).
    assert.match(NGINX, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    assert.ok(unit.argv.join(' ').includes('--trust-proxy 1'));
    // nginx must drop an idle upstream connection before the node does.
    const idle = Number(/keepalive_timeout (\d+)s;/.exec(NGINX)?.[1]);
    assert.ok(idle < optionSchemas.keepAliveTimeout.default, `keepalive_timeout ${idle}s`);
  });
});

describe('the recipe runner', () => {
  test('a failing recipe command fails the run, naming its block and showing its stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-recipe-runner-'));
    const failing = 'tessera --config /nonexistent/tessera.config.json migrate';
    try {
      await assert.rejects(
        runRecipe(
          { before: ['true', failing], after: ['echo never'] },
          { cwd: dir, bin: commandDir(dir), replace: [], atNodes: () => Promise.resolve() },
        ),
        (err: Error) => {
          assert.match(err.message, /^recipe block 2 of 3 failed \(exit 1\):/);
          assert.ok(err.message.includes(failing), err.message);
          assert.match(err.message, /--- stderr ---\ntessera: cannot read config file/);
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/production.md: the recipe, run', { skip }, () => {
  let database: { server: PostgresServer; dir: string; ca: string } | undefined;
  let work = '';
  let bin = '';
  const nodes: Node[] = [];

  before(async () => {
    if (unavailable) throw new Error(`the recipe needs PostgreSQL and its tools: ${unavailable}`);
    database = await startTlsPostgres();
    work = mkdtempSync(join(tmpdir(), 'tessera-recipe-'));
    bin = commandDir(work);
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    database?.server.stop();
    if (database) rmSync(database.dir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('two nodes on one PostgreSQL over TLS: ready, a token from each, one key set', async () => {
    assert.ok(database);
    const etc = join(work, 'etc/tessera');
    const backups = join(work, 'backups');
    mkdirSync(etc, { recursive: true });
    // Step 2, done by the reader: the database's CA certificate in place.
    copyFileSync(database.ca, join(etc, 'db-ca.pem'));
    const [portA, portB] = [await freePort(), await freePort()];
    const values = placeholderValues({
      dbPort: database.server.port,
      etc,
      backups,
      nodeA: portA,
      nodeB: portB,
    });
    const replace = textReplacements(values);
    const unit = unitCommand();

    const { stdout } = await runRecipe(recipe(), {
      cwd: work,
      bin,
      replace,
      atNodes: async () => {
        const started = await Promise.allSettled(
          [portA, portB].map((port, i) =>
            startNode(unit, replace, join(work, `node-${i === 0 ? 'a' : 'b'}`), port ?? 0),
          ),
        );
        for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
        for (const s of started) if (s.status === 'rejected') throw s.reason;
      },
    });
    // The recipe's own checks printed what the page says: ready, and a token from each node.
    assert.equal(stdout.match(/^\{"status":"ready"\}$/gm)?.length, 2, stdout);
    assert.equal(stdout.match(/"access_token":"eyJ/g)?.length, 2, stdout);
    assert.match(stdout, /^PASS master key — decrypts all 1 signing keys$/m);
    // A production recipe leaves doctor nothing to warn about (a FAIL would have stopped it).
    assert.doesNotMatch(stdout, /^WARN /m);

    const config = JSON.parse(readFileSync(join(etc, 'tessera.config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(statSync(join(etc, 'tessera.config.json')).mode & 0o777, 0o600);
    assert.match(String(config['database']), /^postgres:\/\/tessera:[0-9a-f]{64}@127\.0\.0\.1:/);
    assert.equal(readdirSync(backups).filter((f) => f.endsWith('.dump')).length, 1);

    const [a, b] = nodes;
    assert.ok(a && b);
    for (const node of [a, b]) {
      const ready = await getJson(`${node.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ready' });
    }
    const created = await runCli(
      ['--json', 'client', 'create', '--name', 'Recipe check', '--grant', 'client_credentials'],
      { env: { TESSERA_CONFIG: join(etc, 'tessera.config.json') } },
    );
    assert.equal(created.code, 0, created.stderr);
    const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
    const tokens: string[] = [];
    for (const node of [a, b]) {
      const res = await postForm<{ access_token?: string }>(
        `${node.url}/oauth/token`,
        { grant_type: 'client_credentials' },
        { authorization: basic },
      );
      assert.equal(res.status, 200, `${node.url}: ${res.text}\n${node.stderr()}`);
      assert.ok(res.body.access_token);
      tokens.push(res.body.access_token);
    }
    // Each node's token verifies with the other node's JWKS, under the one public issuer.
    for (const [token, other] of [
      [tokens[0], b],
      [tokens[1], a],
    ] as const) {
      const jwks = await getJson<JSONWebKeySet>(`${other.url}/.well-known/jwks.json`);
      assert.equal(jwks.status, 200);
      const { payload } = await jwtVerify(token ?? '', createLocalJWKSet(jwks.body), {
        issuer: ISSUER,
        audience: ISSUER,
      });
      assert.equal(payload['client_id'], client.client_id);
    }

    // Every connection the nodes hold is TLS (the server would refuse any other, too).
    const admin = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${database.server.port}/postgres`,
      ssl: { ca: readFileSync(database.ca, 'utf8') },
    });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ ssl: boolean }>(
        "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'tessera'",
      );
      assert.ok(rows.length >= 2, `connections of the tessera role: ${rows.length}`);
      assert.ok(rows.every((r) => r.ssl));
    } finally {
      await admin.end();
    }

    // verify-full, as the recipe's URL says: pg warns about any weaker sslmode.
    for (const node of [a, b]) {
      const warning = /^.*SECURITY WARNING.*$/m.exec(node.stderr());
      assert.equal(warning, null, `${node.url}: ${warning?.[0]}`);
    }

    // systemd stops a node with SIGTERM: it drains and exits 0 (no restart by on-failure).
    const codes = await Promise.all(nodes.splice(0).map((n) => n.stop()));
    assert.deepEqual(codes, [0, 0]);
  });
});
