import type { FleetSource } from '../core/fleet.js';
import { isLive } from '../core/format/words.js';
import { workloadStates, type Workload } from '../core/workload.js';
import { exitNote } from './views/workload-columns.js';
import type { LogFollow } from './widgets/logs-pane.js';

export interface WorkloadKeysDeps {
  source: FleetSource;
  /** A yes/no question; `onYes` runs on y. */
  ask(text: string, onYes: () => void): void;
  /** A line for the footer. */
  notify(text: string): void;
  /** Runs an action and reports how it ended in the footer. */
  report<T>(action: () => Promise<T>, ok: (value: T) => string): void;
  /** Opens the logs pane on a stream. */
  openLogs(title: string, follow: LogFollow): void;
}


/** "exited 3", "exited SIGKILL", "running": a workload's state with how it ended. */
export function stateWithExit(w: Workload): string {
  const note = exitNote(w);
  return note ? `${workloadStates.name(w.state)} ${note}` : workloadStates.name(w.state);
}

/**
 * What the workload keys of the Workloads view and a server's workloads pane do: t tails the
 * output, s stops (asks when it runs), C-r restarts (asks when it runs), C-d removes (asks).
 */
export class WorkloadKeys {
  constructor(private readonly deps: WorkloadKeysDeps) {}

  logs(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec!.name;
    this.deps.openLogs(`Logs: ${n} on ${this.serverOf(w)}`, (sink) => this.deps.source.actions.followLogs(n, sink));
  }

  stop(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec!.name;
    const stop = () => this.deps.report(() => this.deps.source.actions.stopWorkload(n), (done) => `${n}: ${stateWithExit(done)}.`);
    if (!isLive(w)) {
      this.deps.notify(`${n} is already ${stateWithExit(w)}: C-r starts it again, C-d removes it.`);
      return;
    }
    this.deps.ask(`Stop ${n} on ${this.serverOf(w)}? It gets SIGTERM (then SIGKILL) and is not restarted; C-r starts it again.`, stop);
  }

  restart(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec!.name;
    const restart = () => this.deps.report(() => this.deps.source.actions.restartWorkload(n), (done) => `${n} restarted on ${this.serverOf(done)} (pid ${done.pid}).`);
    if (isLive(w)) this.deps.ask(`Restart ${n} on ${this.serverOf(w)}? It is stopped first (SIGTERM, then SIGKILL).`, restart);
    else restart();
  }

  remove(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec!.name;
    const running = isLive(w) ? ' It is stopped first.' : '';
    this.deps.ask(`Remove ${n} from ${this.serverOf(w)}? Its spec and state directory are deleted there.${running}`, () => {
      this.deps.report(() => this.deps.source.actions.removeWorkload(n), () => `${n} removed.`);
    });
  }

  private find(name: string | undefined): Workload | undefined {
    const w = name === undefined ? undefined : this.deps.source.workloads().find((x) => x.spec?.name === name);
    if (!w) this.deps.notify('No workload selected: j/k choose one (w lists them all).');
    return w;
  }

  private serverOf(w: Workload): string {
    return this.deps.source.get(w.serverId)?.server.name ?? (w.serverId || '?');
  }
}
