import { Command } from 'commander';
import { DEFAULT_TIMEOUT_MS, type SimulationOptions, runSimulation } from '../simulate/run.js';
import { globals, guarded } from './context.js';

/** Reads stdin once: until `lines` newlines (so a terminal need not send EOF) or EOF. */
async function readStdin(lines: number): Promise<string> {
  if (process.stdin.isTTY)
    process.stderr.write(
      lines === 2 ? 'client secret, then user password (one per line): ' : 'client secret: ',
    );
  const chunks: Buffer[] = [];
  let newlines = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    chunks.push(b);
    for (const byte of b) if (byte === 10) newlines++;
    if (newlines >= lines) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function common(cmd: Command): Command {
  return cmd
    .option(
      '--report <format:file>',
      'also write a report: json, junit or markdown (e.g. junit:report.xml)',
    )
    .option('--timeout <ms>', `timeout of every request (default ${DEFAULT_TIMEOUT_MS})`)
    .action((flags: SimulationOptions, command: Command) =>
      guarded(async () => {
        const opts = globals(command);
        const result = await runSimulation(
          command.name(),
          { ...flags, json: opts.json === true },
          {
            env: process.env,
            readStdin,
            stdout: (s) => process.stdout.write(s),
            stderr: (s) => process.stderr.write(s),
          },
        );
        process.exitCode = result.exitCode;
      }),
    );
}

export function simulateCommand(): Command {
  const simulate = new Command('simulate').description(
    'play a partner platform against any deployment and check every answer (secrets: TESSERA_CLIENT_SECRET, TESSERA_USER_PASSWORD, else stdin)',
  );
  simulate.addCommand(
    common(
      new Command('cisco-spaces')
        .description(
          'activation (login, code, JSON token request, App Info), negative checks, optional launch',
        )
        .option('--login-url <url>', 'OAuth Login URL of the App Tile')
        .option('--token-url <url>', 'OAuth Token URL')
        .option('--app-info-url <url>', 'App Info URL')
        .option('--client-id <id>', 'client id Spaces is registered with')
        .option('--redirect-uri <url>', 'redirect URI registered for Spaces')
        .option('--email <email>', 'the test user who signs in')
        .option('--launch-url <url>', 'also post a launch token signed with a key of our own')
        .option('--key-bits <bits>', 'RSA key size of the launch key: 1024 or 2048 (default 1024)')
        .option(
          '--key-server-port <port>',
          'loopback port of the launch key server (default: any free port)',
        )
        .option('--browser', 'sign in with Chromium (playwright-core) instead of HTTP form posts'),
    ),
  );
  simulate.addCommand(
    common(
      new Command('bright-pattern')
        .description('client_credentials with expires_in as a string')
        .option('--token-url <url>', 'token URL')
        .option('--client-id <id>', 'client id')
        .option('--scope <scope>', 'scope (tenant or host)'),
    ),
  );
  simulate.addCommand(
    common(
      new Command('setu')
        .description(
          'client_credentials with camelCase tokens, refresh rotation and reuse detection',
        )
        .option('--token-url <url>', 'token URL')
        .option('--client-id <id>', 'client id'),
    ),
  );
  return simulate;
}
