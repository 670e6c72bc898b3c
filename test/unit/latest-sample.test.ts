import { expect, it } from 'vitest';
import { refreshLatest } from '../../src/controller/latest-sample.js';
import type { HostSample } from '../../src/core/types.js';

function sample(t: number, processes: number): HostSample {
  return {
    timestampMs: t,
    cpuPct: t,
    cpuPerCorePct: [t, t + 1],
    load1: 1,
    load5: 1,
    load15: 1,
    memoryTotalBytes: 100,
    memoryUsedBytes: t,
    swapTotalBytes: 0,
    swapUsedBytes: 0,
    disks: [{ mount: '/', fs: '/dev/sda1', type: 'ext4', sizeBytes: 10, usedBytes: t }],
    nets: [],
    netRxBytesPerSec: t,
    netTxBytesPerSec: t,
    gpus: [
      {
        index: 0,
        uuid: 'GPU-a',
        name: 'H100',
        utilizationPct: t,
        processes: Array.from({ length: processes }, (_, i) => ({ pid: i + 1, name: `p${i}`, user: '', workload: '' })),
      },
    ],
  };
}

it('keeps a copy of the first sample, not the sample itself', () => {
  const first = sample(1, 1);
  const kept = refreshLatest(undefined, first);
  expect(kept).toEqual(first);
  expect(kept).not.toBe(first);
});

it('copies each new sample into the one it keeps, arrays of another length included', () => {
  const kept = refreshLatest(undefined, sample(1, 1));
  const disk = kept.disks[0];
  const next = sample(2, 3);
  expect(refreshLatest(kept, next)).toBe(kept);
  expect(kept).toEqual(next);
  expect(kept.disks[0]).toBe(disk);
  expect(kept.gpus[0]!.processes.map((p) => p.pid)).toEqual([1, 2, 3]);
  next.cpuPerCorePct[0] = 99;
  expect(kept.cpuPerCorePct[0]).toBe(2);
});

it('drops a field the new sample no longer has', () => {
  const kept = refreshLatest(undefined, {
    ...sample(1, 0),
    gpuStatus: { state: 'failing', message: 'hung', sinceMs: 0 },
  });
  refreshLatest(kept, sample(2, 0));
  expect('gpuStatus' in kept).toBe(false);
  expect(kept).toEqual(sample(2, 0));
});
