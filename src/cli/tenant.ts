import { Command } from 'commander';
import { createTenant, listTenants, setTelemetry, updateTenant } from '../admin/tenants.js';
import { type BrandFlags, brandInput, brandOptions } from './branding.js';
import { managed } from './context.js';
import { printItem, printList } from './io.js';

interface TenantFlags extends BrandFlags {
  name?: string;
  domain?: string;
  appUrl?: string;
  supportEmail?: string;
}

function tenantOptions(cmd: Command): Command {
  return brandOptions(cmd)
    .option('--domain <host>', 'host name that selects this tenant in scope (e.g. example.com)')
    .option('--app-url <url>', 'where a Cisco Spaces launch sends the user')
    .option('--support-email <email>', 'support address shown in App Info');
}

export function tenantCommand(): Command {
  const tenant = new Command('tenant').description('tenants (the id is the partnerTenantId)');
  tenantOptions(
    tenant
      .command('create')
      .description('create a tenant')
      .requiredOption('--id <id>', 'tenant id')
      .requiredOption('--name <name>', 'display name'),
  ).action(
    managed(async (ctx, opts, flags: TenantFlags & { id: string }) => {
      printItem(opts, await createTenant(ctx, flags.id, { ...flags, branding: brandInput(flags) }));
    }),
  );
  tenantOptions(
    tenant
      .command('update')
      .description('change a tenant')
      .argument('<id>')
      .option('--name <name>', 'display name'),
  ).action(
    managed(async (ctx, opts, id: string, flags: TenantFlags) => {
      printItem(opts, await updateTenant(ctx, id, { ...flags, branding: brandInput(flags) }));
    }),
  );
  tenant
    .command('list')
    .description('list tenants')
    .action(
      managed(async (ctx, opts) => {
        printList(opts, await listTenants(ctx), ['id', 'name', 'domain', 'app_url']);
      }),
    );
  tenant
    .command('telemetry')
    .description('App Info telemetry entries')
    .command('set')
    .description('add or replace a telemetry entry (by name)')
    .argument('<id>', 'tenant id')
    .requiredOption('--name <name>', 'entry name')
    .requiredOption('--value <value>', 'value (sent as a string)')
    .requiredOption('--units <units>', 'units')
    .option('--type <type>', 'entry type', 'metric')
    .action(
      managed(
        async (
          ctx,
          opts,
          id: string,
          flags: { name: string; value: string; units: string; type: string },
        ) => {
          printItem(opts, await setTelemetry(ctx, id, flags));
        },
      ),
    );
  return tenant;
}
