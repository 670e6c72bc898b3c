import type { RouteState, RouteTable } from '../core/domain.js';
import { ROUTE_DEFAULTS, stepsFrom, versionShare } from '../core/route.js';
import { settingText } from '../core/format/time.js';
import { parseWeight } from '../core/schema/weights.js';
import { endpointLabel, versionWeights } from './render/route.js';
import type { RouteSelection, ViewUi } from './views/view.js';

/** A short answer typed in the footer ("weight of green on web (0-100, now 20): 3_"). */
export interface InputPrompt {
  label: string;
  text: string;
  /** Enter: what was typed. */
  accept(text: string): void;
}

/** The most characters an answer takes: a weight is at most 3 digits, and typing stays bounded. */
export const INPUT_MAX = 8;

export type RouteKeysDeps = Pick<ViewUi, 'source' | 'ask' | 'input' | 'notify' | 'report'>;

/** "blue 80, green 20 (rev 4)": a route's weights as the footer reports them. */
function weightsText(s: RouteState): string {
  const weights = versionWeights(s)
    .map((v) => `${v.version} ${v.weight}`)
    .join(', ');
  return `${weights} (rev ${s.route.revision})`;
}

interface VersionTarget {
  service: string;
  version: string;
  /** The version's weight in the table now. */
  weight: number;
  table: RouteTable;
}

/**
 * What the route keys of the Routes view do: = sets a version's weight (asks for the number,
 * then to confirm), p promotes a version, u rolls a service back (undo), d drains a backend. Each
 * asks first and reports in the footer how it ended.
 */
export class RouteKeys {
  constructor(private readonly deps: RouteKeysDeps) {}

  weight(sel: RouteSelection | undefined): void {
    const target = this.versionOf(sel, '= sets the weight of its version');
    if (!target) return;
    const { service, version, weight } = target;
    this.deps.input({
      label: `weight of ${version} on ${service} (0-100, now ${weight})`,
      text: '',
      accept: (text) => {
        const n = parseWeight(text);
        if (n === undefined) {
          this.deps.notify(`The weight must be a whole number from 0 to 100, not "${text}": = asks again.`);
          return;
        }
        this.deps.ask(`Set the weight of ${version} on ${service} to ${n} (now ${weight})?`, () => {
          this.deps.report(
            () => this.deps.source.actions.setRouteWeights(service, { [version]: n }),
            (s) => `${service}: ${weightsText(s)}`,
          );
        });
      },
    });
  }

  promote(sel: RouteSelection | undefined): void {
    const target = this.versionOf(sel, 'p promotes its version');
    if (!target) return;
    const { service, version, table } = target;
    // The controller skips steps below the version's share now; the question says the same.
    const steps = stepsFrom(ROUTE_DEFAULTS.promoteSteps, versionShare(table, version));
    const intervalMs = ROUTE_DEFAULTS.promoteIntervalMs;
    const every = settingText(intervalMs);
    this.deps.ask(
      `Promote ${version} on ${service} in steps ${steps.join(',')} every ${every}? Each step waits on ${version}'s health; a failing check puts back the table of now.`,
      () => {
        this.deps.notify(`Promoting ${version} on ${service}: its line shows each step.`);
        this.deps.report(
          () => this.deps.source.actions.promoteRoute(service, version, { steps, intervalMs }),
          (message) => `${service}: ${message}`,
        );
      },
    );
  }

  rollback(sel: RouteSelection | undefined): void {
    if (!sel) {
      this.none();
      return;
    }
    const route = sel.route.status.route;
    const service = route.name;
    const last = route.updatedBy ? `rev ${route.revision}, by ${route.updatedBy}` : `rev ${route.revision}`;
    this.deps.ask(`Roll ${service} back to its table before the last change (${last})?`, () => {
      this.deps.report(
        () => this.deps.source.actions.rollbackRoute(service),
        (s) => `${service} rolled back: ${weightsText(s)}`,
      );
    });
  }

  drain(sel: RouteSelection | undefined): void {
    if (!sel) {
      this.none();
      return;
    }
    const service = sel.route.status.route.name;
    const backend = sel.endpoint;
    if (!backend) {
      this.deps.notify(`Select a backend of ${service} (j) first: d drains it.`);
      return;
    }
    const ep = backend.endpoint;
    const lasts = settingText(
      ep.drainTimeoutMs || sel.route.status.route.drainTimeoutMs || ROUTE_DEFAULTS.drainTimeoutMs,
    );
    const label = endpointLabel(backend, this.deps.source);
    this.deps.ask(`Drain ${label} on ${service}? It takes no new connections; open ones may last ${lasts}.`, () => {
      this.deps.report(
        () => this.deps.source.actions.drainBackend(service, ep.backend),
        (s) => `Draining ${ep.backend} on ${service}: ${weightsText(s)}`,
      );
    });
  }

  /** The version of the selected backend, or undefined after saying why there is none. */
  private versionOf(sel: RouteSelection | undefined, what: string): VersionTarget | undefined {
    if (!sel) {
      this.none();
      return undefined;
    }
    const service = sel.route.status.route.name;
    if (!sel.endpoint) {
      this.deps.notify(`Select a backend of ${service} (j) first: ${what}.`);
      return undefined;
    }
    const ep = sel.endpoint.endpoint;
    if (!ep.version) {
      this.deps.notify(
        `${ep.backend} on ${service} has no version label, and weights go by version: give it one in the route file.`,
      );
      return undefined;
    }
    const weight = versionWeights(sel.route.status).find((v) => v.version === ep.version)?.weight ?? ep.weight;
    return { service, version: ep.version, weight, table: sel.route.status.route };
  }

  private none(): void {
    this.deps.notify('No route here: `yard route apply -f web.yaml` creates one.');
  }
}
