import { readFile, stat, writeFile } from 'node:fs/promises';
import { YardError } from '../../core/errors.js';

/** The CA's key and certificate as PEM, as kept in the data dir. */
export interface CaPem {
  keyPem: string;
  certPem: string;
}

/**
 * The CA's files, or undefined when neither exists yet (first start). One without the other
 * is a data dir someone half-restored: making a new CA there would silently cut off every
 * joined agent, so it is refused with what to do.
 */
export async function readCaFiles(keyFile: string, certFile: string): Promise<CaPem | undefined> {
  const [keyPem, certPem] = await Promise.all([readIfThere(keyFile), readIfThere(certFile)]);
  if (keyPem === undefined && certPem === undefined) return undefined;
  if (keyPem === undefined || certPem === undefined) {
    const [missing, present] = keyPem === undefined ? [keyFile, certFile] : [certFile, keyFile];
    throw new YardError(
      'FAILED_PRECONDITION',
      `${missing} is missing but ${present} is there: restore ${missing} from a backup, or remove ${present} too to make a new CA (every agent must then join again)`,
    );
  }
  await refuseShared(keyFile);
  return { keyPem, certPem };
}

/** Writes a new CA's files; `wx` so two controllers starting at once cannot overwrite each other's. */
export async function writeCaFiles(keyFile: string, certFile: string, ca: CaPem): Promise<void> {
  await writeFile(keyFile, ca.keyPem, { mode: 0o600, flag: 'wx' });
  await writeFile(certFile, ca.certPem, { mode: 0o644, flag: 'wx' });
}

/** Whoever reads the CA key can mint agents and admins: it must be owner-only. */
async function refuseShared(keyFile: string): Promise<void> {
  const mode = (await stat(keyFile)).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  throw new YardError(
    'PERMISSION_DENIED',
    `the CA key ${keyFile} is open to group or others (mode ${mode.toString(8).padStart(4, '0')}): whoever reads it can issue certificates for any agent or operator; run \`chmod 600 ${keyFile}\` and start the controller again`,
  );
}

async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
