// Domain types. The wire messages generated from proto/ are plain data and already say what
// the fleet is, so the domain re-uses them (types only: nothing here pulls in gRPC).
import { ServerState, type Server } from '../gen/switchyard/v1/fleet.js';
export type {
  DiskSample,
  GpuInfo,
  GpuProcess,
  GpuSample,
  HostInfo,
  HostSample,
  NetSample,
  Server,
} from '../gen/switchyard/v1/fleet.js';
export { ServerState };

export const SERVER_STATE_NAMES = [
  'online',
  'degraded',
  'disconnected',
  'down',
  'draining',
  'cordoned',
  'unknown',
] as const;
export type ServerStateName = (typeof SERVER_STATE_NAMES)[number];

const byNumber = new Map<number, ServerStateName>([
  [ServerState.SERVER_STATE_ONLINE, 'online'],
  [ServerState.SERVER_STATE_DEGRADED, 'degraded'],
  [ServerState.SERVER_STATE_DISCONNECTED, 'disconnected'],
  [ServerState.SERVER_STATE_DOWN, 'down'],
  [ServerState.SERVER_STATE_DRAINING, 'draining'],
  [ServerState.SERVER_STATE_CORDONED, 'cordoned'],
  [ServerState.SERVER_STATE_UNKNOWN, 'unknown'],
]);

/** A host the controller polls through its exporters (`yard scrape`): no agent of ours, no workloads. */
export function isScraped(server: Pick<Server, 'source'>): boolean {
  return server.source === 'scraped';
}

/** What watches a host's GPUs and can fail: its agent's nvidia-smi, or a scraped host's GPU exporter. */
export function gpuTool(server: Pick<Server, 'source'>): string {
  return isScraped(server) ? 'GPU exporter' : 'nvidia-smi';
}

export function stateName(state: ServerState): ServerStateName {
  return byNumber.get(state) ?? 'unknown';
}
