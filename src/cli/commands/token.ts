import type { Argv } from 'yargs';
import { mkdir, readFile } from 'node:fs/promises';
import { CertificateAuthority } from '../../controller/pki/certificate-authority.js';
import { writeJoinToken } from '../../controller/pki/controller-tls.js';
import { loadOrCreateToken } from '../../controller/token.js';
import { controllerFiles } from '../../core/paths.js';
import { withDataDir } from '../options.js';
import { tokenRotateCommand } from './access.js';

export const tokenCommand = {
  command: 'token',
  describe:
    "print the join token: an agent given it checks the controller's CA against the pin it carries, then joins once and gets its certificate",
  builder: (y: Argv) => withDataDir(y).command(tokenRotateCommand),
  async handler(argv: { dataDir: string }) {
    process.stdout.write((await joinTokenOf(argv.dataDir)) + '\n');
  },
};

/**
 * `yard1.<secret>.sha256:<CA pin>` for the data dir: the file a running controller keeps, else
 * made from the secret and the CA (each made here when there is none yet, as the controller would).
 */
async function joinTokenOf(dataDir: string): Promise<string> {
  const files = controllerFiles(dataDir);
  const kept = await readFile(files.joinToken, 'utf8').catch(() => '');
  if (kept.trim()) return kept.trim();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secret = await loadOrCreateToken(files.token);
  return writeJoinToken(files.joinToken, secret, await CertificateAuthority.loadOrCreate(files));
}
