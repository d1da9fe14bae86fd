import { Command, InvalidArgumentError, Option } from 'commander';
import {
  type ClientInput,
  DEFAULT_REFRESH_GRACE,
  MAX_REFRESH_GRACE,
  createClient,
  deleteClient,
  getClient,
  listClients,
  rotateSecret,
  updateClient,
} from '../admin/clients.js';
import { type BrandFlags, brandInput, brandOptions } from './branding.js';
import { managed } from './context.js';
import { SIGNING_ALGS } from '../tokens/keystore.js';
import { printItem, printList, readStdinLine } from './io.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function seconds(value: string): number {
  // Digits only: Number() would also read "", " 5", "1e1" and "0x10".
  if (!/^\d{1,10}$/.test(value)) throw new InvalidArgumentError('expected whole seconds');
  return Number(value);
}

interface ClientFlags extends BrandFlags {
  name?: string;
  dialect?: string;
  grant?: string[];
  redirectUri?: string[];
  tenant?: string[];
  scope?: string[];
  audience?: string;
  accessTokenTtl?: number;
  refreshTokenTtl?: number;
  /** Seconds; false from `--no-refresh-grace`. */
  refreshGrace?: number | false;
  requirePkce?: boolean;
  idTokenAlg?: string;
  postLogoutRedirectUri?: string[];
  backchannelLogoutUri?: string;
  consent?: boolean;
}

function clientOptions(cmd: Command): Command {
  return brandOptions(cmd)
    .option(
      '--dialect <name>',
      'wire dialect: standard, cisco-spaces, bright-pattern, setu or a custom one',
    )
    .option('--grant <grant>', "allowed grant (repeatable); default: the dialect's", collect)
    .option('--redirect-uri <uri>', 'registered redirect URI, exact match (repeatable)', collect)
    .option('--tenant <id>', 'tenant the client is bound to (repeatable)', collect)
    .option('--scope <scope>', 'scope the client may request (repeatable)', collect)
    .option('--audience <aud>', 'aud of its access tokens (default: the server audience)')
    .option('--access-token-ttl <seconds>', 'access-token lifetime', seconds)
    .option('--refresh-token-ttl <seconds>', 'absolute refresh-token lifetime', seconds)
    .addOption(
      new Option(
        '--refresh-grace [seconds]',
        `for this long after a rotation (at most ${MAX_REFRESH_GRACE}; bare: ${DEFAULT_REFRESH_GRACE}) the old refresh token stays valid until its successor is first used`,
      )
        .argParser(seconds)
        .preset(String(DEFAULT_REFRESH_GRACE)),
    )
    .option('--require-pkce', 'authorization codes need PKCE (S256)')
    .option(
      '--id-token-alg <alg>',
      `alg of its ID Tokens: ${SIGNING_ALGS.join(', ')} (default RS256)`,
    )
    .option(
      '--post-logout-redirect-uri <uri>',
      'RP-Initiated Logout target, exact match (repeatable)',
      collect,
    )
    .option('--backchannel-logout-uri <uri>', 'Back-Channel Logout endpoint ("" on update: none)')
    .option('--consent', 'show users a consent page listing the scopes (remembered per user)')
    .option('--no-consent', 'first-party: no consent page (the default)');
}

function toInput(f: ClientFlags): ClientInput {
  return {
    name: f.name,
    dialect: f.dialect,
    grants: f.grant,
    redirectUris: f.redirectUri,
    tenants: f.tenant,
    scopes: f.scope?.flatMap((s) => s.split(' ')),
    audience: f.audience,
    accessTokenTtl: f.accessTokenTtl,
    refreshTokenTtl: f.refreshTokenTtl,
    refreshGrace: f.refreshGrace === false ? 0 : f.refreshGrace,
    requirePkce: f.requirePkce,
    idTokenAlg: f.idTokenAlg,
    postLogoutRedirectUris: f.postLogoutRedirectUri,
    backchannelLogoutUri: f.backchannelLogoutUri,
    consent: f.consent,
    branding: brandInput(f),
  };
}

const LIST_COLUMNS = ['client_id', 'name', 'dialect', 'grants', 'tenants', 'public'] as const;

export function clientCommand(): Command {
  const client = new Command('client').description('OAuth clients');
  clientOptions(
    client
      .command('create')
      .description('register a client; prints a generated secret once')
      .requiredOption('--name <name>', 'display name')
      .option('--client-id <id>', 'use this client_id (e.g. dnaspaces); default: generated')
      .option(
        '--secret-stdin',
        'import the secret from stdin (16+ characters); default: a generated 256-bit secret',
      )
      .option('--public', 'a public client: no secret, PKCE required'),
  ).action(
    managed(
      async (
        ctx,
        opts,
        flags: ClientFlags & { clientId?: string; secretStdin?: boolean; public?: boolean },
      ) => {
        const secret = flags.secretStdin ? await readStdinLine('client secret') : undefined;
        printItem(
          opts,
          await createClient(ctx, {
            ...toInput(flags),
            clientId: flags.clientId,
            secret,
            public: flags.public,
          }),
        );
      },
    ),
  );
  clientOptions(
    client
      .command('update')
      .description('change a client')
      .argument('<id>')
      .option('--name <name>', 'display name'),
  )
    .option('--no-refresh-grace', 'turn refresh grace off (same as --refresh-grace 0)')
    .option('--no-require-pkce', 'stop requiring PKCE (confidential clients only)')
    .action(
      managed(async (ctx, opts, id: string, flags: ClientFlags) => {
        printItem(opts, await updateClient(ctx, id, toInput(flags)));
      }),
    );
  client
    .command('list')
    .description('list clients')
    .action(
      managed(async (ctx, opts) => {
        printList(opts, await listClients(ctx), LIST_COLUMNS);
      }),
    );
  client
    .command('show')
    .description('show one client')
    .argument('<id>')
    .action(
      managed(async (ctx, opts, id: string) => {
        printItem(opts, await getClient(ctx, id));
      }),
    );
  client
    .command('rotate-secret')
    .description('issue a new secret; prints a generated one once')
    .argument('<id>')
    .option('--grace <seconds>', 'the old secret stays valid this long', seconds, 0)
    .option('--secret-stdin', 'import the new secret from stdin')
    .action(
      managed(async (ctx, opts, id: string, flags: { grace: number; secretStdin?: boolean }) => {
        const secret = flags.secretStdin ? await readStdinLine('client secret') : undefined;
        printItem(opts, await rotateSecret(ctx, id, { graceSeconds: flags.grace, secret }));
      }),
    );
  client
    .command('delete')
    .description('delete a client (its tokens stop working)')
    .argument('<id>')
    .action(
      managed(async (ctx, opts, id: string) => {
        printItem(opts, await deleteClient(ctx, id));
      }),
    );
  return client;
}
