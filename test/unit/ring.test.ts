import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/core/ring.js';
import { ServerSeries } from '../../src/core/series.js';
import type { HostSample } from '../../src/core/types.js';

describe('RingBuffer', () => {
  it('keeps the newest values in order and never grows past its capacity', () => {
    const r = new RingBuffer(3);
    for (let i = 1; i <= 10; i++) r.push(i);
    expect(r.length).toBe(3);
    expect(r.values()).toEqual([8, 9, 10]);
    expect(r.values(2)).toEqual([9, 10]);
    expect(r.last()).toBe(10);
  });

  it('keeps unknown readings as gaps, not zeros', () => {
    const r = new RingBuffer(4);
    r.push(5);
    r.push(undefined);
    expect(r.last()).toBeUndefined();
    expect(Number.isNaN(r.values()[1])).toBe(true);
    expect(r.values()[0]).toBe(5);
  });

  it('refuses a nonsensical capacity', () => {
    expect(() => new RingBuffer(0)).toThrow(/positive integer/);
  });
});

function sample(t: number, gpus: HostSample['gpus'] = []): HostSample {
  return {
    timestampMs: t,
    cpuPct: 50,
    cpuPerCorePct: [50],
    load1: 1,
    load5: 1,
    load15: 1,
    memoryTotalBytes: 200,
    memoryUsedBytes: 50,
    swapTotalBytes: 0,
    swapUsedBytes: 0,
    disks: [],
    nets: [],
    netRxBytesPerSec: 10,
    netTxBytesPerSec: 20,
    gpus,
  };
}

describe('server series', () => {
  it('records host and per-GPU series, matching GPUs by uuid, padded when a GPU appears late', () => {
    const s = new ServerSeries(8);
    s.record(sample(1));
    s.record(
      sample(2, [
        {
          index: 0,
          uuid: 'GPU-a',
          name: 'H100',
          utilizationPct: 90,
          memoryUsedMib: 40,
          memoryTotalMib: 80,
          processes: [],
        },
      ]),
    );
    expect(s.memory.values()).toEqual([25, 25]);
    expect(s.gpus).toHaveLength(1);
    const g = s.gpus[0]!;
    expect(g.utilization.length).toBe(2);
    expect(g.utilization.last()).toBe(90);
    expect(g.memory.last()).toBe(50);
    expect(g.temperature.last()).toBeUndefined();
    expect(Number.isNaN(g.utilization.values()[0])).toBe(true);
    for (let i = 0; i < 50; i++) s.record(sample(3 + i));
    expect(s.cpu.length).toBe(8);
  });

  it('keeps the newest points of every column in order once it wraps, and no more than its capacity', () => {
    const s = new ServerSeries(5);
    for (let t = 1; t <= 12; t++)
      s.record({
        ...sample(t * 1000),
        cpuPct: t,
        netRxBytesPerSec: t * 1e9,
        gpus: [{ ...gpu('GPU-a'), utilizationPct: t * 7, temperatureC: 30 + t, powerW: 100 * t + 0.25 }],
      });
    expect(s.timestamps.values()).toEqual([8000, 9000, 10000, 11000, 12000]);
    expect(s.cpu.values()).toEqual([8, 9, 10, 11, 12]);
    expect(s.cpu.values(2)).toEqual([11, 12]);
    expect(s.netRx.values()).toEqual([8e9, 9e9, 10e9, 11e9, 12e9].map(Math.fround));
    const g = s.gpus[0]!;
    expect(g.utilization.values()).toEqual([56, 63, 70, 77, 84]);
    expect(g.temperature.values()).toEqual([38, 39, 40, 41, 42]);
    // Watts are kept to a tenth.
    expect(g.power.values()).toEqual([800.3, 900.3, 1000.3, 1100.3, 1200.3]);
    expect(g.power.length).toBe(5);
  });

  it('keeps percentages to a hundredth, an unknown as unknown, and a reading past its range at the end', () => {
    const s = new ServerSeries(4);
    s.record({ ...sample(1), cpuPct: 33.333333, gpus: [{ ...gpu('GPU-a'), utilizationPct: -5, powerW: 1e6 }] });
    s.record({ ...sample(2), cpuPct: Number.NaN, memoryTotalBytes: 0, netTxBytesPerSec: Number.NaN });
    expect(s.cpu.values()[0]).toBe(33.33);
    expect(s.cpu.last()).toBeUndefined();
    expect(s.memory.last()).toBeUndefined();
    expect(s.netTx.last()).toBeUndefined();
    const g = s.gpus[0]!;
    expect(g.utilization.values()[0]).toBe(0);
    expect(g.power.values()[0]).toBe(6553.4);
  });

  it('marks a GPU unknown at a point whose sample leaves it out, so its columns stay aligned with the host', () => {
    const s = new ServerSeries(4);
    s.record(
      sample(1, [
        { ...gpu('GPU-a'), utilizationPct: 10 },
        { ...gpu('GPU-b'), utilizationPct: 20 },
      ]),
    );
    s.record(sample(2, [{ ...gpu('GPU-b'), utilizationPct: 21 }]));
    s.record(
      sample(3, [
        { ...gpu('GPU-a'), utilizationPct: 12 },
        { ...gpu('GPU-b'), utilizationPct: 22 },
      ]),
    );
    const [a, b] = s.gpus;
    expect(a!.utilization.values().map((v) => (Number.isNaN(v) ? 'unknown' : v))).toEqual([10, 'unknown', 12]);
    expect(b!.utilization.values()).toEqual([20, 21, 22]);
  });

  it('refuses a nonsensical capacity', () => {
    expect(() => new ServerSeries(0)).toThrow(/positive integer/);
  });
});

function gpu(uuid: string): HostSample['gpus'][number] {
  return { index: 0, uuid, name: 'H100', memoryUsedMib: 40, memoryTotalMib: 80, processes: [] };
}
