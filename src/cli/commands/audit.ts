import type { Argv } from 'yargs';
import { printableJson } from '../../core/printable.js';
import type { AuditEntry } from '../../gen/switchyard/v1/control.js';
import { withTarget } from '../options.js';
import { exitUsage } from './workloads.js';

interface AuditArgs {
  controller?: string;
  token?: string;
  dataDir: string;
  json: boolean;
  limit: number;
}

/** The stable JSON shape of `yard audit --json`. */
function auditJson(e: AuditEntry) {
  return {
    at: new Date(e.atMs).toISOString(),
    who: e.who,
    action: e.action,
    target: e.target,
    ok: e.ok,
    error: e.ok ? null : e.error,
  };
}

function when(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export const auditCommand = {
  command: 'audit',
  describe: 'list what operators asked of a running controller: who, when, what, and how it ended (newest first)',
  builder: (y: Argv) =>
    withTarget(y).option('json', { type: 'boolean', default: false, describe: 'print a JSON array' }).option('limit', {
      type: 'number',
      default: 50,
      describe: 'at most this many entries (0: every one kept, up to 1000)',
    }),
  async handler(argv: AuditArgs) {
    if (!Number.isInteger(argv.limit) || argv.limit < 0)
      exitUsage('audit', `--limit ${argv.limit} must be a whole number, 0 or more`);
    const [{ controlClient, findController }, { table }] = await Promise.all([
      import('../client.js'),
      import('../format-workloads.js'),
    ]);
    const c = controlClient(await findController(argv));
    try {
      const { entries } = await c.call(c.client.listAudit, { limit: argv.limit });
      if (argv.json) process.stdout.write(printableJson(entries.map(auditJson), 2) + '\n');
      else if (!entries.length) process.stdout.write('no actions recorded yet\n');
      else {
        const rows = entries.map((e) => [when(e.atMs), e.who, e.action, e.target, e.ok ? 'ok' : `failed: ${e.error}`]);
        process.stdout.write(table([['WHEN', 'WHO', 'ACTION', 'TARGET', 'OUTCOME'], ...rows]));
      }
    } finally {
      c.close();
    }
  },
};
