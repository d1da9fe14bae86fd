/**
 * The README's commands, run as a reader would run them (test/helpers/doc-shell.ts): the
 * walkthrough, the Cisco Spaces setup and the simulate examples against a live demo server,
 * with only what the demo banner tells the reader to paste already in the shell.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { demoShellExports } from '../src/admin/demo.js';
import { ROOT, childEnv, cliArgv, liveChildren, runCli } from './helpers/cli.js';
import { runAndCheck, shellBlocks } from './helpers/doc-shell.js';
import { type RunningServer, startServer } from './helpers/server.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  let dir: string;
  let server: RunningServer;
  let prelude: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
    // As `npm start` does: the default database under ./data of the working directory.
    server = await startServer({
      database: 'sqlite:./data/tessera.db',
      cwd: dir,
      args: ['--demo'],
    });
    prelude = demoShellExports(server.url, server.announced.demo);
  });

  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('opens with the install-and-run and install-and-test commands', () => {
    const top = README.slice(0, README.indexOf('## '));
    assert.match(top, /```sh\nnpm install && npm start\n```/);
    assert.match(top, /```sh\nnpm ci && npm test\n```/);
  });

  test('the walkthrough commands print what the README says they print', () => {
    const blocks = shellBlocks(README, 'Five-minute walkthrough').filter(
      (b) => !b.startsWith('npm install'),
    );
    // Bright Pattern, Setu (issue and refresh), standard, and the revoked token's introspection.
    assert.equal(runAndCheck(blocks, { cwd: dir, prelude }), 5);
  });

  test('the Cisco Spaces setup commands succeed', () => {
    runAndCheck(shellBlocks(README, 'Cisco Spaces partner app'), { cwd: dir, prelude });
  });

  test('the simulate examples run as written with what the demo banner prints, and pass', () => {
    const blocks = shellBlocks(README, 'Checking an integration with `tessera simulate`');
    assert.equal(blocks.length, 1);
    runAndCheck(blocks, { cwd: dir, prelude });
  });

  test('no command hard-codes the port: a server on another port runs them all', () => {
    for (const block of [
      ...shellBlocks(README, 'Five-minute walkthrough'),
      ...shellBlocks(README, 'Checking an integration with `tessera simulate`'),
    ])
      assert.doesNotMatch(block, /127\.0\.0\.1:\d+|localhost:\d+/, block);
  });
});

/** The text banner of `serve --demo` on an empty database. */
async function textBanner(cwd: string): Promise<string> {
  const child = spawn(
    process.execPath,
    cliArgv(['serve', '--demo', '--port', '0', '--log-level', 'warn']),
    { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  liveChildren.add(child);
  let out = '';
  try {
    for await (const chunk of child.stdout.setEncoding('utf8')) {
      out += chunk as string;
      // The banner is one write of less than PIPE_BUF bytes, so it arrives whole.
      if (out.startsWith('Tessera listening') && out.endsWith('\n')) return out;
    }
    assert.fail(`the server stopped before printing its banner:\n${out}`);
  } finally {
    child.kill('SIGINT');
    liveChildren.delete(child);
  }
}

test('the demo banner prints, ready to paste, every variable the README uses', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tessera-readme-banner-'));
  try {
    const banner = await textBanner(cwd);
    const exported = new Map(
      [...banner.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    const url = /^Tessera listening on (\S+)$/m.exec(banner)?.[1];
    assert.equal(exported.get('BASE'), url);
    assert.equal(exported.get('DEMO_PASSWORD'), /password (\S+)$/m.exec(banner)?.[1]);
    for (const [id, name] of [
      ['demo-standard', 'STANDARD_SECRET'],
      ['demo-cisco-spaces', 'SPACES_SECRET'],
      ['demo-bright-pattern', 'BRIGHT_SECRET'],
      ['demo-setu', 'SETU_SECRET'],
    ] as const)
      assert.equal(exported.get(name), new RegExp(`client ${id} +secret (\\S+)`).exec(banner)?.[1]);
    // Every $VARIABLE of a README block is the banner's or assigned earlier in that block.
    for (const block of shellBlocks(README)) {
      const assigned = [...block.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
      for (const [, name] of block.matchAll(/\$\{?([A-Z_]+)/g))
        assert.ok(exported.has(name) || assigned.includes(name), `$${name} in\n${block}`);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

/**
 * Whether an `engines.node` range admits Node `major.minor`, for the forms package-lock.json
 * holds (`*`, `>=N[.M]`, `^N.M.P`, `N`, `N.x`, joined by `||`); any other form fails the test
 * rather than being guessed at.
 */
function admits(range: string, major: number, minor: number): boolean {
  return range.split('||').some((alternative) => {
    const a = alternative.trim();
    if (a === '*') return true;
    const m = /^(>=|\^)?\s*(\d+)(?:\.(\d+|x|\*))?(?:\.[\dx*]+)?$/.exec(a);
    assert.ok(m, `engines range ${range}`);
    const [wantMajor, wantMinor] = [Number(m[2]), Number.parseInt(m[3] ?? '0', 10) || 0];
    if (m[1] === '>=') return major > wantMajor || (major === wantMajor && minor >= wantMinor);
    return major === wantMajor && minor >= wantMinor;
  });
}

test('the Node statement: the lines CI tests, what engines says, and each EBADENGINE warning', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
  };
  // `^M.m.p` per Node line, lowest line first: `npm test` on the machine's Node, then the lines
  // .ci/run names, each one of its pinned versions.
  const lines = pkg.engines.node.split(' || ').map((alternative) => {
    const m = /^\^(\d+)\.(\d+)\.0$/.exec(alternative);
    assert.ok(m, pkg.engines.node);
    return { major: Number(m[1]), minor: Number(m[2]) };
  });
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  assert.match(ci, /^scripts\/test-on-node\.sh "\$\{NODE_LINES\[@\]\}"$/m);
  const versions = /^NODE_LINES=\(([\d. ]+)\)$/m.exec(ci)?.[1]?.split(' ');
  assert.ok(versions, 'NODE_LINES in .ci/run');
  const pinned = versions.map((v) => {
    const [major, minor] = v.split('.').map(Number);
    return { major: major ?? NaN, minor: minor ?? NaN };
  });
  // The machine's line is the one the types are for, so the typecheck rejects newer APIs.
  const machine = Number(pkg.devDependencies['@types/node']?.split('.')[0]);
  assert.deepEqual(
    lines.map((l) => l.major),
    [machine, ...pinned.map((p) => p.major)],
  );
  for (const { major, minor } of pinned)
    assert.ok(admits(pkg.engines.node, major, minor), `${major}.${minor}`);
  const range = lines.map((l) => (l.minor > 0 ? `${l.major}.${l.minor}+` : `${l.major}`));
  const statement = `Node ${range.slice(0, -1).join(', ')} or ${range.at(-1)}`;
  const readme = README.replace(/\s+/g, ' ');
  assert.ok(readme.includes(`${statement} (\`engines\` in package.json)`), statement);
  assert.ok(readme.includes(`CI runs the suite on its machine's Node ${machine},`));
  const tested =
    versions.length === 1
      ? `${versions[0]}, the newest release of the LTS line ${pinned[0]?.major}`
      : `${versions.slice(0, -1).join(', ')} and ${versions.at(-1)}, the newest releases of the current LTS lines`;
  assert.ok(readme.includes(`on Node ${tested}`), tested);
  const production = readFileSync(join(ROOT, 'docs/production.md'), 'utf8').replace(/\s+/g, ' ');
  assert.ok(production.includes(`${statement.replace('Node', 'Node.js')} (see the README`));

  // What npm warns about on the lowest release of each line.
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } }>;
  };
  assert.equal(lock.packages['']?.engines?.node, pkg.engines.node);
  const refusing = lines.map(({ major, minor }) =>
    Object.entries(lock.packages)
      .filter(([, p]) => p.engines?.node !== undefined && !admits(p.engines.node, major, minor))
      .map(([path, p]) => `${path.slice(path.lastIndexOf('node_modules/') + 13)}@${p.version}`),
  );
  assert.deepEqual(
    refusing,
    [['cookie@2.0.2'], ...pinned.map(() => [])],
    'the README names each, and why it is harmless',
  );
  assert.ok(readme.includes(`On Node ${machine}, \`npm install\` warns \`EBADENGINE\``));
  for (const name of refusing.flat()) assert.ok(README.includes(`\`${name}\``), name);
  // Harmless because fastify loads light-my-request (cookie@2's only user) only for inject().
  const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' });
  for (const file of sources.filter((f) => f.endsWith('.ts')))
    assert.doesNotMatch(readFileSync(join(ROOT, 'src', file), 'utf8'), /\.inject\(/, file);
});

describe('README: bad usage is one line on stderr and exit code 2', () => {
  const cases = [
    ['an unknown profile', ['simulate', 'nosuch']],
    ['a missing option', ['simulate', 'setu', '--client-id', 'x']],
    [
      'an unknown report format',
      [
        'simulate',
        'setu',
        '--client-id',
        'x',
        '--token-url',
        'http://127.0.0.1:9/t',
        '--report',
        'pdf:x.pdf',
      ],
    ],
    ['an unknown option', ['simulate', 'setu', '--bogus']],
    ['an unknown command', ['nosuch']],
    ['a missing required option of another command', ['tenant', 'create', '--name', 'x']],
  ] as const;
  for (const [what, args] of cases)
    test(what, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, `tessera ${args.join(' ')}\n${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    });

  test('--help still exits 0', async () => {
    const r = await runCli(['simulate', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cisco-spaces/);
  });
});
