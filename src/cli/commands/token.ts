import type { Argv } from 'yargs';
import { mkdir } from 'node:fs/promises';
import { loadOrCreateToken } from '../../controller/token.js';
import { controllerFiles } from '../../core/paths.js';
import { withDataDir } from '../options.js';

export const tokenCommand = {
  command: 'token',
  describe: 'print the join token agents need when the controller listens beyond loopback',
  builder: (y: Argv) => withDataDir(y),
  async handler(argv: { dataDir: string }) {
    await mkdir(argv.dataDir, { recursive: true });
    process.stdout.write((await loadOrCreateToken(controllerFiles(argv.dataDir).token)) + '\n');
  },
};
