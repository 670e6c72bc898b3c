import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  FAKE_NVIDIA_SMI,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';
import { PrometheusServer, prometheusAvailable } from '../helpers/prometheus.js';

const COUNTER = resolve(import.meta.dirname, '../../examples/checkpoint-counter.mjs');

// A real controller with --metrics-listen, two real agents (one with GPUs from the recorded
// nvidia-smi), a real migration between them, and a real Prometheus server scraping the
// controller every second.
describe('the controller serves Prometheus metrics', () => {
  const dataDir = tempDir('yard-ctl-');
  let metricsAt: string;
  let controller: YardProcess;
  let agent: YardProcess;
  let other: YardProcess;

  const scrape = async () => {
    const res = await fetch(`http://${metricsAt}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    metricsAt = `127.0.0.1:${await freePort()}`;
    controller = startControllerProc(dataDir, port, [
      '--metrics-listen',
      metricsAt,
      '--verify',
      '500ms',
      '--cpu-limit',
      '100',
    ]);
    await controller.waitForOutput(/serving Prometheus metrics/);
    agent = startAgentProc(`127.0.0.1:${port}`, tempDir('yard-agent-'), [
      '--name',
      'prom-node',
      '--nvidia-smi',
      FAKE_NVIDIA_SMI,
      ...joinArgs(dataDir),
    ]);
    other = startAgentProc(`127.0.0.1:${port}`, tempDir('yard-agent-'), [
      '--name',
      'prom-node-b',
      '--nvidia-smi',
      '/nonexistent/nvidia-smi',
      ...joinArgs(dataDir),
    ]);
  });

  afterAll(async () => {
    await Promise.all([agent, other, controller].map((p) => p?.kill('SIGKILL')));
  });

  it("shows the agent's server and GPUs on /metrics", async () => {
    const text = await waitFor(
      'the agent and its GPUs on /metrics',
      async () => {
        const t = await scrape();
        return /^yard_gpu_utilization_percent\{server="prom-node",gpu="7"\} \d/m.test(t) ? t : undefined;
      },
      20_000,
      250,
    );
    expect(text).toMatch(/^yard_server_cpu_percent\{server="prom-node"\} [\d.e+-]+$/m);
    expect(text).toMatch(/^yard_server_memory_total_bytes\{server="prom-node"\} [1-9]\d*$/m);
    expect(text).toMatch(/^yard_gpu_memory_total_bytes\{server="prom-node",gpu="0"\} [1-9]\d*$/m);
    expect(text).toMatch(/^yard_servers\{state="(online|degraded)"\} [12]$/m);
    expect(text).toMatch(/^yard_heartbeats_received_total [1-9]\d*$/m);
    expect(text).toMatch(/^yard_process_cpu_seconds_total /m);
  });

  it('counts a migration once it commits, with its duration', async () => {
    await waitFor(
      'both agents on /metrics',
      async () => (await scrape()).includes('yard_server_cpu_percent{server="prom-node-b"}') || undefined,
    );
    const run = await runYard([
      'run',
      '--on',
      'prom-node',
      '--name',
      'counter',
      '--data-dir',
      dataDir,
      '--',
      process.execPath,
      COUNTER,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const moved = await runYard(['migrate', 'counter', '--to', 'prom-node-b', '--data-dir', dataDir], {}, 60_000);
    expect(moved.code, moved.stderr).toBe(0);
    const text = await scrape();
    expect(text).toMatch(/^yard_migrations_finished_total\{outcome="committed"\} 1$/m);
    expect(text).toMatch(/^yard_migrations_finished_total\{outcome="rolled_back"\} 0$/m);
    expect(text).toMatch(/^yard_migration_duration_seconds_count\{outcome="committed"\} 1$/m);
    expect(text).toMatch(/^yard_migration_duration_seconds_bucket\{le="\+Inf",outcome="committed"\} 1$/m);
    expect(text).not.toContain('"counter"');
  }, 90_000);

  it.each([
    ['yard controller', ['controller']],
    ['yard (the dashboard)', []],
  ])('%s --help says the metrics listener is off unless given', async (_, cmd) => {
    const r = await runYard([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(
      /--metrics-listen HOST:PORT to serve Prometheus metrics on, plain HTTP at GET \/metrics \(off: no listener unless given\) \[string\] \[default: off\]/,
    );
  });

  it('a port already in use fails the start with LISTEN_FAILED, naming --metrics-listen', async () => {
    const r = await runYard([
      'controller',
      '--data-dir',
      tempDir('yard-ctl2-'),
      '--listen',
      '127.0.0.1:0',
      '--metrics-listen',
      metricsAt,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^yard: cannot serve metrics on ${metricsAt.replace(/\./g, '\\.')}: .*EADDRINUSE.*--metrics-listen`,
        'm',
      ),
    );
  });

  it.skipIf(!prometheusAvailable)(
    "is scraped by a real Prometheus server, which answers queries with the agent's series",
    async () => {
      const p = await PrometheusServer.start([metricsAt]);
      try {
        const cpu = await waitFor(
          () => `Prometheus to have yard_server_cpu_percent (its output:\n${p.output.slice(-2000)})`,
          async () => {
            const r = await p.query('yard_server_cpu_percent{server="prom-node"}');
            return r.length ? r : undefined;
          },
          30_000,
          500,
        );
        expect(cpu[0]!.metric).toMatchObject({ job: 'yard', instance: metricsAt, server: 'prom-node' });
        const gpus = await p.query('count(yard_gpu_utilization_percent{server="prom-node"})');
        expect(Number(gpus[0]!.value[1])).toBe(8);
        const committed = await p.query('yard_migrations_finished_total{outcome="committed"}');
        expect(committed.map((s) => s.value[1])).toEqual(['1']);
        const up = await p.query('up{job="yard"}');
        expect(up.map((s) => s.value[1])).toEqual(['1']);
      } finally {
        await p.stop();
      }
    },
    // Prometheus' start, then up to 30 s for its first scrapes.
    60_000,
  );

  it('stops serving when the controller stops (SIGTERM)', async () => {
    await agent.stop();
    await controller.stop();
    expect(controller.child.exitCode).toBe(0);
    await expect(fetch(`http://${metricsAt}/metrics`)).rejects.toThrow();
  });
});
