import { Command } from 'commander';
import { diagnose } from '../doctor/checks.js';
import { systemClock } from '../server/runtime.js';
import { configFor, globals, guarded } from './context.js';

export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'go-live checks of the configuration and the store (no server needed); exit 1 on any FAIL',
    )
    .action((_flags: unknown, cmd: Command) => {
      const opts = globals(cmd);
      return guarded(async () => {
        const checks = await diagnose(() => configFor(opts), systemClock());
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ checks })}\n`
            : checks.map((c) => `${c.level} ${c.name} — ${c.reason}\n`).join(''),
        );
        if (checks.some((c) => c.level === 'FAIL')) process.exitCode = 1;
      });
    });
}
