import { YardError } from '../../core/errors.js';
import type { GpuProcess, GpuSample } from '../../core/types.js';
import type { Families } from './exposition.js';

const MIB = 1024 * 1024;

/**
 * Maps a GPU exporter's page to the GPUs of a sample: NVIDIA's DCGM exporter (DCGM_FI_DEV_*,
 * memory in MiB) or utkuozdemir's nvidia_gpu_exporter (nvidia_smi_*, ratios and bytes).
 * A reading an exporter does not give stays unset: unknown is not zero.
 */
export function readGpuExporter(families: Families, url: string): GpuSample[] {
  if ([...families.keys()].some((n) => n.startsWith('DCGM_FI_'))) return dcgm(families);
  if (families.has('nvidia_smi_gpu_info') || families.has('nvidia_smi_utilization_gpu_ratio'))
    return nvidiaSmi(families);
  throw new YardError(
    'SCRAPE_FAILED',
    `${url}: not a GPU exporter page (no DCGM_FI_* or nvidia_smi_* metrics); give the URL of dcgm-exporter's or nvidia_gpu_exporter's /metrics`,
    { url },
  );
}

/** Readings of one metric, keyed by the label that names the GPU, whole GPUs only (no MIG instance). */
function perGpu(families: Families, name: string, key: string, scale = 1): Map<string, number> {
  const m = new Map<string, number>();
  for (const { labels, value } of families.get(name) ?? []) {
    if (labels.GPU_I_ID !== undefined) continue;
    const id = labels[key];
    if (id !== undefined && !m.has(id)) m.set(id, value * scale);
  }
  return m;
}

function dcgm(families: Families): GpuSample[] {
  const get = (name: string, scale = 1) => perGpu(families, name, 'gpu', scale);
  const util = get('DCGM_FI_DEV_GPU_UTIL');
  // Exporters set up for profiling counters report the graphics engine's activity (0–1) instead.
  const engine = get('DCGM_FI_PROF_GR_ENGINE_ACTIVE', 100);
  const used = get('DCGM_FI_DEV_FB_USED');
  const free = get('DCGM_FI_DEV_FB_FREE');
  const total = get('DCGM_FI_DEV_FB_TOTAL');
  const temp = get('DCGM_FI_DEV_GPU_TEMP');
  const power = get('DCGM_FI_DEV_POWER_USAGE');
  const powerLimit = get('DCGM_FI_DEV_POWER_MGMT_LIMIT');
  const memCopy = get('DCGM_FI_DEV_MEM_COPY_UTIL');
  const sm = get('DCGM_FI_DEV_SM_CLOCK');
  const memClock = get('DCGM_FI_DEV_MEM_CLOCK');
  const fan = get('DCGM_FI_DEV_FAN_SPEED');
  const identity = new Map<string, { uuid: string; name: string }>();
  for (const readings of families.values())
    for (const { labels } of readings)
      if (labels.gpu !== undefined && labels.GPU_I_ID === undefined && !identity.has(labels.gpu))
        identity.set(labels.gpu, { uuid: labels.UUID ?? '', name: labels.modelName ?? '' });
  return [...identity]
    .map(([gpu, { uuid, name }]): GpuSample => {
      const usedMib = used.get(gpu);
      const freeMib = free.get(gpu);
      return {
        index: Number(gpu) || 0,
        uuid,
        name,
        utilizationPct: util.get(gpu) ?? engine.get(gpu),
        memoryUtilizationPct: memCopy.get(gpu),
        memoryUsedMib: usedMib,
        memoryTotalMib:
          total.get(gpu) ?? (usedMib !== undefined && freeMib !== undefined ? usedMib + freeMib : undefined),
        temperatureC: temp.get(gpu),
        powerW: power.get(gpu),
        powerLimitW: powerLimit.get(gpu),
        smClockMhz: sm.get(gpu),
        memoryClockMhz: memClock.get(gpu),
        fanPct: fan.get(gpu),
        processes: [],
      };
    })
    .sort((a, b) => a.index - b.index);
}

function nvidiaSmi(families: Families): GpuSample[] {
  const get = (name: string, scale = 1) => perGpu(families, name, 'uuid', scale);
  const util = get('nvidia_smi_utilization_gpu_ratio', 100);
  const memUtil = get('nvidia_smi_utilization_memory_ratio', 100);
  const used = get('nvidia_smi_memory_used_bytes', 1 / MIB);
  const total = get('nvidia_smi_memory_total_bytes', 1 / MIB);
  const temp = get('nvidia_smi_temperature_gpu');
  const power = get('nvidia_smi_power_draw_watts');
  const powerLimit = get('nvidia_smi_power_limit_watts');
  const sm = get('nvidia_smi_clocks_current_sm_clock_hz', 1e-6);
  const memClock = get('nvidia_smi_clocks_current_memory_clock_hz', 1e-6);
  const fan = get('nvidia_smi_fan_speed_ratio', 100);
  const processes = new Map<string, GpuProcess[]>();
  for (const { labels, value } of families.get('nvidia_smi_compute_app_used_memory_bytes') ?? []) {
    const uuid = labels.uuid ?? '';
    const list = processes.get(uuid) ?? [];
    // The exporter names no OS user, and the host runs no workload of ours.
    list.push({
      pid: Number(labels.pid) || 0,
      name: labels.process_name ?? '',
      usedMemoryMib: value / MIB,
      user: '',
      workload: '',
    });
    processes.set(uuid, list);
  }
  const info = new Map<string, Record<string, string>>();
  for (const { labels } of families.get('nvidia_smi_gpu_info') ?? []) if (labels.uuid) info.set(labels.uuid, labels);
  const uuids = new Set([...info.keys(), ...util.keys(), ...used.keys()]);
  return [...uuids]
    .map(
      (uuid, i): GpuSample => ({
        index: Number(info.get(uuid)?.index ?? i) || 0,
        uuid,
        name: info.get(uuid)?.name ?? '',
        utilizationPct: util.get(uuid),
        memoryUtilizationPct: memUtil.get(uuid),
        memoryUsedMib: used.get(uuid),
        memoryTotalMib: total.get(uuid),
        temperatureC: temp.get(uuid),
        powerW: power.get(uuid),
        powerLimitW: powerLimit.get(uuid),
        smClockMhz: sm.get(uuid),
        memoryClockMhz: memClock.get(uuid),
        fanPct: fan.get(uuid),
        processes: processes.get(uuid) ?? [],
      }),
    )
    .sort((a, b) => a.index - b.index);
}
