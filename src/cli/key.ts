import { Command, Option } from 'commander';
import { listKeys, rotateKey } from '../admin/keys.js';
import { SIGNING_ALGS, type SigningAlg } from '../tokens/keystore.js';
import { managed } from './context.js';
import { printItem, printList } from './io.js';

export function keyCommand(): Command {
  const key = new Command('key').description('token signing keys');
  key
    .command('list')
    .description('list signing keys and their state (next, active, retired, expired)')
    .action(
      managed(async (ctx, opts) => {
        printList(opts, await listKeys(ctx), [
          'kid',
          'alg',
          'status',
          'purpose',
          'activates_at',
          'publish_until',
        ]);
      }),
    );
  key
    .command('rotate')
    .description('publish a new key; it signs after keyPublishAhead seconds, or at once with --now')
    .addOption(new Option('--alg <alg>', 'algorithm (default: signingAlg)').choices(SIGNING_ALGS))
    .option(
      '--now',
      'sign with the new key at once (resource servers that cached the JWKS may refuse its tokens for a while)',
    )
    .action(
      managed(async (ctx, opts, flags: { alg?: SigningAlg; now?: boolean }) => {
        printItem(opts, await rotateKey(ctx, { alg: flags.alg, now: flags.now === true }));
      }),
    );
  return key;
}
