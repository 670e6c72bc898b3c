import type { Argv } from 'yargs';
import { printable, printableJson } from '../../core/printable.js';
import { DEFAULT_SCRAPE_INTERVAL_MS } from '../../core/schema/scrape.js';
import type { ScrapeTargetStatus } from '../../gen/switchyard/v1/control.js';
import { durationArg, withDataDir, withTarget } from '../options.js';
import { withControl, type TargetArgs } from './access.js';
import { exitUsage } from './workloads.js';

const addCommand = {
  command: 'add <name> <url>',
  describe: "poll a host's node_exporter (and GPU exporter) and show it in the fleet, marked scraped",
  builder: (y: Argv) =>
    withTarget(y)
      .positional('name', { type: 'string', demandOption: true, describe: 'the host as the fleet names it' })
      .positional('url', {
        type: 'string',
        demandOption: true,
        describe: 'its node_exporter page, e.g. http://10.0.0.7:9100/metrics',
      })
      .option('gpu', {
        type: 'string',
        describe: 'its GPU exporter page (DCGM exporter or nvidia_gpu_exporter), e.g. http://10.0.0.7:9400/metrics',
      })
      .option('interval', { type: 'string', describe: 'how often to poll it', defaultDescription: '5s' }),
  async handler(argv: TargetArgs & { name: string; url: string; gpu?: string; interval?: string }) {
    const intervalMs = argv.interval === undefined ? 0 : durationArg(argv.interval, 'interval');
    await withControl(argv, async (c) => {
      const { target } = await c.call(c.client.addScrapeTarget, {
        target: { name: argv.name, url: argv.url, gpuUrl: argv.gpu ?? '', intervalMs, addedMs: 0, addedBy: '' },
      });
      process.stdout.write(
        `scraping ${printable(argv.name)} from ${printable(argv.url)}${argv.gpu ? ` and ${printable(argv.gpu)}` : ''} as server ${target?.serverId ?? ''}: \`yard servers\` shows it once it answers\n`,
      );
    });
  },
};

const listCommand = {
  command: 'list',
  describe: 'the hosts the controller polls, and how their polling fares',
  builder: (y: Argv) =>
    withTarget(y).option('json', { type: 'boolean', default: false, describe: 'print a JSON array' }),
  async handler(argv: TargetArgs & { json: boolean }) {
    await withControl(argv, async (c) => {
      const { targets } = await c.call(c.client.listScrapeTargets, {});
      process.stdout.write(argv.json ? `${printableJson(targets.map(targetJson), 2)}\n` : scrapeTable(targets));
    });
  },
};

const removeCommand = {
  command: 'remove <name>',
  describe: 'stop polling a host and forget it',
  builder: (y: Argv) =>
    withTarget(y).positional('name', { type: 'string', demandOption: true, describe: '`yard scrape list` lists them' }),
  async handler(argv: TargetArgs & { name: string }) {
    await withControl(argv, async (c) => {
      const { serverId } = await c.call(c.client.removeScrapeTarget, { name: argv.name });
      process.stdout.write(`no longer scraping ${printable(argv.name)}; server ${serverId} forgotten\n`);
    });
  },
};

export const scrapeCommand = {
  command: 'scrape',
  describe: 'hosts without an agent, seen through their Prometheus exporters: add, list, remove',
  builder: (y: Argv) =>
    withDataDir(y)
      .usage('$0 scrape COMMAND [options]\n\nHosts the controller polls through node_exporter (and a GPU exporter).')
      .command(addCommand)
      .command(listCommand)
      .command(removeCommand),
  handler() {
    exitUsage('scrape', 'name a scrape command: add, list or remove');
  },
};

function targetJson(s: ScrapeTargetStatus) {
  const t = s.target;
  return {
    name: t?.name ?? '',
    url: t?.url ?? '',
    gpuUrl: t?.gpuUrl || null,
    intervalMs: t?.intervalMs || DEFAULT_SCRAPE_INTERVAL_MS,
    serverId: s.serverId,
    addedBy: t?.addedBy ?? '',
    lastOk: s.lastOkMs ? new Date(s.lastOkMs).toISOString() : null,
    lastError: s.lastError || null,
  };
}

/** NAME URL GPU INTERVAL LAST OK ERROR: a URL or an error may be long, so they come last. */
function scrapeTable(targets: ScrapeTargetStatus[], now = Date.now()): string {
  if (targets.length === 0) return 'no scrape targets: add one with `yard scrape add NAME URL`\n';
  const rows = [['NAME', 'INTERVAL', 'LAST OK', 'URL', 'GPU URL', 'ERROR']];
  for (const s of targets) {
    const t = s.target;
    rows.push([
      t?.name ?? '',
      `${(t?.intervalMs || DEFAULT_SCRAPE_INTERVAL_MS) / 1000}s`,
      s.lastOkMs ? `${Math.max(0, Math.round((now - s.lastOkMs) / 1000))}s ago` : 'never',
      t?.url ?? '',
      t?.gpuUrl || '-',
      s.lastError || '-',
    ]);
  }
  const cells = rows.map((r) => r.map(printable));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return `${cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}
