import { YardError } from '../../core/errors.js';
import type { DiskSample, HostInfo, HostSample, NetSample } from '../../core/types.js';
import { one, type Families, type Reading } from './exposition.js';

/** Counters kept between two polls: rates and CPU % are their deltas over the time between. */
export interface NodeCounters {
  atMs: number;
  /** Per CPU: seconds busy and seconds in all, since boot. */
  cpus: Map<string, { busy: number; total: number }>;
  rx: Map<string, number>;
  tx: Map<string, number>;
  diskRead?: number;
  diskWrite?: number;
}

/** What a node_exporter page tells of the host itself, for its server record. */
export interface NodeFacts {
  hostname: string;
  host: HostInfo;
}

export interface NodeReading {
  facts: NodeFacts;
  counters: NodeCounters;
  /** Undefined on the first poll: rates need two. */
  sample?: HostSample;
}

/** The families the mapping reads (readExposition's `wanted`): a node_exporter page has hundreds. */
export function nodeFamily(name: string): boolean {
  return NODE_FAMILIES.has(name);
}

const NODE_FAMILIES = new Set([
  'node_cpu_seconds_total',
  'node_cpu_info',
  'node_filesystem_size_bytes',
  'node_filesystem_avail_bytes',
  'node_network_receive_bytes_total',
  'node_network_transmit_bytes_total',
  'node_disk_read_bytes_total',
  'node_disk_written_bytes_total',
  'node_uname_info',
  'node_os_info',
  'node_memory_MemTotal_bytes',
  'node_memory_MemAvailable_bytes',
  'node_memory_MemFree_bytes',
  'node_memory_SwapTotal_bytes',
  'node_memory_SwapFree_bytes',
  'node_load1',
  'node_load5',
  'node_load15',
]);

/** Time not spent working: node_exporter's idle and iowait modes. */
const IDLE_MODES = new Set(['idle', 'iowait']);
/** Filesystems that hold no data of the host's own. */
const VIRTUAL_FS = new Set(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'ramfs', 'autofs', 'nsfs', 'fuse.lxcfs']);
const VIRTUAL_NET = /^(lo|veth|docker|br-|virbr|cali|flannel|cni|ifb)/;

/**
 * Maps a node_exporter page to the sample an agent would send. `previous` is the last poll's
 * counters: CPU %, network and disk rates are the change since then.
 */
export function readNodeExporter(families: Families, url: string, atMs: number, previous?: NodeCounters): NodeReading {
  const cpuSeconds = families.get('node_cpu_seconds_total');
  const memTotal = one(families, 'node_memory_MemTotal_bytes');
  if (!cpuSeconds || memTotal === undefined)
    throw new YardError(
      'SCRAPE_FAILED',
      `${url}: not a node_exporter page (it has no node_cpu_seconds_total or node_memory_MemTotal_bytes); give the URL of node_exporter's /metrics`,
      { url },
    );
  const counters: NodeCounters = {
    atMs,
    cpus: cpuCounters(cpuSeconds),
    rx: byDevice(families.get('node_network_receive_bytes_total')),
    tx: byDevice(families.get('node_network_transmit_bytes_total')),
    diskRead: sum(families.get('node_disk_read_bytes_total')),
    diskWrite: sum(families.get('node_disk_written_bytes_total')),
  };
  const facts = nodeFacts(families, counters.cpus.size, memTotal);
  if (!previous || atMs <= previous.atMs) return { facts, counters };

  const seconds = (atMs - previous.atMs) / 1000;
  const perCore = [...counters.cpus].map(([cpu, now]) => busyPct(now, previous.cpus.get(cpu)));
  const nets = netRates(counters, previous, seconds);
  const memAvailable =
    one(families, 'node_memory_MemAvailable_bytes') ?? one(families, 'node_memory_MemFree_bytes') ?? 0;
  const swapTotal = one(families, 'node_memory_SwapTotal_bytes') ?? 0;
  const disks = filesystems(families);
  const sample: HostSample = {
    timestampMs: atMs,
    cpuPct: busyPct(total(counters.cpus), total(previous.cpus)),
    cpuPerCorePct: perCore,
    load1: one(families, 'node_load1') ?? 0,
    load5: one(families, 'node_load5') ?? 0,
    load15: one(families, 'node_load15') ?? 0,
    memoryTotalBytes: memTotal,
    memoryUsedBytes: Math.max(0, memTotal - memAvailable),
    swapTotalBytes: swapTotal,
    swapUsedBytes: Math.max(0, swapTotal - (one(families, 'node_memory_SwapFree_bytes') ?? swapTotal)),
    disks,
    diskReadBytesPerSec: rate(counters.diskRead, previous.diskRead, seconds),
    diskWriteBytesPerSec: rate(counters.diskWrite, previous.diskWrite, seconds),
    nets,
    netRxBytesPerSec: nets.reduce((a, n) => a + n.rxBytesPerSec, 0),
    netTxBytesPerSec: nets.reduce((a, n) => a + n.txBytesPerSec, 0),
    gpus: [],
    dataFreeBytes: rootFree(families),
  };
  return { facts, counters, sample };
}

function cpuCounters(readings: Reading[]): NodeCounters['cpus'] {
  const cpus = new Map<string, { busy: number; total: number }>();
  for (const { labels, value } of readings) {
    const cpu = labels.cpu ?? '0';
    const c = cpus.get(cpu) ?? { busy: 0, total: 0 };
    c.total += value;
    if (!IDLE_MODES.has(labels.mode ?? '')) c.busy += value;
    cpus.set(cpu, c);
  }
  return cpus;
}

function total(cpus: NodeCounters['cpus']): { busy: number; total: number } {
  let busy = 0;
  let all = 0;
  for (const c of cpus.values()) {
    busy += c.busy;
    all += c.total;
  }
  return { busy, total: all };
}

/** 0–100; 0 when the counters did not move or went back (a reboot between polls). */
function busyPct(now: { busy: number; total: number }, before?: { busy: number; total: number }): number {
  if (!before) return 0;
  const dTotal = now.total - before.total;
  const dBusy = now.busy - before.busy;
  if (dTotal <= 0 || dBusy < 0) return 0;
  return Math.min(100, (dBusy / dTotal) * 100);
}

function byDevice(readings: Reading[] | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const { labels, value } of readings ?? []) {
    const device = labels.device ?? '';
    if (!VIRTUAL_NET.test(device)) m.set(device, value);
  }
  return m;
}

function sum(readings: Reading[] | undefined): number | undefined {
  return readings?.reduce((a, r) => a + r.value, 0);
}

/** Per second; undefined without two readings, 0 when a counter went back (reset). */
function rate(now: number | undefined, before: number | undefined, seconds: number): number | undefined {
  if (now === undefined || before === undefined) return undefined;
  return Math.max(0, now - before) / seconds;
}

function netRates(now: NodeCounters, before: NodeCounters, seconds: number): NetSample[] {
  return [...now.rx.keys()].map((iface) => ({
    iface,
    rxBytesPerSec: rate(now.rx.get(iface), before.rx.get(iface), seconds) ?? 0,
    txBytesPerSec: rate(now.tx.get(iface), before.tx.get(iface), seconds) ?? 0,
  }));
}

/** Mounted filesystems backed by a device, each once (a bind mount repeats its device). */
function filesystems(families: Families): DiskSample[] {
  const avail = new Map<string, number>();
  for (const { labels, value } of families.get('node_filesystem_avail_bytes') ?? [])
    avail.set(labels.mountpoint ?? '', value);
  const seen = new Set<string>();
  const disks: DiskSample[] = [];
  for (const { labels, value } of families.get('node_filesystem_size_bytes') ?? []) {
    const { mountpoint = '', device = '', fstype = '' } = labels;
    if (VIRTUAL_FS.has(fstype) || seen.has(device) || value <= 0) continue;
    seen.add(device);
    disks.push({
      mount: mountpoint,
      fs: device,
      type: fstype,
      sizeBytes: value,
      usedBytes: value - (avail.get(mountpoint) ?? 0),
    });
  }
  return disks.sort((a, b) => a.mount.localeCompare(b.mount));
}

function rootFree(families: Families): number | undefined {
  return families.get('node_filesystem_avail_bytes')?.find((r) => r.labels.mountpoint === '/')?.value;
}

function nodeFacts(families: Families, cores: number, memTotal: number): NodeFacts {
  const uname = families.get('node_uname_info')?.[0]?.labels ?? {};
  const os = families.get('node_os_info')?.[0]?.labels ?? {};
  return {
    hostname: uname.nodename ?? '',
    host: {
      os: os.pretty_name ?? uname.sysname ?? '',
      kernel: uname.release ?? '',
      arch: uname.machine ?? '',
      cpuModel: families.get('node_cpu_info')?.[0]?.labels.model_name ?? '',
      cpuCores: cores,
      memoryTotalBytes: memTotal,
    },
  };
}
