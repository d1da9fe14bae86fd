#!/usr/bin/env node
import { buildProgram } from './program.js';

// `tessera client list | head -1` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

await buildProgram().parseAsync(process.argv);
