import type { KnownWorkload } from '../core/domain.js';
import { isLive } from '../core/format/words.js';
import { workloadStates, type Workload } from '../core/workload.js';
import type { BindingSpec, KeyActions, KeyContext } from './keymap.js';
import type { View, ViewUi } from './views/view.js';
import { exitNote } from './views/workload-columns.js';

export type WorkloadKeysDeps = Pick<ViewUi, 'source' | 'ask' | 'notify' | 'report' | 'openLogs'>;

/** "exited 3", "exited SIGKILL", "running": a workload's state with how it ended. */
export function stateWithExit(w: Workload): string {
  const note = exitNote(w);
  return note ? `${workloadStates.name(w.state)} ${note}` : workloadStates.name(w.state);
}

/**
 * What the workload keys of the Workloads view and a server's workloads pane do: t tails the
 * output, s stops (asks when it runs), C-r restarts (asks when it runs), C-d removes (asks).
 */
class WorkloadKeys {
  constructor(private readonly deps: WorkloadKeysDeps) {}

  logs(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec.name;
    this.deps.openLogs(`Logs: ${n} on ${this.serverOf(w)}`, (sink) => this.deps.source.actions.followLogs(n, sink));
  }

  stop(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec.name;
    const stop = () =>
      this.deps.report(
        () => this.deps.source.actions.stopWorkload(n),
        (done) => `${n}: ${stateWithExit(done)}.`,
      );
    if (!isLive(w)) {
      this.deps.notify(`${n} is already ${stateWithExit(w)}: C-r starts it again, C-d removes it.`);
      return;
    }
    this.deps.ask(
      `Stop ${n} on ${this.serverOf(w)}? It gets SIGTERM (then SIGKILL) and is not restarted; C-r starts it again.`,
      stop,
    );
  }

  restart(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec.name;
    const restart = () =>
      this.deps.report(
        () => this.deps.source.actions.restartWorkload(n),
        (done) => `${n} restarted on ${this.serverOf(done)} (pid ${done.pid}).`,
      );
    if (isLive(w))
      this.deps.ask(`Restart ${n} on ${this.serverOf(w)}? It is stopped first (SIGTERM, then SIGKILL).`, restart);
    else restart();
  }

  remove(name: string | undefined): void {
    const w = this.find(name);
    if (!w) return;
    const n = w.spec.name;
    const running = isLive(w) ? ' It is stopped first.' : '';
    this.deps.ask(
      `Remove ${n} from ${this.serverOf(w)}? Its spec and state directory are deleted there.${running}`,
      () => {
        this.deps.report(
          () => this.deps.source.actions.removeWorkload(n),
          () => `${n} removed.`,
        );
      },
    );
  }

  private find(name: string | undefined): KnownWorkload | undefined {
    const w = name === undefined ? undefined : this.deps.source.workloads().find((x) => x.spec.name === name);
    if (!w) this.deps.notify('No workload selected: j/k choose one (w lists them all).');
    return w;
  }

  private serverOf(w: Workload): string {
    return this.deps.source.get(w.serverId)?.server.name ?? (w.serverId || '?');
  }
}

/** The workload a view has selected (the Workloads view, a server's workloads pane), if any. */
export type PickWorkload = (view: View) => string | undefined;

/**
 * The keys of a view that lists workloads (`where`): v migrates the selected one (`migrateToo`:
 * also where the view only shows them), t tails it, s stops it, C-r restarts it, C-d removes it.
 */
export function workloadBindings(
  where: readonly KeyContext[],
  migrateToo: readonly KeyContext[],
  pick: PickWorkload,
): BindingSpec[] {
  const on = (act: (keys: WorkloadKeys, name: string | undefined) => void) => (a: KeyActions) =>
    act(new WorkloadKeys(a.ui), pick(a.view));
  return [
    {
      name: 'down',
      keys: ['j', 'down'],
      description: 'select the workload below',
      when: where,
      action: (a) => a.move(0, 1),
    },
    {
      name: 'up',
      keys: ['k', 'up'],
      description: 'select the workload above',
      when: where,
      action: (a) => a.move(0, -1),
    },
    {
      name: 'migrate',
      keys: ['v'],
      description: 'move (migrate) the selected workload (the first, on a server without a choice)',
      when: [...migrateToo, ...where],
      hint: 'migrate',
      mutates: true,
      action: (a) => migrate(a.ui, pick(a.view)),
    },
    {
      name: 'logs',
      keys: ['t'],
      description: "tail the selected workload's output in a pane that follows it",
      when: where,
      hint: 'logs',
      action: on((k, n) => k.logs(n)),
    },
    {
      name: 'stop-workload',
      keys: ['s'],
      description: 'stop the selected workload (asks first when it runs)',
      when: where,
      hint: 'stop',
      mutates: true,
      action: on((k, n) => k.stop(n)),
    },
    {
      name: 'restart-workload',
      keys: ['C-r'],
      description: 'restart the selected workload (stops it first when it runs)',
      when: where,
      mutates: true,
      action: on((k, n) => k.restart(n)),
    },
    {
      name: 'remove-workload',
      keys: ['C-d'],
      description: 'stop and remove the selected workload, its state directory too (asks first)',
      when: where,
      mutates: true,
      action: on((k, n) => k.remove(n)),
    },
  ];
}

function migrate(ui: ViewUi, name: string | undefined): void {
  if (name === undefined) ui.notify('No workload here to migrate: select one first (w lists them all), then v.');
  else ui.openWizard(name);
}
