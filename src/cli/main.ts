#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=50
// The young generation is capped at 8 MiB per semi-space (Node 20's default lets it grow to
// 16 MiB): under load a server otherwise holds ~45 MB more resident memory for the same
// requests, at a cost within the noise of the benchmark. The old generation may grow to 1.5x
// what the last full collection kept before the next one: V8's own factor goes up to 4x
// under load, and a busy server's peak grew ~60 MB past the 150 MB target between
// collections (bench/results/history.md). `npm start` passes the same flags; so must anyone who
// starts `node dist/cli/main.js` by hand.
import { buildProgram } from './program.js';

// `tessera client list | head -1` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

await buildProgram().parseAsync(process.argv);
