// Realistic fake hosts for the benchmarks: a hello and a sample that varies from beat to beat.
import { PROTOCOL_VERSION, YARD_VERSION } from '../src/core/version.js';
import type { AgentHello } from '../src/gen/switchyard/v1/agent_gateway.js';
import type { DiskSample, GpuInfo, GpuSample, HostSample, NetSample } from '../src/gen/switchyard/v1/fleet.js';

/** Small deterministic PRNG (mulberry32) so two runs simulate the same fleet. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (r: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
};

const GPU_MODELS = [
  { name: 'NVIDIA H100 80GB HBM3', memMib: 81559, powerLimitW: 700, smMhz: 1980, memMhz: 2619 },
  { name: 'NVIDIA A100-SXM4-80GB', memMib: 81920, powerLimitW: 400, smMhz: 1410, memMhz: 1593 },
] as const;
const GIB = 1024 ** 3;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** One simulated host: fixed shape (cores, disks, NICs, GPUs), values that drift every beat. */
export class FakeHost {
  readonly id: string;
  readonly hostname: string;
  readonly cores: number;
  readonly gpus: GpuInfo[];
  private readonly r: () => number;
  private readonly sample: HostSample;
  private readonly memTotal: number;

  constructor(
    readonly index: number,
    seed = 1,
  ) {
    const r = rng(seed * 1_000_003 + index);
    this.r = r;
    const n = String(index + 1).padStart(4, '0');
    const hasGpus = index % 2 === 0;
    this.id = `bench-${n}-${hex(r, 8)}`;
    this.hostname = hasGpus ? `gpu-node-${n}` : `cpu-node-${n}`;
    this.cores = [32, 48, 64, 96, 128][Math.floor(r() * 5)]!;
    const model = GPU_MODELS[Math.floor(r() * GPU_MODELS.length)]!;
    this.gpus = hasGpus
      ? Array.from({ length: 8 }, (_, i) => ({
          index: i,
          name: model.name,
          uuid: `GPU-${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`,
          memoryTotalMib: model.memMib,
        }))
      : [];
    this.memTotal = [256, 512, 1024, 2048][Math.floor(r() * 4)]! * GIB;
    const diskCount = 4 + Math.floor(r() * 5);
    const disks: DiskSample[] = Array.from({ length: diskCount }, (_, i) => {
      const size = (i === 0 ? 480 : 3840) * 1e9;
      return {
        mount: i === 0 ? '/' : `/data${i - 1}`,
        fs: i === 0 ? '/dev/nvme0n1p2' : `/dev/nvme${i}n1`,
        type: i === 0 ? 'ext4' : 'xfs',
        sizeBytes: size,
        usedBytes: size * (0.1 + r() * 0.8),
      };
    });
    const nicCount = 2 + Math.floor(r() * 3);
    const nets: NetSample[] = Array.from({ length: nicCount }, (_, i) => ({
      iface: i === 0 ? 'eno1' : i === 1 ? 'eno2' : `ib${i - 2}`,
      rxBytesPerSec: 0,
      txBytesPerSec: 0,
    }));
    const gpus: GpuSample[] = this.gpus.map((g) => ({
      index: g.index,
      uuid: g.uuid,
      name: g.name,
      utilizationPct: r() * 100,
      memoryUtilizationPct: r() * 100,
      memoryUsedMib: r() * model.memMib,
      memoryTotalMib: model.memMib,
      temperatureC: 35 + r() * 40,
      powerW: 60 + r() * (model.powerLimitW - 60),
      powerLimitW: model.powerLimitW,
      smClockMhz: model.smMhz,
      memoryClockMhz: model.memMhz,
      fanPct: undefined,
      processes: [
        {
          pid: 10_000 + Math.floor(r() * 50_000),
          name: 'python3',
          usedMemoryMib: 1000 + r() * 40_000,
          user: 'alice',
          workload: 'trainer',
        },
        {
          pid: 10_000 + Math.floor(r() * 50_000),
          name: 'torchrun',
          usedMemoryMib: 500 + r() * 4_000,
          user: 'bob',
          workload: '',
        },
      ],
    }));
    this.sample = {
      timestampMs: Date.now(),
      cpuPct: r() * 100,
      cpuPerCorePct: Array.from({ length: this.cores }, () => r() * 100),
      load1: 0,
      load5: 0,
      load15: 0,
      memoryTotalBytes: this.memTotal,
      memoryUsedBytes: this.memTotal * (0.2 + r() * 0.6),
      swapTotalBytes: 8 * GIB,
      swapUsedBytes: r() * GIB,
      disks,
      diskReadBytesPerSec: 0,
      diskWriteBytesPerSec: 0,
      nets,
      netRxBytesPerSec: 0,
      netTxBytesPerSec: 0,
      cpuTemperatureC: 45,
      gpus,
    };
  }

  /** What this host says of itself when its session opens (its certificate says which server it is). */
  hello(): AgentHello {
    return {
      protocolVersion: PROTOCOL_VERSION,
      serverId: this.id,
      hostname: this.hostname,
      name: '',
      addresses: [`10.${(this.index >> 8) & 255}.${this.index & 255}.10`, `fd00::${this.index.toString(16)}`],
      advertiseAddress: `10.${(this.index >> 8) & 255}.${this.index & 255}.10`,
      transferAddress: '',
      mac: `02:42:${hex(rng(this.index), 2)}:${hex(rng(this.index + 1), 2)}:${(this.index >> 8).toString(16).padStart(2, '0')}:${(this.index & 255).toString(16).padStart(2, '0')}`,
      labels: {
        rack: `r${Math.floor(this.index / 40)}`,
        zone: this.index % 3 === 0 ? 'us-east-1a' : 'us-east-1b',
        role: this.gpus.length ? 'gpu' : 'cpu',
      },
      location: `dc1/row${Math.floor(this.index / 100)}`,
      capabilities: { gpus: this.gpus, migrationStrategies: ['checkpoint', 'restart', 'freeze'], proxy: false },
      host: {
        os: 'Ubuntu 22.04.4 LTS',
        kernel: '5.15.0-105-generic',
        arch: 'x64',
        cpuModel: 'AMD EPYC 9654 96-Core Processor',
        cpuCores: this.cores,
        memoryTotalBytes: this.memTotal,
      },
      agentVersion: YARD_VERSION,
    };
  }

  /**
   * The next sample: every value takes a small random step. The same object is returned each
   * time (mutated), so callers that keep it must copy it.
   */
  next(now = Date.now()): HostSample {
    const r = this.r;
    const s = this.sample;
    s.timestampMs = now;
    let sum = 0;
    const cores = s.cpuPerCorePct;
    for (let i = 0; i < cores.length; i++) {
      const v = clamp(cores[i]! + (r() - 0.5) * 20, 0, 100);
      cores[i] = v;
      sum += v;
    }
    s.cpuPct = sum / cores.length;
    s.load1 = (s.cpuPct / 100) * this.cores * (0.9 + r() * 0.2);
    s.load5 = s.load5 * 0.9 + s.load1 * 0.1;
    s.load15 = s.load15 * 0.97 + s.load1 * 0.03;
    s.memoryUsedBytes = clamp(s.memoryUsedBytes + (r() - 0.5) * 4 * GIB, 0.05 * this.memTotal, 0.98 * this.memTotal);
    s.diskReadBytesPerSec = r() * 500e6;
    s.diskWriteBytesPerSec = r() * 300e6;
    let rx = 0;
    let tx = 0;
    for (const n of s.nets) {
      n.rxBytesPerSec = r() * 1.25e9;
      n.txBytesPerSec = r() * 1.25e9;
      rx += n.rxBytesPerSec;
      tx += n.txBytesPerSec;
    }
    s.netRxBytesPerSec = rx;
    s.netTxBytesPerSec = tx;
    s.cpuTemperatureC = clamp((s.cpuTemperatureC ?? 45) + (r() - 0.5) * 2, 30, 95);
    for (const g of s.gpus) {
      g.utilizationPct = clamp((g.utilizationPct ?? 0) + (r() - 0.5) * 30, 0, 100);
      g.memoryUtilizationPct = clamp((g.memoryUtilizationPct ?? 0) + (r() - 0.5) * 20, 0, 100);
      g.memoryUsedMib = clamp((g.memoryUsedMib ?? 0) + (r() - 0.5) * 4000, 0, g.memoryTotalMib ?? 81920);
      g.temperatureC = clamp((g.temperatureC ?? 40) + (r() - 0.5) * 4, 30, 90);
      g.powerW = clamp(
        60 + (g.utilizationPct / 100) * ((g.powerLimitW ?? 400) - 60) + (r() - 0.5) * 30,
        50,
        g.powerLimitW ?? 400,
      );
      for (const p of g.processes) p.usedMemoryMib = clamp((p.usedMemoryMib ?? 0) + (r() - 0.5) * 200, 100, 60_000);
    }
    return s;
  }

  /** A copy of the next sample that is safe to keep (the registry stores it as `latest`). */
  nextCopy(now = Date.now()): HostSample {
    const s = this.next(now);
    return {
      ...s,
      cpuPerCorePct: s.cpuPerCorePct.slice(),
      disks: s.disks.map((d) => ({ ...d })),
      nets: s.nets.map((n) => ({ ...n })),
      gpus: s.gpus.map((g) => ({ ...g, processes: g.processes.map((p) => ({ ...p })) })),
    };
  }
}

/** Hosts 0…n-1 (seed 1): the same fleet, the same server ids, every time. */
export function fakeHosts(n: number): FakeHost[] {
  return Array.from({ length: n }, (_, i) => new FakeHost(i));
}
