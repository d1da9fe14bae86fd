import { Command, InvalidArgumentError } from 'commander';
import { listAudit } from '../admin/audit.js';
import { managed } from './context.js';
import { printList } from './io.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function auditCommand(): Command {
  const audit = new Command('audit').description('the audit trail of security-relevant events');
  audit
    .command('list')
    .description('events, oldest first')
    .option('--since <time>', 'only events at or after this ISO-8601 time')
    .option('--type <type>', 'only this event type (e.g. token.refused)')
    .option('--tenant <id>', 'only events of this tenant')
    .option('--client <id>', 'only events of this client')
    .option('--limit <n>', 'at most this many events', positive, 1000)
    .action(
      managed(
        async (
          ctx,
          opts,
          flags: { since?: string; type?: string; tenant?: string; client?: string; limit: number },
        ) => {
          printList(opts, await listAudit(ctx, flags), [
            'at',
            'type',
            'client_id',
            'tenant_id',
            'ip',
            'reason',
          ]);
        },
      ),
    );
  return audit;
}
