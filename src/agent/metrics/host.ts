// Host metrics (everything but GPUs), cheap enough to take every second.
//
// Cost decides the source. systeminformation's currentLoad() runs execSync('cat /proc/stat')
// on Linux (a fork that blocks the loop, every call), and networkStats() and disksIO() fork a
// shell pipeline per call: together about 3 % of a core at 1 Hz. So on Linux the counters are
// read straight from /proc (async reads, no fork) and CPU load from os.cpus(); si.mem() already
// just reads /proc/meminfo. fsSize() (spawns df, which can hang on a dead NFS mount) and
// cpuTemperature() are slow-changing: refreshed in the background every few seconds and never
// awaited on the sample path. Off Linux, network rates come from si.networkStats() and disk
// I/O is reported unknown.
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import si, { type Systeminformation } from 'systeminformation';
import type { DiskSample, HostInfo, HostSample, NetSample } from '../../core/types.js';

/** A HostSample without what the sampler adds (timestamp, GPUs). */
export type HostReading = Omit<HostSample, 'timestampMs' | 'gpus'>;

export interface HostReader {
  /** Takes the baseline counters so the first read() already has rates. */
  prime(): Promise<void>;
  read(): Promise<HostReading>;
}

const linux = process.platform === 'linux';
const PRIME_WAIT_MS = 5_000;
const SECTOR_BYTES = 512; // /proc/diskstats counts 512-byte sectors whatever the device's sector size
// Mounts that are not disks an operator cares about. overlay stays when it is the root (containers).
const PSEUDO_FS = new Set([
  'tmpfs',
  'devtmpfs',
  'squashfs',
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'nsfs',
  'efivarfs',
  'ramfs',
  'autofs',
  'devfs',
  'overlay',
]);
// Block devices whose I/O is counted again on the disk underneath (or is not a disk at all).
const NOT_A_DISK = /^(loop|ram|zram|dm-|md|nbd|sr|fd)\d*/;

// ---------------------------------------------------------------------------------------------
// CPU

interface CpuTimes {
  idle: number;
  total: number;
}

function cpuTimes(): CpuTimes[] {
  return os.cpus().map(({ times: t }) => ({ idle: t.idle, total: t.user + t.nice + t.sys + t.idle + t.irq }));
}

function busyPct(prev: CpuTimes | undefined, cur: CpuTimes): number {
  const total = cur.total - (prev?.total ?? 0);
  const idle = cur.idle - (prev?.idle ?? 0);
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, 100 * (1 - idle / total)));
}

function sumTimes(list: CpuTimes[]): CpuTimes {
  return list.reduce((a, b) => ({ idle: a.idle + b.idle, total: a.total + b.total }), { idle: 0, total: 0 });
}

// ---------------------------------------------------------------------------------------------
// Counters (network and disk bytes), turned into rates between two reads

interface Counters {
  atMs: number;
  net: Map<string, { rx: number; tx: number }>;
  diskRead?: number;
  diskWrite?: number;
}

async function readProcNet(): Promise<Map<string, { rx: number; tx: number }>> {
  const net = new Map<string, { rx: number; tx: number }>();
  const text = await readFile('/proc/net/dev', 'utf8').catch(() => '');
  for (const line of text.split('\n').slice(2)) {
    const [iface, rest] = line.split(':');
    const f = rest?.trim().split(/\s+/);
    if (!iface || !f || f.length < 9) continue;
    net.set(iface.trim(), { rx: Number(f[0]), tx: Number(f[8]) });
  }
  return net;
}

/** Bytes read and written by whole disks since boot; undefined when this host does not say. */
async function readProcDisks(disks: Set<string>): Promise<{ read: number; write: number } | undefined> {
  const text = disks.size === 0 ? undefined : await readFile('/proc/diskstats', 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !disks.has(f[2]!)) continue;
    read += Number(f[5]) * SECTOR_BYTES;
    write += Number(f[9]) * SECTOR_BYTES;
  }
  return { read, write };
}

/** Whole disks (not partitions, loops or device-mapper layers) from /sys/block. */
async function wholeDisks(): Promise<Set<string>> {
  const names = await readdir('/sys/block').catch(() => [] as string[]);
  return new Set(names.filter((n) => !NOT_A_DISK.test(n)));
}

function rate(cur: number, prev: number | undefined, seconds: number): number {
  return prev === undefined || seconds <= 0 ? 0 : Math.max(0, (cur - prev) / seconds);
}

// ---------------------------------------------------------------------------------------------
// Slow things: mounts and CPU temperature

interface Slow {
  disks: DiskSample[];
  cpuTemperatureC?: number;
  blockDevices: Set<string>;
}

function realMounts(list: Systeminformation.FsSizeData[]): DiskSample[] {
  // The same device mounted twice (bind mounts) is one disk: keep its shortest mount path.
  const byFs = new Map<string, DiskSample>();
  for (const d of list) {
    if (d.size <= 0 || (PSEUDO_FS.has(d.type) && d.mount !== '/')) continue;
    const known = byFs.get(d.fs);
    if (known && known.mount.length <= d.mount.length) continue;
    byFs.set(d.fs, { mount: d.mount, fs: d.fs, type: d.type, sizeBytes: d.size, usedBytes: d.used });
  }
  return [...byFs.values()].sort((a, b) => a.mount.localeCompare(b.mount));
}

function celsius(v: number | null | undefined): number | undefined {
  // si reports null, NaN or -1 when there is no sensor: unknown, not a temperature.
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

async function readSlow(): Promise<Slow> {
  const [fs, temp, blockDevices] = await Promise.all([
    si.fsSize().catch(() => []),
    si.cpuTemperature().catch(() => undefined),
    linux ? wholeDisks() : Promise.resolve(new Set<string>()),
  ]);
  return { disks: realMounts(fs), cpuTemperatureC: celsius(temp?.main), blockDevices };
}

// ---------------------------------------------------------------------------------------------

export function createHostReader(opts: { slowRefreshMs?: number } = {}): HostReader {
  const slowRefreshMs = opts.slowRefreshMs ?? 10_000;
  let cpuPrev = cpuTimes();
  let counters: Counters | undefined;
  let slow: Slow = { disks: [], blockDevices: new Set() };
  let slowAt = 0;
  let slowInFlight: Promise<void> | undefined;

  const refreshSlow = (): Promise<void> => {
    slowInFlight ??= readSlow()
      .then((s) => {
        slow = s;
        slowAt = Date.now();
      })
      .finally(() => (slowInFlight = undefined));
    return slowInFlight;
  };

  const readCounters = async (): Promise<Counters> => {
    if (!linux) return { atMs: Date.now(), net: new Map() };
    const [net, disk] = await Promise.all([readProcNet(), readProcDisks(slow.blockDevices)]);
    return { atMs: Date.now(), net, diskRead: disk?.read, diskWrite: disk?.write };
  };

  // Elsewhere (macOS, Windows) si computes the rates itself; it forks, but those are dev machines.
  const readOtherNets = async (): Promise<NetSample[]> => {
    const stats = await si.networkStats('*').catch(() => []);
    return stats
      .filter((s) => s.iface !== 'lo' && s.iface !== 'lo0')
      .map((s) => ({
        iface: s.iface,
        rxBytesPerSec: Math.max(0, s.rx_sec ?? 0),
        txBytesPerSec: Math.max(0, s.tx_sec ?? 0),
      }));
  };

  return {
    async prime() {
      // Mounts and block devices first (disk I/O needs them), but a hung df must not stall start.
      await Promise.race([refreshSlow(), delay(PRIME_WAIT_MS, undefined, { ref: false })]);
      cpuPrev = cpuTimes();
      counters = await readCounters();
    },

    async read() {
      if (Date.now() - slowAt >= slowRefreshMs) void refreshSlow();

      const cpuCur = cpuTimes();
      const cpuPerCorePct = cpuCur.map((c, i) => busyPct(cpuPrev[i], c));
      const cpuPct = cpuCur.length === cpuPrev.length ? busyPct(sumTimes(cpuPrev), sumTimes(cpuCur)) : 0;
      cpuPrev = cpuCur;

      const [mem, cur] = await Promise.all([si.mem(), readCounters()]);
      const prev = counters;
      counters = cur;
      const seconds = prev ? (cur.atMs - prev.atMs) / 1000 : 0;

      let nets: NetSample[] = [];
      if (linux) {
        for (const [iface, c] of cur.net) {
          if (iface === 'lo') continue;
          const p = prev?.net.get(iface);
          nets.push({ iface, rxBytesPerSec: rate(c.rx, p?.rx, seconds), txBytesPerSec: rate(c.tx, p?.tx, seconds) });
        }
      } else nets = await readOtherNets();

      const diskKnown = prev?.diskRead !== undefined && cur.diskRead !== undefined;
      const [load1, load5, load15] = os.loadavg() as [number, number, number];
      return {
        cpuPct,
        cpuPerCorePct,
        load1,
        load5,
        load15,
        memoryTotalBytes: mem.total,
        // What is really taken: page cache that the kernel would give back does not count.
        memoryUsedBytes: Math.max(0, mem.total - mem.available),
        swapTotalBytes: mem.swaptotal,
        swapUsedBytes: mem.swapused,
        disks: slow.disks,
        diskReadBytesPerSec: diskKnown ? rate(cur.diskRead!, prev!.diskRead, seconds) : undefined,
        diskWriteBytesPerSec: diskKnown ? rate(cur.diskWrite!, prev!.diskWrite, seconds) : undefined,
        nets,
        netRxBytesPerSec: nets.reduce((sum, n) => sum + n.rxBytesPerSec, 0),
        netTxBytesPerSec: nets.reduce((sum, n) => sum + n.txBytesPerSec, 0),
        cpuTemperatureC: slow.cpuTemperatureC,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Identity, sent once in the agent's hello

async function osName(): Promise<string> {
  // PRETTY_NAME ("Ubuntu 22.04.5 LTS") says more than os.type() ("Linux"); one small file read.
  const text = linux ? await readFile('/etc/os-release', 'utf8').catch(() => '') : '';
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1];
  return pretty || `${os.type()} ${os.release()}`;
}

export async function describeHost(): Promise<{ hostname: string; addresses: string[]; mac: string; host: HostInfo }> {
  const ifaces = Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal);
  const addresses = [...new Set(ifaces.map((i) => i.address))];
  const mac = ifaces.find((i) => i.mac && i.mac !== '00:00:00:00:00:00')?.mac ?? '';
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    addresses,
    mac,
    host: {
      os: await osName(),
      kernel: os.release(),
      arch: os.arch(),
      cpuModel: cpus[0]?.model.trim() ?? '',
      cpuCores: cpus.length,
      memoryTotalBytes: os.totalmem(),
    },
  };
}
