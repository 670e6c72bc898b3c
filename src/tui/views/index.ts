import type { BindingSpec } from '../keymap.js';
import { workloadBindings } from '../workload-keys.js';
import { DEPLOYMENTS_KEYS, DeploymentsView } from './deployments.js';
import { EventsView, EVENTS_KEYS } from './events.js';
import { FLEET_KEYS, FleetView } from './fleet.js';
import { listBindings } from './list-view.js';
import { MIGRATIONS_KEYS, MigrationsView } from './migrations.js';
import { ROUTES_KEYS, RoutesView } from './routes.js';
import { SERVER_KEYS, ServerView } from './server.js';
import type { UiState, View, ViewContext } from './view.js';
import { routeTiles, WallPage, workloadTiles } from './wall-page.js';
import { WORKLOADS_KEYS, WorkloadsView } from './workloads.js';
import { serverBindings } from '../server-keys.js';

export interface ViewEntry {
  readonly title: string;
  readonly description: string;
  /** What `:NAME ARG` picks in the view, if it takes an argument (`:server gpu-01`). */
  readonly arg?: 'SERVER';
  /** The keys that show it from any view (blessed's spelling: "S-m" for M); they mean that in every view. */
  readonly keys?: readonly string[];
  readonly create: (ctx: ViewContext) => View;
}

/** Every view, by the name the registry lists it under, in the order help and `:` list them. */
export const VIEW_NAMES = ['fleet', 'server', 'workloads', 'migrations', 'routes', 'deployments', 'events'] as const;

export type ViewName = (typeof VIEW_NAMES)[number];

/** The one list of views: the dashboard builds them from here; help, the `:` command line and the wall list them. */
export const VIEWS: Readonly<Record<ViewName, ViewEntry>> = {
  fleet: {
    title: 'Fleet',
    keys: ['f', '1'],
    description: 'every server as a card: state, CPU, memory, network, GPUs',
    create: (ctx) => new FleetView(ctx),
  },
  server: {
    title: 'Server',
    arg: 'SERVER',
    description: 'one server in detail: charts, workloads, GPUs, disks, cores, host info',
    create: (ctx) => new ServerView(ctx),
  },
  workloads: {
    title: 'Workloads',
    keys: ['w', '2'],
    description: 'every workload in the fleet: where it runs, its state, CPU, memory, GPU memory',
    create: (ctx) =>
      ctx.wall ? new WallPage(ctx, workloadTiles, (c) => new WorkloadsView(c)) : new WorkloadsView(ctx),
  },
  migrations: {
    title: 'Migrations',
    keys: ['S-m', '3'],
    description: 'live migrations and their history: phase, progress, downtime, outcome',
    create: (ctx) => new MigrationsView(ctx),
  },
  routes: {
    title: 'Routes',
    keys: ['S-r', '4'],
    description: 'every service: where it listens, its backends with weights, health, connections and traffic',
    create: (ctx) => (ctx.wall ? new WallPage(ctx, routeTiles, (c) => new RoutesView(c)) : new RoutesView(ctx)),
  },
  deployments: {
    title: 'Deployments',
    keys: ['6'],
    description: 'every deployment: desired, running and healthy replicas, version, and where each replica runs',
    create: (ctx) => new DeploymentsView(ctx),
  },
  events: {
    title: 'Events',
    keys: ['e', '5'],
    description:
      'what happens as it happens, newest first: state changes, exits, migrations, route changes, audit entries',
    create: (ctx) => new EventsView(ctx),
  },
};

export function newUiState(): UiState {
  return {
    selectedId: undefined,
    selectedWorkload: undefined,
    selectedMigration: undefined,
    selectedRoute: undefined,
    selectedDeployment: undefined,
    filters: Object.fromEntries(VIEW_NAMES.map((name) => [name, ''])) as Record<ViewName, string>,
  };
}

/** Views a wall display can rotate through: every one that needs no selection. */
export const WALL_VIEWS: readonly ViewName[] = VIEW_NAMES.filter((name) => VIEWS[name].arg === undefined);

/** The workload a view has selected: the Workloads view's, or a server's workloads pane's (its first without focus). */
const selectedWorkload = (view: View): string | undefined =>
  view instanceof WorkloadsView || view instanceof ServerView ? view.selectedWorkload() : undefined;

/** The server a view has selected: the Fleet grid's card, or the one the server view shows. */
const selectedServer = (view: View): string | undefined =>
  view instanceof FleetView || view instanceof ServerView ? view.selectedServer() : undefined;

/**
 * Every view's keys, each declared beside its view; the keymap adds the global ones. Order
 * is the footer's: a view's own keys, then those it shares.
 */
export const VIEW_BINDINGS: readonly BindingSpec[] = [
  ...FLEET_KEYS,
  ...SERVER_KEYS,
  ...workloadBindings(['server-workloads', 'workloads'], ['server'], selectedWorkload),
  ...serverBindings(['fleet', 'server'], selectedServer),
  ...WORKLOADS_KEYS,
  ...MIGRATIONS_KEYS,
  ...ROUTES_KEYS,
  ...DEPLOYMENTS_KEYS,
  ...EVENTS_KEYS,
  ...listBindings(['workloads', 'migrations', 'routes', 'deployments', 'events']),
];
