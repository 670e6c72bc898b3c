import { drainPhases } from '../core/drain.js';
import type { FleetServer } from '../core/fleet.js';
import { isLive } from '../core/format/words.js';
import type { BindingSpec, KeyActions, KeyContext } from './keymap.js';
import type { View, ViewUi } from './views/view.js';

/** The server a view has selected (the Fleet grid's card, the server shown), if any. */
export type PickServer = (view: View) => string | undefined;

/** c cordons or uncordons the selected server, D drains it: each asks first. */
class ServerKeys {
  constructor(private readonly ui: ViewUi) {}

  cordon(fs: FleetServer): void {
    const { name, id, cordoned, drain } = fs.server;
    const { actions } = this.ui.source;
    if (drain && drainPhases.name(drain.phase) === 'draining') {
      this.ui.notify(`${name} is draining: uncordon it once the drain ends.`);
      return;
    }
    if (cordoned)
      this.ui.ask(`Uncordon ${name}? It takes new work again (migration targets, yard run).`, () =>
        this.ui.report(
          () => actions.cordonServer(id, false),
          () => `${name} uncordoned: it takes new work again.`,
        ),
      );
    else
      this.ui.ask(`Cordon ${name}? No new work lands on it; what runs there stays (D drains it).`, () =>
        this.ui.report(
          () => actions.cordonServer(id, true),
          () => `${name} cordoned: c again uncordons it.`,
        ),
      );
  }

  drain(fs: FleetServer): void {
    const { name, id, drain } = fs.server;
    if (drain && drainPhases.name(drain.phase) === 'draining') {
      this.ui.notify(`${name} is already draining: its card shows how far it got.`);
      return;
    }
    const live = this.ui.source.workloads().filter((w) => w.serverId === id && isLive(w)).length;
    this.ui.ask(
      `Drain ${name}? It is cordoned, and its ${live} workload${live === 1 ? '' : 's'} move to other servers (stateful ones with their checkpoint) within 10 minutes.`,
      () =>
        this.ui.report(
          () => this.ui.source.actions.drainServer(id),
          (d) => `Draining ${name}: ${d.workloads.length} workload${d.workloads.length === 1 ? '' : 's'} to move.`,
        ),
    );
  }
}

/** The keys of views that show one server or a grid of them (`where`). */
export function serverBindings(where: readonly KeyContext[], pick: PickServer): BindingSpec[] {
  const on = (act: (keys: ServerKeys, fs: FleetServer) => void) => (a: KeyActions) => {
    const id = pick(a.view);
    const fs = id === undefined ? undefined : a.ui.source.get(id);
    if (fs) act(new ServerKeys(a.ui), fs);
    else a.ui.notify('No server selected: the arrows choose one.');
  };
  return [
    {
      name: 'cordon',
      keys: ['c'],
      description: 'cordon the selected server (no new work lands on it), or uncordon it (asks first)',
      when: where,
      hint: 'cordon',
      mutates: true,
      action: on((k, fs) => k.cordon(fs)),
    },
    {
      name: 'drain',
      keys: ['S-d'],
      description: 'drain the selected server: cordon it and move its workloads off (asks first)',
      when: where,
      hint: 'drain',
      mutates: true,
      action: on((k, fs) => k.drain(fs)),
    },
  ];
}
