import { cordonWord } from '../core/drain.js';
import { gibPair } from '../core/format/bytes.js';
import { pctText } from '../core/format/numbers.js';
import { ageText, agoText } from '../core/format/time.js';
import { isSilent } from '../core/freshness.js';
import { gpuModels, gpuTrouble } from '../core/gpu-status.js';
import { printable } from '../core/printable.js';
import { gpuTool, isScraped, stateName, type GpuSample, type Server } from '../core/types.js';
import { drainJson } from './format-drain.js';
import type { OverviewResponse } from '../gen/switchyard/v1/control.js';

const orNull = (v: number | undefined) => (v === undefined ? null : v);

/** How the controller hears of the host: its agent, or polling its exporters (`yard scrape`). */
const sourceOf = (s: Pick<Server, 'source'>) => (isScraped(s) ? 'scraped' : 'agent');

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

/** The stable JSON shape of `yard servers --json`. Unknown readings are null, never 0; `names` names servers by id. */
export function serverJson(s: Server, names: ReadonlyMap<string, string>) {
  const latest = s.latest;
  const gpus = latest?.gpus.length
    ? latest.gpus.map(gpuJson)
    : (s.capabilities?.gpus ?? []).map((g) =>
        gpuJson({ index: g.index, name: g.name, uuid: g.uuid, memoryTotalMib: g.memoryTotalMib, processes: [] }),
      );
  return {
    id: s.id,
    name: s.name,
    hostname: s.hostname,
    state: stateName(s.state),
    cordoned: s.cordoned,
    drain: s.drain ? drainJson(s.drain, names) : null,
    labels: s.labels,
    location: s.location,
    addresses: s.addresses,
    agentVersion: s.agentVersion,
    source: sourceOf(s),
    scrapeUrl: s.scrapeUrl || null,
    lastSeen: s.lastSeenMs ? new Date(s.lastSeenMs).toISOString() : null,
    cpuPct: latest ? latest.cpuPct : null,
    memoryUsedBytes: latest ? latest.memoryUsedBytes : null,
    memoryTotalBytes: latest ? latest.memoryTotalBytes : null,
    gpus,
    // False when the readings above are the host's last words: it is silent, or never reported.
    fresh: !isSilent(s) && latest !== undefined,
    gpuStatus: latest?.gpuStatus
      ? {
          state: latest.gpuStatus.state,
          since: new Date(latest.gpuStatus.sinceMs).toISOString(),
          message: latest.gpuStatus.message,
        }
      : null,
  };
}

/** Cells from agents (names, labels) print as text: a control character shows as an escape. */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** The GPUS cell: the models, or that the GPU tooling fails (details under the table). */
function gpusCell(s: Server): string {
  const trouble = isSilent(s) ? undefined : gpuTrouble(s.latest);
  if (trouble) return `nvidia-smi ${trouble.state}`;
  const names = s.latest?.gpus.length
    ? s.latest.gpus.map((g) => g.name)
    : (s.capabilities?.gpus ?? []).map((g) => g.name);
  return names.length > 0 ? gpuModels(names) : '-';
}

/** What failed, since when: one line per host whose GPU tooling fails. */
function gpuTroubleLines(servers: Server[], now: number): string {
  return servers
    .map((s) => {
      const trouble = isSilent(s) ? undefined : gpuTrouble(s.latest);
      if (!trouble) return '';
      const since = new Date(trouble.sinceMs).toISOString().replace('T', ' ').slice(0, 19);
      return `${printable(`${s.name}: ${gpuTool(s)} ${trouble.state} since ${since} UTC (${ageText(now - trouble.sinceMs)}), its GPUs unknown: ${trouble.message || 'no message'}`)}\n`;
    })
    .join('');
}

/** "; 2 cordoned, 1 draining, 3 scraped" for `yard status`: nothing when none is. */
function outOfService(o: Pick<OverviewResponse, 'serversCordoned' | 'serversDraining' | 'serversScraped'>): string {
  const parts = [
    o.serversCordoned ? `${o.serversCordoned} cordoned` : '',
    o.serversDraining ? `${o.serversDraining} draining` : '',
    o.serversScraped ? `${o.serversScraped} scraped` : '',
  ].filter(Boolean);
  return parts.length ? `; ${parts.join(', ')}` : '';
}

/** Its connection state, and whether it is out of service (cordoned, draining, drained). */
function stateCell(s: Server): string {
  const word = cordonWord(s);
  return word ? `${stateName(s.state)}, ${word}` : stateName(s.state);
}

/**
 * CPU and memory are shown only while they are current: "?" once the host is silent (the
 * controller's word, from heartbeats: agents' clocks may be skewed, so a sample's age is not).
 */
export function serversTable(servers: Server[], now = Date.now()): string {
  if (servers.length === 0) return 'no servers yet: start `yard agent --controller HOST:PORT` on a host\n';
  const rows = [['NAME', 'STATE', 'SOURCE', 'CPU', 'MEM', 'GPUS', 'LAST SEEN', 'LABELS']];
  for (const s of servers) {
    const l = isSilent(s) ? undefined : s.latest;
    const unknown = s.latest ? '?' : '–';
    rows.push([
      s.name,
      stateCell(s),
      sourceOf(s),
      pctText(l?.cpuPct, unknown),
      pctText(l?.memoryTotalBytes ? (l.memoryUsedBytes / l.memoryTotalBytes) * 100 : undefined, unknown),
      gpusCell(s),
      s.lastSeenMs ? agoText(now - s.lastSeenMs) : 'never',
      Object.entries(s.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '-',
    ]);
  }
  return table(rows) + gpuTroubleLines(servers, now);
}

export function overviewText(o: OverviewResponse, address: string): string {
  const mib = (b: number) => b / 2 ** 20;
  return (
    [
      `controller  ${address} (id ${o.controllerId}, version ${o.version}, up ${ageText(Date.now() - o.startedMs)})`,
      `servers     ${o.serversOnline} online, ${o.serversDegraded} degraded, ${o.serversDisconnected} disconnected, ${o.serversDown} down — ${o.serversTotal} in all${outOfService(o)}`,
      `cpu         ${o.cpuPctMean.toFixed(1)}% mean over reporting servers`,
      `memory      ${gibPair(mib(o.memoryUsedBytes), mib(o.memoryTotalBytes))}`,
      `gpus        ${o.gpusTotal}${o.gpuMemoryTotalMib ? `, memory ${gibPair(o.gpuMemoryUsedMib, o.gpuMemoryTotalMib)}` : ''}`,
      ...(o.store && o.store !== 'file' ? [`store       ${o.store}`] : []),
      ...(o.controllers ?? []).map(
        (c, i) =>
          `${i === 0 ? 'controllers' : '           '} ${c.address} ${c.leader ? 'leader' : 'follower'} on ${c.host} (pid ${c.pid}, up ${ageText(Date.now() - c.sinceMs)}, ${c.agents} ${c.agents === 1 ? 'agent' : 'agents'})`,
      ),
    ]
      .map(printable)
      .join('\n') + '\n'
  );
}
