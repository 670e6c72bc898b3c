import { formatAge } from '../core/duration.js';
import { printable } from '../core/printable.js';
import { stateName, type GpuSample, type Server } from '../core/types.js';
import type { OverviewResponse } from '../gen/switchyard/v1/control.js';

const orNull = (v: number | undefined) => (v === undefined ? null : v);

function gpuJson(g: GpuSample) {
  return {
    index: g.index,
    name: g.name,
    uuid: g.uuid,
    utilization: orNull(g.utilizationPct),
    memoryUsedMiB: orNull(g.memoryUsedMib),
    memoryTotalMiB: orNull(g.memoryTotalMib),
    temperatureC: orNull(g.temperatureC),
    powerW: orNull(g.powerW),
    powerLimitW: orNull(g.powerLimitW),
  };
}

/** The stable JSON shape of `yard servers --json`. Unknown readings are null, never 0. */
export function serverJson(s: Server) {
  const latest = s.latest;
  const gpus = latest?.gpus.length
    ? latest.gpus.map(gpuJson)
    : (s.capabilities?.gpus ?? []).map((g) => gpuJson({ index: g.index, name: g.name, uuid: g.uuid, memoryTotalMib: g.memoryTotalMib, processes: [] }));
  return {
    id: s.id,
    name: s.name,
    hostname: s.hostname,
    state: stateName(s.state),
    labels: s.labels,
    location: s.location,
    addresses: s.addresses,
    agentVersion: s.agentVersion,
    lastSeen: s.lastSeenMs ? new Date(s.lastSeenMs).toISOString() : null,
    cpuPct: latest ? latest.cpuPct : null,
    memoryUsedBytes: latest ? latest.memoryUsedBytes : null,
    memoryTotalBytes: latest ? latest.memoryTotalBytes : null,
    gpus,
  };
}

/** Cells from agents (names, labels) print as text: a control character shows as an escape. */
function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function serversTable(servers: Server[], now = Date.now()): string {
  if (servers.length === 0) return 'no servers yet: start `yard agent --controller HOST:PORT` on a host\n';
  const rows = [['NAME', 'STATE', 'CPU', 'MEM', 'GPUS', 'LAST SEEN', 'LABELS']];
  for (const s of servers) {
    const l = s.latest;
    rows.push([
      s.name,
      stateName(s.state),
      l ? `${l.cpuPct.toFixed(0)}%` : '–',
      l && l.memoryTotalBytes ? `${((l.memoryUsedBytes / l.memoryTotalBytes) * 100).toFixed(0)}%` : '–',
      String(s.capabilities?.gpus.length ?? 0),
      s.lastSeenMs ? `${formatAge(now - s.lastSeenMs)} ago` : 'never',
      Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
    ]);
  }
  return table(rows);
}

export function overviewText(o: OverviewResponse, address: string): string {
  const gib = (b: number) => (b / 2 ** 30).toFixed(1);
  return [
    `controller  ${address} (id ${o.controllerId}, version ${o.version}, up ${formatAge(Date.now() - o.startedMs)})`,
    `servers     ${o.serversOnline} online, ${o.serversDegraded} degraded, ${o.serversDisconnected} disconnected, ${o.serversDown} down — ${o.serversTotal} in all`,
    `cpu         ${o.cpuPctMean.toFixed(1)}% mean over reporting servers`,
    `memory      ${gib(o.memoryUsedBytes)} / ${gib(o.memoryTotalBytes)} GiB`,
    `gpus        ${o.gpusTotal}${o.gpuMemoryTotalMib ? `, memory ${(o.gpuMemoryUsedMib / 1024).toFixed(1)} / ${(o.gpuMemoryTotalMib / 1024).toFixed(1)} GiB` : ''}`,
  ].map(printable).join('\n') + '\n';
}
