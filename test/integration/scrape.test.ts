import { writeFileSync } from 'node:fs';
import { hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeExporter, nodeExporterAvailable, RecordedExporter } from '../helpers/exporters.js';
import {
  assertBuilt,
  freePort,
  runYard,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

interface ServerJson {
  id: string;
  name: string;
  hostname: string;
  state: string;
  source: string;
  scrapeUrl: string | null;
  cpuPct: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  fresh: boolean;
  gpus: { name: string; utilization: number | null; memoryUsedMiB: number | null }[];
}

// A real controller polling Debian's real node_exporter (started here on a loopback port), with
// GPU pages recorded from a real nvidia_gpu_exporter and a real DCGM exporter served beside it.
describe.skipIf(!nodeExporterAvailable)('agentless hosts through their exporters', () => {
  const dataDir = tempDir('yard-ctl-');
  let port: number;
  let controller: YardProcess;
  let node: NodeExporter;
  let smiRecording: RecordedExporter;
  let dcgmRecording: RecordedExporter;
  let scrapeFile: string;

  const yard = ([command, ...rest]: string[]) => runYard([command!, '--data-dir', dataDir, ...rest]);
  const servers = async () => JSON.parse((await yard(['servers', '--json'])).stdout) as ServerJson[];
  const server = async (name: string) => (await servers()).find((s) => s.name === name);
  const start = () => startControllerProc(dataDir, port, ['--scrape-file', scrapeFile]);

  beforeAll(async () => {
    assertBuilt();
    [node, smiRecording, dcgmRecording] = await Promise.all([
      NodeExporter.start(),
      RecordedExporter.serve('nvidia-gpu-exporter-h100-load.metrics'),
      RecordedExporter.serve('dcgm-a100-mig.metrics'),
    ]);
    scrapeFile = join(tempDir('yard-scrape-'), 'scrape.yaml');
    // The file's host has node_exporter's page too (the same real one) and the DCGM recording.
    writeFileSync(
      scrapeFile,
      [
        'scrape:',
        '  - name: dgx-a100',
        `    url: ${node.url}`,
        `    gpu: ${dcgmRecording.url}`,
        '    interval: 1s',
        '',
      ].join('\n'),
    );
    port = await freePort();
    controller = start();
    await controller.waitForOutput(/controller listening/);
  });

  afterAll(async () => {
    await controller?.kill('SIGKILL');
    await Promise.all([node?.stop(), smiRecording?.close(), dcgmRecording?.close()]);
  });

  it('shows a host added with `yard scrape add` like any other, marked scraped, with its real CPU and memory', async () => {
    const add = await yard(['scrape', 'add', 'edge-1', node.url, '--gpu', smiRecording.url, '--interval', '1s']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('as server scraped:edge-1');
    const s = await waitFor('edge-1 online with a sample', async () => {
      const x = await server('edge-1');
      return x?.state === 'online' && x.fresh ? x : undefined;
    });
    expect(s).toMatchObject({ id: 'scraped:edge-1', source: 'scraped', scrapeUrl: node.url, hostname: hostname() });
    // node_exporter reads /proc/meminfo, as Node does: the same host, the same total.
    expect(s.memoryTotalBytes).toBe(totalmem());
    expect(s.memoryUsedBytes).toBeGreaterThan(0);
    expect(s.memoryUsedBytes).toBeLessThan(totalmem());
    expect(s.cpuPct).toBeGreaterThanOrEqual(0);
    expect(s.cpuPct).toBeLessThanOrEqual(100);
    // The recorded nvidia_gpu_exporter page: one H100 under gpu_burn.
    expect(s.gpus).toHaveLength(1);
    expect(s.gpus[0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', utilization: 100 });

    const table = await yard(['servers']);
    expect(table.stdout).toMatch(/^edge-1\s+online\s+scraped\s/m);
    expect((await yard(['status'])).stdout).toMatch(/— (\d+) in all; \1 scraped\n/);
    const list = await yard(['scrape', 'list']);
    expect(list.stdout).toMatch(/^edge-1\s+1s\s+\d+s ago\s+http:\/\/127\.0\.0\.1:\d+\/metrics/m);
    const audit = await yard(['audit']);
    expect(audit.stdout).toMatch(/scrape\.add\s+edge-1 \(http:\/\/127\.0\.0\.1:\d+\/metrics\)\s+ok/);
  }, 30_000);

  it('polls the hosts of --scrape-file too, with DCGM exporter GPUs (whole GPUs, not MIG instances)', async () => {
    const s = await waitFor('dgx-a100 online', async () => {
      const x = await server('dgx-a100');
      return x?.state === 'online' && x.fresh ? x : undefined;
    });
    expect(s.gpus).toHaveLength(1);
    expect(s.gpus[0]).toMatchObject({ memoryUsedMiB: 4845 });
    const list = JSON.parse((await yard(['scrape', 'list', '--json'])).stdout) as { name: string; addedBy: string }[];
    expect(list.find((t) => t.name === 'dgx-a100')?.addedBy).toBe(`scrape file ${scrapeFile}`);
  }, 30_000);

  it('refuses to run a workload on a scraped host, saying why', async () => {
    const r = await yard(['run', '--on', 'edge-1', '--name', 'nope', '--', 'sleep', '5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/edge-1 is a scraped host .*it cannot run workloads/);
  });

  it('keeps its targets across a controller restart', async () => {
    await controller.stop();
    controller = start();
    await controller.waitForOutput(/controller listening/);
    const names = JSON.parse((await yard(['scrape', 'list', '--json'])).stdout) as { name: string }[];
    expect(names.map((t) => t.name).sort()).toEqual(['dgx-a100', 'edge-1']);
    await waitFor('edge-1 back online', async () => (await server('edge-1'))?.state === 'online' || undefined);
  }, 30_000);

  it('goes disconnected, then down past the grace, when its exporter stops answering', async () => {
    await node.stop();
    await waitFor('edge-1 disconnected', async () => (await server('edge-1'))?.state === 'disconnected' || undefined);
    // The controller's grace is 2 s (startControllerProc).
    await waitFor('edge-1 down', async () => (await server('edge-1'))?.state === 'down' || undefined, 10_000);
    const list = await yard(['scrape', 'list', '--json']);
    const edge = (JSON.parse(list.stdout) as { name: string; lastError: string | null }[]).find(
      (t) => t.name === 'edge-1',
    );
    expect(edge?.lastError).toMatch(/ECONNREFUSED.*check that the exporter runs there/);
  }, 30_000);

  it('forgets the host with `yard scrape remove`', async () => {
    const r = await yard(['scrape', 'remove', 'edge-1']);
    expect(r.code, r.stderr).toBe(0);
    expect(await server('edge-1')).toBeUndefined();
    const again = await yard(['scrape', 'remove', 'edge-1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no scrape target "edge-1": `yard scrape list` lists them');
  });
});
