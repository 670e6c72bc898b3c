import type { ServerSeries } from './series.js';
import type { Server } from './types.js';

/** One server as a view sees it: its record (state, latest sample) and its recent history. */
export interface FleetServer {
  readonly server: Server;
  readonly series: ServerSeries;
}

export type FleetChange =
  | { kind: 'server'; id: string }
  | { kind: 'sample'; id: string }
  | { kind: 'connection'; connected: boolean; since: number };

/**
 * The one interface the dashboard reads the fleet through. It is backed either in-process
 * (the embedded controller's registry) or by a running controller's Control API.
 */
export interface FleetSource {
  /** Where the controller listens, for the header. */
  readonly controllerAddress: string;
  readonly mode: 'embedded' | 'attached';
  /** Every known server, in a stable order (by name). */
  list(): readonly FleetServer[];
  get(id: string): FleetServer | undefined;
  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (change: FleetChange) => void): () => void;
}
