// What nvidia-smi prints, parsed: the query columns we ask for and the CSV that comes back.
// (gpu-monitor.ts runs nvidia-smi; this file does no I/O.)
import type { GpuProcess, GpuSample } from '../../core/types.js';

/** The columns we ask nvidia-smi for, in this order; fixtures are recorded in the same order. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.sm',
  'clocks.mem',
  'fan.speed',
] as const;

export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

export const CSV_FORMAT = '--format=csv,noheader,nounits';

/**
 * One cell as a number; undefined when nvidia-smi says it does not know ([N/A], [Not Supported],
 * N/A, [Unknown Error], empty …). A trailing unit is tolerated in case someone drops `nounits`.
 * Returns null for text that is neither: the columns are misaligned and the line is not trusted.
 */
function numberCell(cell: string): number | undefined | null {
  const v = cell.trim();
  if (v === '' || v === 'N/A' || (v.startsWith('[') && v.endsWith(']'))) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)\s*(?:%|W|MiB|MHz|C)?$/.exec(v);
  return m ? Number(m[1]) : null;
}

function textCell(cell: string): string | undefined {
  const v = cell.trim();
  return numberCell(v) === undefined ? undefined : v;
}

/** Splits a CSV line into `fixedHead` cells, one free-text cell, and `fixedTail` cells, so a
 *  name containing a comma (nvidia-smi does not quote) stays one cell. */
function splitAround(line: string, fixedHead: number, fixedTail: number): string[] | undefined {
  const cells = line.split(',');
  if (cells.length < fixedHead + 1 + fixedTail) return undefined;
  const middle = cells.slice(fixedHead, cells.length - fixedTail).join(',');
  return [...cells.slice(0, fixedHead), middle, ...cells.slice(cells.length - fixedTail)];
}

/** One `--query-gpu=GPU_QUERY_FIELDS` line, or undefined when the line is blank or malformed. */
export function parseGpuLine(line: string): GpuSample | undefined {
  const cells = splitAround(line.trim(), 2, GPU_QUERY_FIELDS.length - 3);
  if (!cells) return undefined;
  const [index, uuid, name, ...rest] = cells as [string, string, string, ...string[]];
  const numbers = [index, ...rest].map(numberCell);
  if (numbers.includes(null)) return undefined;
  const [idx, util, memUtil, used, total, temp, power, limit, sm, mem, fan] = numbers as (number | undefined)[];
  const gpuName = textCell(name);
  const gpuUuid = textCell(uuid);
  if (gpuName === undefined && gpuUuid === undefined) return undefined;
  return {
    index: idx ?? -1,
    uuid: gpuUuid ?? '',
    name: gpuName ?? '',
    utilizationPct: util,
    memoryUtilizationPct: memUtil,
    memoryUsedMib: used,
    memoryTotalMib: total,
    temperatureC: temp,
    powerW: power,
    powerLimitW: limit,
    smClockMhz: sm,
    memoryClockMhz: mem,
    fanPct: fan,
    processes: [],
  };
}

/**
 * All GPUs in one `--query-gpu=GPU_QUERY_FIELDS --format=csv,noheader,nounits` output.
 * Blank and malformed lines are skipped; a GPU whose index is unknown gets its line position.
 */
export function parseGpuCsv(text: string): GpuSample[] {
  const gpus: GpuSample[] = [];
  for (const line of text.split(/\r?\n/)) {
    const gpu = parseGpuLine(line);
    if (gpu) gpus.push(gpu.index >= 0 ? gpu : { ...gpu, index: gpus.length });
  }
  return gpus;
}

/** `--query-compute-apps=gpu_uuid,pid,process_name,used_memory` output, grouped by GPU uuid (user and workload still unknown). */
export function parseComputeAppsCsv(text: string): Map<string, GpuProcess[]> {
  const byGpu = new Map<string, GpuProcess[]>();
  for (const line of text.split(/\r?\n/)) {
    const cells = splitAround(line.trim(), 2, 1);
    if (!cells) continue;
    const [uuid, pidCell, name, memCell] = cells.map((c) => c.trim()) as [string, string, string, string];
    const pid = numberCell(pidCell);
    const usedMemoryMib = numberCell(memCell);
    if (!uuid || pid === undefined || pid === null || usedMemoryMib === null) continue;
    const list = byGpu.get(uuid) ?? [];
    // Who runs it is not nvidia-smi's to say: gpu-owners.ts fills in user and workload.
    list.push({ pid, name, usedMemoryMib, user: '', workload: '' });
    byGpu.set(uuid, list);
  }
  return byGpu;
}
