import type { FleetServer } from '../../core/fleet.js';
import { isStale, lastSeenText } from '../freshness.js';
import { bytesShort, trafficText } from '../../core/format/bytes.js';
import { isKnown, pctText } from '../../core/format/numbers.js';
import type { GpuView } from '../render/gpus.js';
import type { Look } from '../render/look.js';
import type { LegendItem } from '../render/legend.js';
import { ASCII_POINTS } from '../render/plot.js';
import type { ChartData } from '../widgets/line-chart.js';

// What each chart of the server view plots, and the legend line above it.

const percentAxis = (v: number): string => `${Math.round(v)}`;

/**
 * One item per series, coloured like it (without braille, led by its point mark), then extras; for a
 * silent host, all in the stale colour and led by its age, so old numbers never pass as new.
 * Each item is its forms, fullest first (see fitLegend): the chart drops labels, never digits.
 */
function legend(fs: FleetServer, look: Look, now: number, items: string[][], extras: string[][] = []): LegendItem[] {
  const { theme, glyphs } = look;
  const marks = glyphs.braille
    ? items
    : items.map((forms, i) => forms.map((f) => `${ASCII_POINTS[i % ASCII_POINTS.length]} ${f}`));
  if (isStale(fs.server, now)) {
    const age = lastSeenText(fs.server, now);
    const [first = [], ...rest] = [...marks, ...extras];
    return [first.map((f) => `${age}: ${f}`), ...rest].map((forms) => ({ forms, colour: theme.stale }));
  }
  return [
    ...marks.map((forms, i) => ({ forms, colour: theme.series[i % theme.series.length]! })),
    ...extras.map((forms) => ({ forms, colour: theme.muted })),
  ];
}

/** A reading with its label, and without it where space is short: ["cpu 31%", "31%"]. */
const labelled = (label: string, value: string): string[] => [`${label} ${value}`, value];

export function cpuChart(fs: FleetServer, look: Look, now: number): ChartData {
  const cpu = pctText(fs.server.latest?.cpuPct, look.glyphs.unknown);
  return {
    title: 'CPU %',
    legend: legend(fs, look, now, [labelled('cpu', cpu)]),
    series: [fs.series.cpu],
    min: 0,
    max: 100,
    axisLabel: percentAxis,
  };
}

export function memoryChart(fs: FleetServer, look: Look, now: number): ChartData {
  const latest = fs.server.latest;
  const u = look.glyphs.unknown;
  const used = latest ? bytesShort(latest.memoryUsedBytes, u) : u;
  const forms = latest
    ? [
        `used ${used} of ${bytesShort(latest.memoryTotalBytes, u)} (${pctText(fs.series.memory.last(), u)})`,
        `used ${used} (${pctText(fs.series.memory.last(), u)})`,
        used,
      ]
    : [`used ${u}`];
  return {
    title: 'Memory %',
    legend: legend(fs, look, now, [forms]),
    series: [fs.series.memory],
    min: 0,
    max: 100,
    axisLabel: percentAxis,
  };
}

export function networkChart(fs: FleetServer, look: Look, now: number): ChartData {
  const latest = fs.server.latest;
  const u = look.glyphs.unknown;
  const items = [
    labelled('rx', trafficText(latest?.netRxBytesPerSec, u)),
    labelled('tx', trafficText(latest?.netTxBytesPerSec, u)),
  ];
  // No fixed top: the scale follows the busiest moment on screen.
  return {
    title: 'Network rx/tx',
    legend: legend(fs, look, now, items),
    series: [fs.series.netRx, fs.series.netTx],
    min: 0,
    axisLabel: (v) => trafficText(v, ''),
  };
}

export function gpuChart(gpu: GpuView, fs: FleetServer, look: Look, now: number): ChartData {
  const { glyphs } = look;
  const u = glyphs.unknown;
  const s = gpu.sample;
  const memPct =
    s && isKnown(s.memoryUsedMib) && isKnown(s.memoryTotalMib) && s.memoryTotalMib > 0
      ? (s.memoryUsedMib / s.memoryTotalMib) * 100
      : undefined;
  // Units only on known readings: "temp –" reads as unknown, "–°C" reads as a typo.
  const temp = labelled('temp', isKnown(s?.temperatureC) ? `${Math.round(s.temperatureC)}${glyphs.degree}` : u);
  const power = labelled('power', isKnown(s?.powerW) ? `${Math.round(s.powerW)}W` : u);
  // The limit is the secondary text: it goes before any label does.
  if (isKnown(s?.powerLimitW)) power.unshift(`${power[0]} of ${Math.round(s.powerLimitW)}W`);
  return {
    title: `GPU${gpu.index} ${glyphs.sep} ${gpu.name}`,
    legend: legend(
      fs,
      look,
      now,
      [labelled('util', pctText(s?.utilizationPct, u)), labelled('mem', pctText(memPct, u))],
      [temp, power],
    ),
    series: gpu.history ? [gpu.history.utilization, gpu.history.memory] : [],
    min: 0,
    max: 100,
    axisLabel: percentAxis,
  };
}
