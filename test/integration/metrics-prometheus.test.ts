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

// A real controller with --metrics-listen, a real agent (GPUs from the recorded nvidia-smi), and
// a real Prometheus server scraping the controller every second.
describe('the controller serves Prometheus metrics', () => {
  const dataDir = tempDir('yard-ctl-');
  let metricsAt: string;
  let controller: YardProcess;
  let agent: YardProcess;

  const scrape = async () => {
    const res = await fetch(`http://${metricsAt}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    metricsAt = `127.0.0.1:${await freePort()}`;
    controller = startControllerProc(dataDir, port, ['--metrics-listen', metricsAt]);
    await controller.waitForOutput(/serving Prometheus metrics/);
    agent = startAgentProc(`127.0.0.1:${port}`, tempDir('yard-agent-'), [
      '--name',
      'prom-node',
      '--nvidia-smi',
      FAKE_NVIDIA_SMI,
      ...joinArgs(dataDir),
    ]);
  });

  afterAll(async () => {
    await Promise.all([agent, controller].map((p) => p?.kill('SIGKILL')));
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
    expect(text).toMatch(/^yard_servers\{state="online"\} 1$/m);
    expect(text).toMatch(/^yard_heartbeats_received_total [1-9]\d*$/m);
    expect(text).toMatch(/^yard_process_cpu_seconds_total /m);
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
