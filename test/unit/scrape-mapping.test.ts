import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readExposition } from '../../src/controller/scrape/exposition.js';
import { readGpuExporter } from '../../src/controller/scrape/gpu-exporter.js';
import { nodeFamily, readNodeExporter } from '../../src/controller/scrape/node-exporter.js';
import { EXPORTER_FIXTURES } from '../helpers/exporters.js';

const URL = 'http://127.0.0.1:9100/metrics';
const page = (name: string) => readFileSync(resolve(EXPORTER_FIXTURES, name), 'utf8');
const NODE = page('node-exporter-1.5.0-debian.metrics');

/** The value of one series line of a recorded page, as the exporter printed it. */
function valueIn(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in the recording`);
  return Number(line.slice(series.length + 1));
}

/** The recording with every series named `metric` whose labels match `where` raised by `by`. */
function raised(text: string, metric: string, where: RegExp, by: number): string {
  return text
    .split('\n')
    .map((l) => {
      if (!l.startsWith(`${metric}{`) || !where.test(l)) return l;
      const at = l.lastIndexOf(' ');
      return `${l.slice(0, at)} ${Number(l.slice(at + 1)) + by}`;
    })
    .join('\n');
}

describe('node_exporter page → host sample (recorded from Debian prometheus-node-exporter 1.5.0)', () => {
  const cpus = new Set([...NODE.matchAll(/^node_cpu_seconds_total\{cpu="(\d+)"/gm)].map((m) => m[1]));

  it('needs two polls: the first keeps the counters, the second gives rates', () => {
    const first = readNodeExporter(readExposition(NODE, URL), URL, 1000);
    expect(first.sample).toBeUndefined();
    expect(first.counters.cpus.size).toBe(cpus.size);
    const uname = /^node_uname_info\{.*nodename="([^"]+)".*release="([^"]+)"/m.exec(NODE)!;
    expect(first.facts.hostname).toBe(uname[1]);
    expect(first.facts.host).toMatchObject({ kernel: uname[2], cpuCores: cpus.size, arch: 'x86_64' });
  });

  it('takes CPU % from the change in busy and idle seconds, per core and in all', () => {
    const before = readNodeExporter(readExposition(NODE, URL), URL, 1000);
    // Two seconds later: each CPU spent 0.5 s in user and 1.5 s idle, so 25 % busy.
    let later = raised(NODE, 'node_cpu_seconds_total', /mode="user"/, 0.5);
    later = raised(later, 'node_cpu_seconds_total', /mode="idle"/, 1.5);
    // eth0 took in 4,000 bytes and sent 1,000.
    later = raised(later, 'node_network_receive_bytes_total', /device="eth0"/, 4000);
    later = raised(later, 'node_network_transmit_bytes_total', /device="eth0"/, 1000);
    const { sample } = readNodeExporter(readExposition(later, URL), URL, 3000, before.counters);
    const busy = 0.5 / (0.5 + 1.5);
    expect(sample!.cpuPct).toBeCloseTo(busy * 100, 6);
    expect(sample!.cpuPerCorePct).toEqual([...cpus].map(() => expect.closeTo(busy * 100, 6)));
    expect(sample!.nets.find((n) => n.iface === 'eth0')).toEqual({
      iface: 'eth0',
      rxBytesPerSec: 2000,
      txBytesPerSec: 500,
    });
    // Loopback and the traffic-shaping devices are not the host's network.
    expect(sample!.nets.map((n) => n.iface)).not.toContain('lo');
    expect(sample!.nets.map((n) => n.iface)).not.toContain('ifb0');
  });

  it('reads memory, load and the root filesystem as node_exporter printed them', () => {
    const before = readNodeExporter(readExposition(NODE, URL), URL, 1000);
    const { sample } = readNodeExporter(readExposition(NODE, URL), URL, 2000, before.counters);
    const total = valueIn(NODE, 'node_memory_MemTotal_bytes');
    expect(sample!.memoryTotalBytes).toBe(total);
    expect(sample!.memoryUsedBytes).toBe(total - valueIn(NODE, 'node_memory_MemAvailable_bytes'));
    expect(sample!.load1).toBe(valueIn(NODE, 'node_load1'));
    const root = sample!.disks.find((d) => d.mount === '/')!;
    const size = valueIn(NODE, 'node_filesystem_size_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"}');
    const avail = valueIn(NODE, 'node_filesystem_avail_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"}');
    expect(root).toEqual({ mount: '/', fs: '/dev/vda', type: 'ext4', sizeBytes: size, usedBytes: size - avail });
    expect(sample!.dataFreeBytes).toBe(avail);
    expect(sample!.disks.map((d) => d.type)).not.toContain('tmpfs');
    // Counters that did not move: no work, no traffic.
    expect(sample!.cpuPct).toBe(0);
    expect(sample!.netRxBytesPerSec).toBe(0);
  });

  it('reads the same from only the families it needs as from the whole page', () => {
    const whole = readExposition(NODE, URL);
    const needed = readExposition(NODE, URL, nodeFamily);
    expect(needed.size).toBeLessThan(whole.size / 10);
    const a = readNodeExporter(whole, URL, 1000);
    const b = readNodeExporter(needed, URL, 1000);
    expect(b.facts).toEqual(a.facts);
    expect(readNodeExporter(needed, URL, 2000, b.counters).sample).toEqual(
      readNodeExporter(whole, URL, 2000, a.counters).sample,
    );
  });

  it('keeps the last sample of a page that does not end with a line end', () => {
    expect(readExposition('node_load1 0.5\nnode_load5 0.25', URL).get('node_load5')).toEqual([
      { labels: {}, value: 0.25 },
    ]);
  });

  it('counts a counter that went back (a reboot between polls) as no change, never negative', () => {
    const before = readNodeExporter(readExposition(NODE, URL), URL, 1000);
    const rebooted = raised(NODE, 'node_cpu_seconds_total', /mode="idle"/, -1000);
    const { sample } = readNodeExporter(readExposition(rebooted, URL), URL, 2000, before.counters);
    expect(sample!.cpuPct).toBeGreaterThanOrEqual(0);
    expect(sample!.cpuPct).toBeLessThanOrEqual(100);
  });

  it('refuses a page the exposition format cannot read, naming the URL and the line', () => {
    expect(() => readExposition('hello world\n{{{ not metrics', URL)).toThrow(
      `${URL}: not a Prometheus metrics page (Encountered invalid line: {{{ not metrics)`,
    );
  });

  it.each([
    ['text that parses as a metric', 'hello world'],
    ['an HTML page', '<html><body><h1>404 Not Found</h1></body></html>'],
    ['an empty page', ''],
    ['another exporter', page('dcgm-a100-mig.metrics')],
  ])('refuses %s, naming the URL and what it expected', (_, text) => {
    expect(() => readNodeExporter(readExposition(text, URL), URL, 1000)).toThrow(
      `${URL}: not a node_exporter page (it has no node_cpu_seconds_total or node_memory_MemTotal_bytes); give the URL of node_exporter's /metrics`,
    );
  });
});

describe('GPU exporter pages → GPU samples', () => {
  it('maps a recorded nvidia_gpu_exporter page (H100 under load) with its processes', () => {
    const text = page('nvidia-gpu-exporter-h100-load.metrics');
    const [gpu, ...more] = readGpuExporter(readExposition(text, URL), URL);
    const uuid = '00000000-0000-0000-0000-000000000000';
    const at = (m: string) => valueIn(text, `${m}{uuid="${uuid}"}`);
    expect(more).toHaveLength(0);
    expect(gpu).toMatchObject({
      index: 0,
      uuid,
      name: 'NVIDIA H100 80GB HBM3',
      utilizationPct: at('nvidia_smi_utilization_gpu_ratio') * 100,
      memoryUsedMib: at('nvidia_smi_memory_used_bytes') / 2 ** 20,
      memoryTotalMib: at('nvidia_smi_memory_total_bytes') / 2 ** 20,
      temperatureC: at('nvidia_smi_temperature_gpu'),
      powerW: at('nvidia_smi_power_draw_watts'),
      powerLimitW: at('nvidia_smi_power_limit_watts'),
      smClockMhz: at('nvidia_smi_clocks_current_sm_clock_hz') / 1e6,
    });
    const apps = [...text.matchAll(/^nvidia_smi_compute_app_used_memory_bytes\{pid="(\d+)",process_name="([^"]+)"/gm)];
    expect(gpu!.processes.map((p) => [p.pid, p.name])).toEqual(apps.map((m) => [Number(m[1]), m[2]]));
  });

  it("maps a recorded DCGM exporter page: the whole GPU, not its MIG instance, and the engine's activity for utilisation", () => {
    const text = page('dcgm-a100-mig.metrics');
    const labels = 'gpu="0",UUID="GPU-34319582-d595-d1c7-d1d2-179bcfa61660",device="nvidia0",Hostname="ub20-a100-k8s"';
    const at = (m: string) => valueIn(text, `${m}{${labels}}`);
    const gpus = readGpuExporter(readExposition(text, URL), URL);
    expect(gpus).toEqual([
      {
        index: 0,
        uuid: 'GPU-34319582-d595-d1c7-d1d2-179bcfa61660',
        // This exporter was run without the modelName label: unknown, not made up.
        name: '',
        utilizationPct: at('DCGM_FI_PROF_GR_ENGINE_ACTIVE') * 100,
        memoryUtilizationPct: undefined,
        memoryUsedMib: at('DCGM_FI_DEV_FB_USED'),
        memoryTotalMib: at('DCGM_FI_DEV_FB_USED') + at('DCGM_FI_DEV_FB_FREE'),
        temperatureC: at('DCGM_FI_DEV_GPU_TEMP'),
        powerW: at('DCGM_FI_DEV_POWER_USAGE'),
        powerLimitW: undefined,
        smClockMhz: at('DCGM_FI_DEV_SM_CLOCK'),
        memoryClockMhz: at('DCGM_FI_DEV_MEM_CLOCK'),
        fanPct: undefined,
        processes: [],
      },
    ]);
  });

  it.each([
    ['garbage text', 'hello world\n{{{'],
    ['a node_exporter page', NODE],
  ])('refuses %s, naming the URL and the exporters it reads', (_, text) => {
    expect(() => readGpuExporter(readExposition(text, URL), URL)).toThrow(
      `${URL}: not a GPU exporter page (no DCGM_FI_* or nvidia_smi_* metrics); give the URL of dcgm-exporter's or nvidia_gpu_exporter's /metrics`,
    );
  });
});
