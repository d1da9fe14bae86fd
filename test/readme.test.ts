/**
 * The README's walkthrough and Cisco Spaces commands, run as a reader would run them: each
 * `sh` block through bash against a live server, and every `# {…}` comment that follows a
 * command checked against what that command printed (same keys in the same order, same
 * types; `…` in an expected string stands for "anything from here on").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI_ENTRY, ROOT, TSX_LOADER, childEnv } from './helpers/cli.js';
import { type RunningServer, startServer } from './helpers/server.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const README_URL = 'http://127.0.0.1:8080';

/** The `sh` blocks of one `## ` section, with backslash continuations joined. */
function shellBlocks(heading: string): string[] {
  const start = README.indexOf(`## ${heading}`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const end = README.indexOf('\n## ', start + 3);
  const section = README.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    (m[1] ?? '').replace(/\\\n\s*/g, ''),
  );
}

interface Step {
  readonly command: string;
  /** JSON the README says this command prints, if it says. */
  readonly expected?: string;
}

function steps(block: string): Step[] {
  const out: Step[] = [];
  for (const line of block.split('\n')) {
    const expected = /^# (\{.*\})/.exec(line)?.[1];
    const last = out[out.length - 1];
    if (expected !== undefined && last) out[out.length - 1] = { ...last, expected };
    else if (line.trim() && !line.startsWith('#')) out.push({ command: line });
  }
  return out;
}

/** Runs one block as one bash script (variables carry across its lines); output per step. */
function runBlock(
  block: string,
  cwd: string,
  url: string,
): { outputs: string[]; status: number | null; stderr: string } {
  const cli = `${JSON.stringify(process.execPath)} --import ${JSON.stringify(TSX_LOADER)} ${JSON.stringify(CLI_ENTRY)}`;
  const list = steps(block);
  const script = [
    'set -euo pipefail',
    ...list.flatMap((s, i) => [
      `echo "@@step ${i}"`,
      s.command.replaceAll('node dist/cli/main.js', cli).replaceAll(README_URL, url),
      'echo',
    ]),
  ].join('\n');
  const res = spawnSync('bash', ['-c', script], {
    cwd,
    env: childEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const outputs = res.stdout
    .split(/^@@step \d+\n/m)
    .slice(1)
    .map((o) => o.trim());
  return { outputs, status: res.status, stderr: res.stderr };
}

function assertShape(actualText: string, expectedText: string, command: string): void {
  const expected = JSON.parse(expectedText) as Record<string, unknown>;
  let actual: Record<string, unknown>;
  try {
    actual = JSON.parse(actualText) as Record<string, unknown>;
  } catch {
    assert.fail(`${command}\nprinted ${actualText}, not JSON`);
  }
  assert.deepEqual(Object.keys(actual), Object.keys(expected), command);
  for (const [key, want] of Object.entries(expected)) {
    const got = actual[key];
    assert.equal(typeof got, typeof want, `${command}: type of ${key}`);
    if (typeof want === 'string' && want.includes('…')) {
      assert.ok((got as string).startsWith(want.slice(0, want.indexOf('…'))), `${command}: ${key}`);
      assert.ok((got as string).length > 0, `${command}: ${key} is empty`);
    } else {
      assert.deepEqual(got, want, `${command}: ${key}`);
    }
  }
}

describe('README', () => {
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
    // As `npm start` does: the default database under ./data of the working directory.
    server = await startServer({
      database: 'sqlite:./data/tessera.db',
      cwd: dir,
      args: ['--demo'],
    });
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
    const blocks = shellBlocks('Five-minute walkthrough').filter(
      (b) => !b.startsWith('npm install'),
    );
    let checked = 0;
    for (const block of blocks) {
      const { outputs, status, stderr } = runBlock(block, dir, server.url);
      assert.equal(status, 0, `block failed:\n${block}\n${stderr}`);
      steps(block).forEach((step, i) => {
        if (step.expected === undefined) return;
        assertShape(outputs[i] ?? '', step.expected, step.command);
        checked++;
      });
    }
    // Bright Pattern, Setu (issue and refresh), standard, and the revoked token's introspection.
    assert.equal(checked, 5);
  });

  test('the Cisco Spaces setup commands succeed', () => {
    for (const block of shellBlocks('Cisco Spaces partner app')) {
      const { status, stderr } = runBlock(block, dir, server.url);
      assert.equal(status, 0, `block failed:\n${block}\n${stderr}`);
    }
  });
});
