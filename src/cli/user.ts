import { Command } from 'commander';
import {
  createUser,
  disableUser,
  inviteUser,
  listConsents,
  listUsers,
  resetPasswordLink,
  revokeConsent,
  setPassword,
} from '../admin/users.js';
import { ValidationError } from '../admin/context.js';
import { managed } from './context.js';
import { printItem, printList, readStdinLine } from './io.js';

async function password(flags: { passwordStdin?: boolean }): Promise<string> {
  if (!flags.passwordStdin)
    throw new ValidationError('pass the password on stdin with --password-stdin');
  return readStdinLine('password');
}

export function userCommand(): Command {
  const user = new Command('user').description('users (members of one or more tenants)');
  user
    .command('create')
    .description('create a user')
    .requiredOption('--email <email>', 'login email')
    .option('--name <name>', 'display name')
    .requiredOption('--tenant <id...>', 'tenant(s) the user belongs to')
    .option('--password-stdin', 'read the password from stdin')
    .action(
      managed(
        async (
          ctx,
          opts,
          flags: { email: string; name?: string; tenant: string[]; passwordStdin?: boolean },
        ) => {
          const pw = await password(flags);
          printItem(
            opts,
            await createUser(ctx, {
              email: flags.email,
              name: flags.name,
              tenants: flags.tenant,
              password: pw,
            }),
          );
        },
      ),
    );
  user
    .command('invite')
    .description(
      'create a user without a password (or invite one again) and mail a single-use link to set it',
    )
    .requiredOption('--email <email>', 'login email')
    .option('--name <name>', 'display name')
    .option('--tenant <id...>', 'tenant(s) the user belongs to (required for a new user)')
    .option('--print-link', 'print the link on stdout instead of mailing it')
    .action(
      managed(
        async (
          ctx,
          opts,
          flags: { email: string; name?: string; tenant?: string[]; printLink?: boolean },
        ) => {
          printItem(
            opts,
            await inviteUser(ctx, {
              email: flags.email,
              name: flags.name,
              tenants: flags.tenant ?? [],
              printLink: flags.printLink,
            }),
          );
        },
      ),
    );
  user
    .command('reset-password')
    .description('mail the user a single-use link to choose a new password')
    .argument('<email>')
    .option('--print-link', 'print the link on stdout instead of mailing it')
    .action(
      managed(async (ctx, opts, email: string, flags: { printLink?: boolean }) => {
        printItem(opts, await resetPasswordLink(ctx, email, flags.printLink));
      }),
    );
  user
    .command('list')
    .description('list users')
    .action(
      managed(async (ctx, opts) => {
        printList(opts, await listUsers(ctx), ['email', 'id', 'tenants', 'disabled']);
      }),
    );
  user
    .command('set-password')
    .description("replace a user's password")
    .argument('<email>')
    .option('--password-stdin', 'read the password from stdin')
    .action(
      managed(async (ctx, opts, email: string, flags: { passwordStdin?: boolean }) => {
        printItem(opts, await setPassword(ctx, email, await password(flags)));
      }),
    );
  user
    .command('disable')
    .description('disable a user (logins and refreshes of their grants stop)')
    .argument('<email>')
    .action(
      managed(async (ctx, opts, email: string) => {
        printItem(opts, await disableUser(ctx, email));
      }),
    );
  user
    .command('consents')
    .description('list the scopes the user allowed each --consent client')
    .argument('<email>')
    .action(
      managed(async (ctx, opts, email: string) => {
        printList(opts, await listConsents(ctx, email), ['client_id', 'scopes', 'granted_at']);
      }),
    );
  user
    .command('revoke-consent')
    .description("withdraw a consent and revoke the user's refresh tokens of that client")
    .argument('<email>')
    .requiredOption('--client <id>', 'the client')
    .action(
      managed(async (ctx, opts, email: string, flags: { client: string }) => {
        printItem(opts, await revokeConsent(ctx, email, flags.client));
      }),
    );
  return user;
}
