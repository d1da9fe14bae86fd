/**
 * Runs the `sh` blocks of a document as a reader would paste them: through bash with
 * `set -euo pipefail` (so a variable the reader was never told to set fails the block),
 * against a live server, and checks every `# {…}` comment that follows a command against what
 * that command printed (same keys in the same order, same types; `…` in an expected string
 * stands for "anything from here on").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI_ENTRY, TSX_LOADER, childEnv } from './cli.js';

/** The `sh` blocks of one `## ` section (the whole document without a heading), continuations joined. */
export function shellBlocks(markdown: string, heading?: string): string[] {
  let section = markdown;
  if (heading !== undefined) {
    const start = markdown.indexOf(`## ${heading}`);
    assert.ok(start >= 0, `the document has a "${heading}" section`);
    const end = markdown.indexOf('\n## ', start + 3);
    section = markdown.slice(start, end < 0 ? undefined : end);
  }
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    (m[1] ?? '').replace(/\\\n\s*/g, ''),
  );
}

export interface Step {
  readonly command: string;
  /** JSON the document says this command prints, if it says. */
  readonly expected?: string;
}

export function steps(block: string): Step[] {
  const out: Step[] = [];
  for (const line of block.split('\n')) {
    const expected = /^# (\{.*\})/.exec(line)?.[1];
    const last = out[out.length - 1];
    if (expected !== undefined && last) out[out.length - 1] = { ...last, expected };
    else if (line.trim() && !line.startsWith('#')) out.push({ command: line });
  }
  return out;
}

export interface BlockRun {
  /** What each step printed on stdout, trimmed. */
  readonly outputs: string[];
  readonly status: number | null;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd: string;
  /** Lines run before the block, unchecked: what the reader already has in the shell. */
  readonly prelude?: readonly string[];
  /** Literal replacements in each command, e.g. the document's example host → the test server. */
  readonly replace?: readonly (readonly [string, string])[];
}

/**
 * Runs one block as one bash script (variables carry across its lines), the CLI from source
 * wherever the document says `node dist/cli/main.js` or `npx tessera`.
 */
export function runBlock(block: string, options: RunOptions): BlockRun {
  const cli = `${JSON.stringify(process.execPath)} --import ${JSON.stringify(TSX_LOADER)} ${JSON.stringify(CLI_ENTRY)}`;
  const list = steps(block);
  const script = [
    'set -euo pipefail',
    ...(options.prelude ?? []),
    ...list.flatMap((s, i) => [
      `echo "@@step ${i}"`,
      (options.replace ?? []).reduce(
        (command, [from, to]) => command.replaceAll(from, to),
        s.command.replaceAll('node dist/cli/main.js', cli).replaceAll('npx tessera', cli),
      ),
      'echo',
    ]),
  ].join('\n');
  const res = spawnSync('bash', ['-c', script], {
    cwd: options.cwd,
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

export function assertShape(actualText: string, expectedText: string, command: string): void {
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

/** Runs the blocks in order and checks every `# {…}`; returns how many were checked. */
export function runAndCheck(blocks: readonly string[], options: RunOptions): number {
  let checked = 0;
  for (const block of blocks) {
    const { outputs, status, stderr } = runBlock(block, options);
    assert.equal(status, 0, `block failed:\n${block}\n${stderr}`);
    steps(block).forEach((step, i) => {
      if (step.expected === undefined) return;
      assertShape(outputs[i] ?? '', step.expected, step.command);
      checked++;
    });
  }
  return checked;
}
