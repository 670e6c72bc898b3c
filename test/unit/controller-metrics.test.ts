import type { Deployment } from '../../src/core/deployment.js';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controllerMetrics, type ControllerMetrics } from '../../src/controller/metrics.js';
import { serveMetrics } from '../../src/controller/metrics-http.js';
import { createLogger, silentLogger } from '../../src/core/log.js';
import type { GpuSample, HostSample } from '../../src/core/types.js';
import { MigrationPhase, noTimings, type Migration } from '../../src/core/workload.js';
import { endpointStats, route, routerFixture, type RouterFixture } from './router-fixture.js';

const HAS_PROMTOOL = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

function gpu(index: number, over: Partial<GpuSample> = {}): GpuSample {
  return {
    index,
    uuid: `GPU-${index}`,
    name: 'NVIDIA A100-SXM4-40GB',
    utilizationPct: 50 + index,
    memoryUsedMib: 1024 * (index + 1),
    memoryTotalMib: 40_960,
    temperatureC: 60 + index,
    powerW: 200.5 + index,
    processes: [],
    ...over,
  };
}

function sample(cpuPct: number, gpus: GpuSample[] = []): HostSample {
  return {
    timestampMs: 1,
    cpuPct,
    cpuPerCorePct: [cpuPct],
    load1: 0,
    load5: 0,
    load15: 0,
    memoryTotalBytes: 16 * 2 ** 30,
    memoryUsedBytes: 4 * 2 ** 30,
    swapTotalBytes: 0,
    swapUsedBytes: 0,
    disks: [],
    nets: [],
    netRxBytesPerSec: 0,
    netTxBytesPerSec: 0,
    gpus,
  };
}

function migration(id: string, phase: MigrationPhase, createdMs: number, finishedMs: number): Migration {
  return {
    id,
    workload: 'trainer',
    sourceServerId: 'gpu-box',
    targetServerId: 'cpu-box',
    strategy: 0,
    phase,
    requestedBy: 'ann',
    createdMs,
    updatedMs: finishedMs,
    finishedMs,
    preflight: [],
    timings: noTimings(),
    bytesDone: 0,
    bytesTotal: 0,
    checkpointSha256: '',
    error: '',
    transferPath: '',
    precopy: false,
  };
}

/** The lines of `name`'s samples, comments left out. */
const samples = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('controller metrics', () => {
  let f: RouterFixture;
  let coordinator: EventEmitter<{ migration: [Migration] }>;
  let metrics: ControllerMetrics;
  let watchers: number;
  let deployments: { deployment: Deployment; desired: number; running: number; healthy: number }[];
  beforeEach(async () => {
    deployments = [{ deployment: { name: 'web' } as Deployment, desired: 3, running: 2, healthy: 1 }];
    f = await routerFixture();
    coordinator = new EventEmitter();
    watchers = 2;
    metrics = controllerMetrics({
      registry: f.registry,
      router: f.router,
      coordinator,
      watchers: () => watchers,
      deployments: { list: () => deployments },
    });
    f.connect('edge');
    f.connect('gpu-box', { proxy: false });
    f.connect('cpu-box', { proxy: false });
    const session = (id: string) => f.registry.get(id)!.session!;
    f.registry.heartbeat('gpu-box', session('gpu-box'), [sample(37.5, [gpu(0), gpu(1)])]);
    f.registry.heartbeat('cpu-box', session('cpu-box'), [sample(12)]);
    f.registry.heartbeat('cpu-box', session('cpu-box'), [sample(12.25)]);
    await f.router.apply(
      [
        route('web', 'edge', 80, [
          { address: '127.0.0.1:9001', weight: 50, version: 'blue' },
          { address: '127.0.0.1:9002', weight: 50, version: 'green' },
        ]),
      ],
      'ann',
    );
    f.router.report('edge', [
      {
        name: 'web',
        revision: 1,
        listening: true,
        error: '',
        endpoints: [
          endpointStats('127.0.0.1:9001', { active: 3, total: 10, bytesIn: 1500, bytesOut: 64_000, connectErrors: 1 }),
        ],
        heldTotal: 0,
        heldNow: 0,
        heldMaxMs: 0,
        refused: 0,
        active: 3,
        total: 10,
      },
    ]);
    coordinator.emit('migration', migration('m1', MigrationPhase.MIGRATION_PHASE_TRANSFERRING, 1_000, 0));
    coordinator.emit('migration', migration('m1', MigrationPhase.MIGRATION_PHASE_COMMITTED, 1_000, 4_500));
    // Announced again (heard from a shared store): counted once.
    coordinator.emit('migration', migration('m1', MigrationPhase.MIGRATION_PHASE_COMMITTED, 1_000, 4_500));
    coordinator.emit('migration', migration('m2', MigrationPhase.MIGRATION_PHASE_ROLLED_BACK, 10_000, 100_000));
  });
  afterEach(() => {
    metrics.close();
    f.cleanup();
  });

  it('shows per-server, per-GPU, per-backend and migration series with bounded labels', async () => {
    const text = await metrics.registry.metrics();
    expect(samples(text, 'yard_server_cpu_percent')).toEqual([
      'yard_server_cpu_percent{server="gpu-box"} 37.5',
      'yard_server_cpu_percent{server="cpu-box"} 12.25',
    ]);
    expect(samples(text, 'yard_server_memory_used_bytes')).toContain(
      `yard_server_memory_used_bytes{server="cpu-box"} ${4 * 2 ** 30}`,
    );
    expect(samples(text, 'yard_server_memory_total_bytes')).toContain(
      `yard_server_memory_total_bytes{server="gpu-box"} ${16 * 2 ** 30}`,
    );
    expect(samples(text, 'yard_gpu_utilization_percent')).toEqual([
      'yard_gpu_utilization_percent{server="gpu-box",gpu="0"} 50',
      'yard_gpu_utilization_percent{server="gpu-box",gpu="1"} 51',
    ]);
    expect(samples(text, 'yard_gpu_memory_used_bytes')).toEqual([
      `yard_gpu_memory_used_bytes{server="gpu-box",gpu="0"} ${2 ** 30}`,
      `yard_gpu_memory_used_bytes{server="gpu-box",gpu="1"} ${2 * 2 ** 30}`,
    ]);
    expect(samples(text, 'yard_gpu_memory_total_bytes')).toHaveLength(2);
    expect(samples(text, 'yard_gpu_temperature_celsius')).toContain(
      'yard_gpu_temperature_celsius{server="gpu-box",gpu="1"} 61',
    );
    expect(samples(text, 'yard_gpu_power_watts')).toContain('yard_gpu_power_watts{server="gpu-box",gpu="0"} 200.5');
    expect(samples(text, 'yard_servers')).toContain('yard_servers{state="online"} 3');
    expect(samples(text, 'yard_servers')).toContain('yard_servers{state="down"} 0');

    expect(samples(text, 'yard_route_backend_active_connections')).toEqual([
      'yard_route_backend_active_connections{route="web",backend="127.0.0.1:9001"} 3',
    ]);
    expect(samples(text, 'yard_route_backend_connections_total')).toEqual([
      'yard_route_backend_connections_total{route="web",backend="127.0.0.1:9001"} 10',
    ]);
    expect(samples(text, 'yard_route_backend_in_bytes_total')).toEqual([
      'yard_route_backend_in_bytes_total{route="web",backend="127.0.0.1:9001"} 1500',
    ]);
    expect(samples(text, 'yard_route_backend_out_bytes_total')).toEqual([
      'yard_route_backend_out_bytes_total{route="web",backend="127.0.0.1:9001"} 64000',
    ]);
    expect(samples(text, 'yard_route_backend_connect_errors_total')).toEqual([
      'yard_route_backend_connect_errors_total{route="web",backend="127.0.0.1:9001"} 1',
    ]);

    expect(samples(text, 'yard_migrations_finished_total')).toEqual([
      'yard_migrations_finished_total{outcome="committed"} 1',
      'yard_migrations_finished_total{outcome="rolled_back"} 1',
      'yard_migrations_finished_total{outcome="failed"} 0',
    ]);
    expect(samples(text, 'yard_migration_duration_seconds_bucket')).toContain(
      'yard_migration_duration_seconds_bucket{le="5",outcome="committed"} 1',
    );
    expect(samples(text, 'yard_migration_duration_seconds_bucket')).toContain(
      'yard_migration_duration_seconds_bucket{le="60",outcome="rolled_back"} 0',
    );
    expect(samples(text, 'yard_migration_duration_seconds_sum')).toEqual([
      'yard_migration_duration_seconds_sum{outcome="committed"} 3.5',
      'yard_migration_duration_seconds_sum{outcome="rolled_back"} 90',
      'yard_migration_duration_seconds_sum{outcome="failed"} 0',
    ]);
    expect(samples(text, 'yard_heartbeats_received_total')).toEqual(['yard_heartbeats_received_total 3']);
    expect(samples(text, 'yard_watchers')).toEqual(['yard_watchers 2']);
    expect(samples(text, 'yard_deployment_replicas')).toEqual([
      'yard_deployment_replicas{deployment="web",state="desired"} 3',
      'yard_deployment_replicas{deployment="web",state="running"} 2',
      'yard_deployment_replicas{deployment="web",state="healthy"} 1',
    ]);
    expect(samples(text, 'yard_process_resident_memory_bytes')).toHaveLength(1);
    // Migration ids and workload names never become labels.
    expect(text).not.toMatch(/m1|m2|trainer/);
  });

  it('drops the samples of a server that stopped reporting, and of a route that went', async () => {
    f.registry.disconnect('gpu-box', f.registry.get('gpu-box')!.session!);
    await f.router.delete('web', 'ann');
    watchers = 0;
    deployments = [];
    const text = await metrics.registry.metrics();
    expect(samples(text, 'yard_server_cpu_percent')).toEqual(['yard_server_cpu_percent{server="cpu-box"} 12.25']);
    expect(samples(text, 'yard_gpu_utilization_percent')).toEqual([]);
    expect(samples(text, 'yard_servers')).toContain('yard_servers{state="disconnected"} 1');
    expect(samples(text, 'yard_route_backend_active_connections')).toEqual([]);
    expect(samples(text, 'yard_watchers')).toEqual(['yard_watchers 0']);
    expect(samples(text, 'yard_deployment_replicas')).toEqual([]);
  });

  it.skipIf(!HAS_PROMTOOL)('passes `promtool check metrics`', async () => {
    const text = await metrics.registry.metrics();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('the metrics listener', () => {
  const sources = () => ({
    registry: { list: () => [], heartbeatsReceived: 0 },
    router: { list: () => [] },
    coordinator: new EventEmitter<{ migration: [Migration] }>(),
    watchers: () => 0,
    deployments: { list: () => [] },
  });

  it('serves GET and HEAD /metrics, 404 elsewhere, 405 for other methods', async () => {
    const listener = await serveMetrics('127.0.0.1:0', sources(), silentLogger);
    try {
      const url = `http://${listener.address}`;
      const got = await fetch(`${url}/metrics`);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await got.text()).toContain('yard_servers{state="online"} 0');
      const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      expect((await fetch(`${url}/`)).status).toBe(404);
      expect((await fetch(`${url}/metrics/x`)).status).toBe(404);
      const post = await fetch(`${url}/metrics`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
    } finally {
      await listener.close();
    }
  });

  it('warns that the metrics are plain HTTP when served off loopback, and not on loopback', async () => {
    const lines: string[] = [];
    const log = createLogger('controller', (l) => lines.push(l));
    for (const listen of ['127.0.0.1:0', '0.0.0.0:0']) await (await serveMetrics(listen, sources(), log)).close();
    const warned = lines.filter((l) => l.includes('plain HTTP with no authentication'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('0.0.0.0:');
  });

  it('fails with LISTEN_FAILED, naming the flag, when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', res));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(serveMetrics(`127.0.0.1:${port}`, sources(), silentLogger)).rejects.toMatchObject({
        code: 'LISTEN_FAILED',
        message: expect.stringMatching(/cannot serve metrics on 127\.0\.0\.1:\d+: .*EADDRINUSE.*--metrics-listen/),
      });
    } finally {
      taken.close();
    }
  });
});
