import { expect, it } from 'vitest';
import { SharedStrings } from '../../src/controller/shared-strings.js';
import type { HostSample } from '../../src/core/types.js';

/** A copy of `s` that is a distinct string in memory (as each decoded message's is). */
const fresh = (s: string) => [...s].join('');

function sample(uuid: string): HostSample {
  return {
    timestampMs: 1,
    cpuPct: 1,
    cpuPerCorePct: [],
    load1: 0,
    load5: 0,
    load15: 0,
    memoryTotalBytes: 1,
    memoryUsedBytes: 1,
    swapTotalBytes: 0,
    swapUsedBytes: 0,
    disks: [{ mount: fresh('/data0'), fs: fresh('/dev/nvme1n1'), type: fresh('xfs'), sizeBytes: 1, usedBytes: 1 }],
    nets: [{ iface: fresh('eno1'), rxBytesPerSec: 0, txBytesPerSec: 0 }],
    netRxBytesPerSec: 0,
    netTxBytesPerSec: 0,
    gpus: [
      {
        index: 0,
        uuid: fresh(uuid),
        name: fresh('NVIDIA H100'),
        processes: [{ pid: 1, name: fresh('python3'), user: fresh('alice'), workload: fresh('trainer') }],
      },
    ],
  };
}

it('keeps every string’s value while sharing the ones servers repeat', () => {
  const shared = new SharedStrings();
  const a = shared.sample(sample('GPU-a'));
  const b = shared.sample(sample('GPU-b'));
  expect(b).toEqual({ ...sample('GPU-b') });
  expect(b.gpus[0]!.name).toBe(a.gpus[0]!.name);
  expect(b.gpus[0]!.uuid).toBe('GPU-b');
});

it('shares a hello’s labels, location, versions, host and GPU model strings without changing their values', () => {
  const shared = new SharedStrings();
  const hello = {
    protocolVersion: 1,
    serverId: 'srv-1',
    hostname: 'gpu-node-1',
    name: '',
    addresses: [],
    advertiseAddress: '',
    transferAddress: '',
    mac: '',
    labels: { zone: fresh('us-east-1a'), role: fresh('gpu') },
    location: fresh('dc1/row0'),
    capabilities: {
      gpus: [{ index: 0, name: fresh('NVIDIA H100'), uuid: 'GPU-a' }],
      migrationStrategies: ['checkpoint'],
      proxy: false,
    },
    host: { os: 'Ubuntu', kernel: '6.8', arch: 'x64', cpuModel: 'EPYC', cpuCores: 8, memoryTotalBytes: 1 },
    agentVersion: '0.1.0',
  };
  const out = shared.hello(structuredClone(hello));
  expect(out).toEqual(hello);
});

it('starts its table over past its limit, and still answers with equal strings', () => {
  const shared = new SharedStrings(2);
  for (const s of ['a', 'b', 'c', 'd']) expect(shared.of(fresh(s))).toBe(s);
  expect(shared.of('a')).toBe('a');
});
