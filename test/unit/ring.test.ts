import { describe, expect, it } from 'vitest';
import { RingBuffer } from '../../src/core/ring.js';
import { newServerSeries, recordSample } from '../../src/core/series.js';
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
    const s = newServerSeries(8);
    recordSample(s, sample(1));
    recordSample(
      s,
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
    for (let i = 0; i < 50; i++) recordSample(s, sample(3 + i));
    expect(s.cpu.length).toBe(8);
  });
});
