import { YardError } from '../../core/errors.js';
import { DrainPhase } from '../../core/drain.js';
import { isScraped, ServerState, type Server } from '../../core/types.js';
import type { OverviewResponse } from '../../gen/switchyard/v1/control.js';
import { scrapedRunsNothing } from '../migration/preflight.js';
import type { ServerRecord } from '../registry.js';
import { read, readAll } from './operation.js';
import type { ServiceParts } from './parts.js';

// One collator, made once: `localeCompare` builds one per call, which made sorting a fleet of
// thousands for every ListServers page cost tens of milliseconds of the event loop.
const collator = new Intl.Collator();

export function byName(a: Pick<Server, 'name' | 'id'>, b: Pick<Server, 'name' | 'id'>): number {
  return collator.compare(a.name, b.name) || collator.compare(a.id, b.id);
}

export function noServer(idOrName: string): YardError {
  return new YardError('NOT_FOUND', `no server "${idOrName}": \`yard servers\` lists them`, { server: idOrName });
}

/** The server an operator names by id or name; NOT_FOUND says where to look. */
export function serverNamed(parts: Pick<ServiceParts, 'registry'>, idOrName: string): ServerRecord {
  const r = parts.registry.get(idOrName);
  if (!r) throw noServer(idOrName);
  return r;
}

/** A server that runs workloads: one with an agent; FAILED_PRECONDITION for a scraped host. */
export function agentServer(parts: Pick<ServiceParts, 'registry'>, idOrName: string): ServerRecord {
  const r = serverNamed(parts, idOrName);
  if (r.server.source === 'scraped')
    throw new YardError('FAILED_PRECONDITION', scrapedRunsNothing(r.server.name), { server: r.server.id });
  return r;
}

/** A server's name for audit lines and messages: the id itself when it is not known. */
export function nameOf(parts: Pick<ServiceParts, 'registry'>, idOrName: string): string {
  return parts.registry.get(idOrName)?.server.name ?? idOrName;
}

/** Every server with its recent readings, by name. */
export const listServers = readAll('server.list', ({ parts }) =>
  parts.registry.list().sort((a, b) => byName(a.server, b.server)),
);

/** One server by id or name; undefined when there is none. */
export const findServer = read({
  name: 'server.get',
  role: 'viewer',
  act: (idOrName: string, { parts }) => parts.registry.get(idOrName),
});

/** The fleet in numbers: servers by state, GPUs, mean CPU, memory and GPU memory of those reporting. */
export const overview = readAll('server.overview', ({ parts }): OverviewResponse => {
  const o: OverviewResponse = {
    ...parts.about,
    controllers: parts.controllers(),
    serversTotal: 0,
    serversOnline: 0,
    serversDegraded: 0,
    serversDisconnected: 0,
    serversDown: 0,
    serversCordoned: 0,
    serversDraining: 0,
    serversScraped: 0,
    gpusTotal: 0,
    cpuPctMean: 0,
    memoryUsedBytes: 0,
    memoryTotalBytes: 0,
    gpuMemoryUsedMib: 0,
    gpuMemoryTotalMib: 0,
  };
  let reporting = 0;
  for (const { server } of parts.registry.list()) {
    o.serversTotal++;
    if (server.state === ServerState.SERVER_STATE_ONLINE) o.serversOnline++;
    else if (server.state === ServerState.SERVER_STATE_DEGRADED) o.serversDegraded++;
    else if (server.state === ServerState.SERVER_STATE_DISCONNECTED) o.serversDisconnected++;
    else if (server.state === ServerState.SERVER_STATE_DOWN) o.serversDown++;
    if (server.cordoned) o.serversCordoned++;
    if (server.drain?.phase === DrainPhase.DRAIN_PHASE_DRAINING) o.serversDraining++;
    if (isScraped(server)) o.serversScraped++;
    o.gpusTotal += server.capabilities?.gpus.length ?? 0;
    const s = server.latest;
    if (!s || (server.state !== ServerState.SERVER_STATE_ONLINE && server.state !== ServerState.SERVER_STATE_DEGRADED))
      continue;
    reporting++;
    o.cpuPctMean += s.cpuPct;
    o.memoryUsedBytes += s.memoryUsedBytes;
    o.memoryTotalBytes += s.memoryTotalBytes;
    for (const g of s.gpus) {
      o.gpuMemoryUsedMib += g.memoryUsedMib ?? 0;
      o.gpuMemoryTotalMib += g.memoryTotalMib ?? 0;
    }
  }
  o.cpuPctMean = reporting ? o.cpuPctMean / reporting : 0;
  return o;
});
