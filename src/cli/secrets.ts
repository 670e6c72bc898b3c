import { readFile } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { errorMessage } from '../core/errors.js';
import { FlagError } from './fail.js';

/**
 * Tokens never come from argv, which every local user reads in /proc/PID/cmdline: a file
 * (`--token-file`) or the environment. `--token` stays as a flag only to say so.
 */
export function withTokenFile<T>(y: Argv<T>, what: string, env: string) {
  return y
    .option('token-file', { type: 'string', describe: `file holding ${what} (default: $${env})` })
    .option('token', {
      type: 'string',
      hidden: true,
      describe: 'refused: tokens on the command line show in the process list',
    });
}

/** The token from --token-file, else $env, else the fallback file if it is readable; undefined when none. */
export async function readToken(
  argv: { token?: string; tokenFile?: string },
  env: string,
  fallbackFile?: string,
): Promise<string | undefined> {
  refuseTokenFlag(argv, env);
  if (argv.tokenFile !== undefined) {
    const text = await readFile(argv.tokenFile, 'utf8').catch((err: unknown) => {
      throw new FlagError('--token-file', `--token-file ${argv.tokenFile} cannot be read: ${errorMessage(err)}`);
    });
    const token = text.trim();
    if (!token) throw new FlagError('--token-file', `--token-file ${argv.tokenFile} is empty`);
    return token;
  }
  const fromEnv = process.env[env]?.trim();
  if (fromEnv) return fromEnv;
  if (!fallbackFile) return undefined;
  return readFile(fallbackFile, 'utf8').then(
    (t) => t.trim() || undefined,
    () => undefined,
  );
}

/** `--token SECRET` is refused (exit 2) before anything else happens. */
function refuseTokenFlag(argv: { token?: string }, env: string): void {
  if (argv.token === undefined) return;
  throw new FlagError(
    '--token',
    `--token is refused: a token on the command line shows in the process list (/proc/PID/cmdline); put it in a file for --token-file FILE, or in $${env}`,
  );
}
