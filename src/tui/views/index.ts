import { FleetView } from './fleet.js';
import { ServerView } from './server.js';
import type { View, ViewContext, ViewName } from './view.js';

export type { ViewName };

export interface ViewEntry {
  readonly title: string;
  readonly description: string;
  readonly create: (ctx: ViewContext) => View;
}

/** The one list of views: the dashboard builds them from here, help lists them. */
export const VIEWS: Readonly<Record<ViewName, ViewEntry>> = {
  fleet: { title: 'Fleet', description: 'every server as a card: state, CPU, memory, network, GPUs', create: (ctx) => new FleetView(ctx) },
  server: { title: 'Server', description: 'one server in detail: charts, GPUs, disks, cores, host info', create: (ctx) => new ServerView(ctx) },
};

export const VIEW_NAMES = Object.keys(VIEWS) as ViewName[];
