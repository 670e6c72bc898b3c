import type { Argv } from 'yargs';
import { mkdir } from 'node:fs/promises';
import { loadOrCreateToken } from '../../controller/token.js';
import { controllerFiles } from '../../core/paths.js';
import { withDataDir } from '../options.js';
import { tokenRotateCommand } from './access.js';

export const tokenCommand = {
  command: 'token',
  describe:
    'print the join token (agents use it once, to join), or with --operator the token for Control calls over TCP',
  builder: (y: Argv) =>
    withDataDir(y).command(tokenRotateCommand).option('operator', {
      type: 'boolean',
      default: false,
      describe:
        'print the operator token instead: the CLI and dashboards beyond this host need it ($YARD_TOKEN or --token-file)',
    }),
  async handler(argv: { dataDir: string; operator: boolean }) {
    await mkdir(argv.dataDir, { recursive: true, mode: 0o700 });
    const files = controllerFiles(argv.dataDir);
    const token = argv.operator
      ? await loadOrCreateToken(files.operatorToken, 'yard_op_')
      : await loadOrCreateToken(files.token);
    process.stdout.write(token + '\n');
  },
};
