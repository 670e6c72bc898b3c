import { YardError, errorMessage } from '../core/errors.js';
import { printable } from '../core/printable.js';

/** Exit codes: 0 ok, 1 the operation failed, 2 the command line was wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/**
 * A flag's value is wrong: the command line's fault, not the operation's, so `fail` exits 2.
 * Only the CLI raises it (an error from the controller is never one), and its message names the flag.
 */
export class FlagError extends YardError {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super('INVALID_ARGUMENT', message.includes(flag) ? message : `${flag}: ${message}`, { flag });
    this.name = 'FlagError';
  }
}

/** Runs `parse` on a flag's value; whatever it refuses becomes a FlagError naming the flag. */
export function flagValue<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw err instanceof FlagError ? err : new FlagError(flag, errorMessage(err));
  }
}

/** Prints one line a person can act on and exits non-zero: 2 for a bad flag, else 1. */
export function fail(err: unknown): never {
  // Messages may quote what an agent or a file said: print it, never let the terminal obey it.
  const msg = printable(err instanceof YardError ? err.message : errorMessage(err));
  process.stderr.write(`yard: ${msg}\n`);
  if (process.env.YARD_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  process.exit(err instanceof FlagError ? EXIT_USAGE : EXIT_FAILED);
}
