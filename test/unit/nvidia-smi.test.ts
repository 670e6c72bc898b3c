// Parsing of nvidia-smi output recorded on real GPUs (test/fixtures/nvidia-smi/README.md says
// where each file comes from). Unknown readings must come out as undefined, never as 0.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createGpuMonitor } from '../../src/agent/metrics/gpu-monitor.js';
import { GPU_QUERY_FIELDS, parseComputeAppsCsv, parseGpuCsv } from '../../src/agent/metrics/nvidia-smi.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../fixtures/nvidia-smi/${name}`, import.meta.url)), 'utf8');
const FAKE_NVIDIA_SMI = fileURLToPath(new URL('../fixtures/bin/nvidia-smi', import.meta.url));

const UNKNOWN_READINGS = {
  utilizationPct: undefined,
  memoryUtilizationPct: undefined,
  memoryUsedMib: undefined,
  memoryTotalMib: undefined,
  temperatureC: undefined,
  powerW: undefined,
  powerLimitW: undefined,
  smClockMhz: undefined,
  memoryClockMhz: undefined,
  fanPct: undefined,
};

describe('GPU_QUERY_FIELDS', () => {
  it('asks for the 13 columns the fixtures are recorded in', () => {
    expect(GPU_QUERY_FIELDS.join(',')).toBe(
      'index,uuid,name,utilization.gpu,utilization.memory,memory.used,memory.total,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.mem,fan.speed',
    );
  });
});

describe('parseGpuCsv on recorded output', () => {
  it('reads an H100 under gpu-burn with every value exact and [N/A] fan as unknown', () => {
    expect(parseGpuCsv(fixture('h100-load.csv'))).toEqual([
      {
        index: 0,
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        name: 'NVIDIA H100 80GB HBM3',
        utilizationPct: 100,
        memoryUtilizationPct: 11,
        memoryUsedMib: 19818,
        memoryTotalMib: 81559,
        temperatureC: 59,
        powerW: 631.95,
        powerLimitW: 700,
        smClockMhz: 1980,
        memoryClockMhz: 2619,
        fanPct: undefined,
        processes: [],
      },
    ]);
  });

  it('reads the same H100 idle, where zero is a real zero', () => {
    const [gpu] = parseGpuCsv(fixture('h100-idle.csv'));
    expect(gpu).toMatchObject({
      utilizationPct: 0,
      memoryUtilizationPct: 0,
      memoryUsedMib: 0,
      temperatureC: 41,
      powerW: 69.85,
      smClockMhz: 345,
    });
    expect(gpu?.fanPct).toBeUndefined();
  });

  it('reads eight H100s under load, in index order', () => {
    const gpus = parseGpuCsv(fixture('h100-x8-load.csv'));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((g) => g.name))).toEqual(new Set(['NVIDIA H100 80GB HBM3']));
    expect(gpus.map((g) => g.utilizationPct)).toEqual([100, 98, 100, 100, 100, 98, 100, 99]);
    expect(gpus.map((g) => g.memoryUsedMib)).toEqual([78942, 78990, 78990, 78750, 21340, 19760, 19742, 19770]);
    expect(gpus.every((g) => g.memoryTotalMib === 81559)).toBe(true);
    // Not recorded in this capture: unknown, not zero.
    expect(gpus[4]).toMatchObject({ uuid: '', temperatureC: undefined, powerW: undefined, fanPct: undefined });
  });

  it('reads eight H200 NVLs with their uuids and every reading unknown', () => {
    const gpus = parseGpuCsv(fixture('h200-nvl-x8-identity.csv'));
    expect(gpus).toHaveLength(8);
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: 'GPU-f5ec9d38-2cba-a4b8-a8ef-72d26911880e',
      name: 'NVIDIA H200 NVL',
      ...UNKNOWN_READINGS,
      processes: [],
    });
    expect(gpus[7]?.uuid).toBe('GPU-a78708c1-6bdf-2b53-0e8d-5cc284c27fe0');
    expect(new Set(gpus.map((g) => g.uuid)).size).toBe(8);
  });

  it('reads a consumer RTX 2080 under load; the unrecorded index falls back to the line position', () => {
    expect(parseGpuCsv(fixture('rtx2080-load.csv'))).toEqual([
      {
        index: 0,
        uuid: 'GPU-22b2c6ac-2d49-4863-197c-9c469071178a',
        name: 'GeForce RTX 2080',
        utilizationPct: 86,
        memoryUtilizationPct: 55,
        memoryUsedMib: undefined,
        memoryTotalMib: 7979,
        temperatureC: 45,
        powerW: 176.98,
        powerLimitW: 200,
        smClockMhz: 1965,
        memoryClockMhz: 7199,
        fanPct: 100,
        processes: [],
      },
    ]);
  });

  it('turns every [Not Supported] of an old GTX 770 into unknown and keeps what it does report', () => {
    expect(parseGpuCsv(fixture('gtx770-not-supported.csv'))).toEqual([
      { index: 0, uuid: '', name: 'GeForce GTX 770', ...UNKNOWN_READINGS, temperatureC: 52, fanPct: 52, processes: [] },
    ]);
  });
});

describe('parseGpuCsv on damaged output', () => {
  const good = '0, GPU-a, NVIDIA A100-SXM4-80GB, 7, 1, 100, 81920, 30, 60.5, 400.00, 210, 1593, 0';

  it('tolerates CRLF, trailing whitespace and blank lines', () => {
    const gpus = parseGpuCsv(`\r\n${good}   \r\n\r\n${good.replace(/^0/, '1')}\t\r\n\n`);
    expect(gpus.map((g) => [g.index, g.utilizationPct, g.fanPct])).toEqual([
      [0, 7, 0],
      [1, 7, 0],
    ]);
  });

  it('skips malformed lines instead of throwing', () => {
    const text = [
      'index, uuid, name, utilization.gpu [%]', // a header: the index is not a number
      '0, GPU-a, NVIDIA A100', // too few columns
      'garbage',
      '0, GPU-a, NVIDIA A100-SXM4-80GB, seven, 1, 100, 81920, 30, 60.5, 400.00, 210, 1593, 0', // text where a number belongs
      good,
    ].join('\n');
    expect(parseGpuCsv(text).map((g) => g.uuid)).toEqual(['GPU-a']);
  });

  it('reads every unknown spelling as undefined', () => {
    const line =
      '0, GPU-a, Tesla K80, [N/A], N/A, [Not Supported], [Unknown Error], , [GPU requires reset], [Insufficient Permissions], 0, 0, 0';
    expect(parseGpuCsv(line)[0]).toMatchObject({
      utilizationPct: undefined,
      memoryUtilizationPct: undefined,
      memoryUsedMib: undefined,
      memoryTotalMib: undefined,
      temperatureC: undefined,
      powerW: undefined,
      powerLimitW: undefined,
      smClockMhz: 0,
    });
  });

  it('keeps a name with a comma in it whole (nvidia-smi does not quote)', () => {
    expect(parseGpuCsv('0, GPU-a, Weird, Name, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10')[0]).toMatchObject({
      name: 'Weird, Name',
      utilizationPct: 1,
      fanPct: 10,
    });
  });

  it('accepts values that still carry units (output taken without nounits)', () => {
    expect(
      parseGpuCsv(
        '0, GPU-a, X, 100 %, 11 %, 19818 MiB, 81559 MiB, 59, 631.95 W, 700.00 W, 1980 MHz, 2619 MHz, [N/A]',
      )[0],
    ).toMatchObject({ utilizationPct: 100, memoryUsedMib: 19818, powerW: 631.95, memoryClockMhz: 2619 });
  });
});

describe('parseComputeAppsCsv', () => {
  it('groups the recorded gpu_burn and memhog processes under their GPU', () => {
    const apps = parseComputeAppsCsv(fixture('h100-load.compute-apps.csv'));
    expect([...apps.keys()]).toEqual(['GPU-00000000-0000-0000-0000-000000000000']);
    expect(apps.get('GPU-00000000-0000-0000-0000-000000000000')).toEqual([
      { pid: 11327, name: '/root/tools/memhog', usedMemoryMib: 2566, user: '', workload: '' },
      { pid: 11328, name: '/root/tools/memhog', usedMemoryMib: 1542, user: '', workload: '' },
      { pid: 11345, name: './gpu_burn', usedMemoryMib: 15690, user: '', workload: '' },
    ]);
  });

  it('keeps unknown memory unknown, keeps commas in names, skips junk', () => {
    const apps = parseComputeAppsCsv(
      [
        'GPU-b, 42, [Insufficient Permissions], [N/A]',
        'GPU-b, 43, /opt/a,b/run, 12\r',
        'GPU-b, x, bad, 1',
        '',
        'junk',
      ].join('\n'),
    );
    expect(apps.get('GPU-b')).toEqual([
      { pid: 42, name: '[Insufficient Permissions]', usedMemoryMib: undefined, user: '', workload: '' },
      { pid: 43, name: '/opt/a,b/run', usedMemoryMib: 12, user: '', workload: '' },
    ]);
  });

  it('is empty for empty output (no compute processes)', () => {
    expect(parseComputeAppsCsv('').size).toBe(0);
  });
});

describe('the GPU probe', () => {
  /** The GPUs a monitor's first probe finds, and how it reports the outcome. */
  async function probe(bin: string) {
    const monitor = createGpuMonitor({ intervalMs: 1000, nvidiaSmi: bin });
    monitor.start();
    try {
      await monitor.probed(10_000);
      return { gpus: monitor.gpus(), state: monitor.status().state };
    } finally {
      await monitor.stop();
    }
  }

  it('is empty when nvidia-smi is not installed', async () => {
    await expect(probe('/nonexistent/nvidia-smi')).resolves.toEqual({ gpus: [], state: 'absent' });
  });

  it('lists the GPUs the fake nvidia-smi replays', async () => {
    const { gpus } = await probe(FAKE_NVIDIA_SMI);
    expect(gpus).toHaveLength(8);
    expect(gpus[3]).toEqual({ index: 3, name: 'NVIDIA H100 80GB HBM3', uuid: '', memoryTotalMib: 81559 });
  });
});
