import { YardError, errorMessage } from '../core/errors.js';

/** Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Prints one line a person can act on and exits non-zero. */
export function fail(err: unknown): never {
  const msg = err instanceof YardError ? err.message : errorMessage(err);
  process.stderr.write(`yard: ${msg}\n`);
  if (process.env.YARD_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exit(EXIT_FAILED);
}
