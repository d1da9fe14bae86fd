import { Command } from 'commander';
import { auditCommand } from './audit.js';
import { clientCommand } from './client.js';
import { createSqlStore } from '../store/sql/sql-store.js';
import { configFor, globals, guarded } from './context.js';
import { doctorCommand } from './doctor.js';
import { initCommand } from './init.js';
import { printItem } from './io.js';
import { keyCommand } from './key.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';
import { tenantCommand } from './tenant.js';
import { userCommand } from './user.js';

/**
 * A command line that does not parse (unknown command or option, missing option or
 * argument) exits 2, as `simulate`'s own usage errors do, so a script can tell "called
 * wrongly" from "tried and failed" (1). A value an option's parser refuses (`--refresh-grace
 * 1.5`) stays 1, the code of every other refused value (`--refresh-grace 301`). Help and
 * version exit 0. Set on every command: commander does not pass it down to `addCommand`.
 */
function usageErrorsExit2(cmd: Command): Command {
  cmd.exitOverride((err) => {
    if (err.exitCode === 0 || err.code === 'commander.invalidArgument') process.exit(err.exitCode);
    process.exit(2);
  });
  cmd.commands.forEach(usageErrorsExit2);
  return cmd;
}

export function buildProgram(): Command {
  const program = new Command('tessera')
    .description(
      "Tessera: an OAuth 2.0 authorization server that speaks each partner platform's dialect",
    )
    .option(
      '--database <url>',
      'store URL (env TESSERA_DATABASE_URL; default sqlite:./data/tessera.db)',
    )
    .option(
      '--config <file>',
      'JSON config file (env TESSERA_CONFIG; default ./tessera.config.json if present)',
    )
    .option('--json', 'print results as JSON')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program.addCommand(serveCommand());
  program
    .command('migrate')
    .description('apply pending schema migrations (once per upgrade in a multi-node deployment)')
    .action((_flags: unknown, cmd: Command) => {
      const opts = globals(cmd);
      return guarded(async () => {
        const store = createSqlStore(configFor(opts).database);
        try {
          printItem(opts, { applied: await store.migrate() });
        } finally {
          await store.close();
        }
      });
    });
  program.addCommand(initCommand());
  program.addCommand(doctorCommand());
  program.addCommand(tenantCommand());
  program.addCommand(userCommand());
  program.addCommand(clientCommand());
  program.addCommand(keyCommand());
  program.addCommand(auditCommand());
  program.addCommand(simulateCommand());
  return usageErrorsExit2(program);
}
