import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/options.js';
import type { AdminContext } from '../admin/context.js';
import { createLogger } from '../observability/logger.js';
import { openRuntime } from '../server/runtime.js';
import { type GlobalOptions, describeError } from './io.js';

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function configFor(opts: GlobalOptions, flags: Record<string, unknown> = {}): Config {
  return loadConfig({
    flags: { ...flags, ...(opts.database !== undefined && { database: opts.database }) },
    ...(opts.config !== undefined && { file: opts.config }),
  });
}

/** Runs a command body; any failure is one line on stderr and exit code 1. */
export async function guarded(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    process.stderr.write(`tessera: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}

/**
 * Runs a management command: opens the store (applying pending migrations, so a fresh
 * SQLite file works at once), runs it, closes.
 */
export function managed<A extends unknown[]>(
  run: (ctx: AdminContext, opts: GlobalOptions, ...args: A) => Promise<void>,
): (...args: [...A, Command]) => Promise<void> {
  return (...args) => {
    const opts = globals(args[args.length - 1] as Command);
    return guarded(async () => {
      const runtime = await openRuntime(configFor(opts), { logger: createLogger('warn') });
      try {
        await run(runtime, opts, ...(args.slice(0, -1) as A));
      } finally {
        await runtime.close();
      }
    });
  };
}
