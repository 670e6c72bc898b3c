import type { KnownWorkload } from '../../core/domain.js';
import { strategies } from '../../core/workload.js';
import { fit } from '../render/format.js';
import { escapeTags, paint } from '../render/paint.js';
import { serverName } from '../render/migration.js';
import { workloadMark } from '../render/states.js';
import { ChoiceList } from './choice-list.js';
import type { Flow, Step } from './flow.js';
import { PickTarget } from './pick-target.js';

/** The first step when the wizard opens without a workload (`:migrate`): which one to move. */
export class PickWorkload implements Step {
  readonly name = 'workload' as const;
  private readonly list = new ChoiceList<KnownWorkload>();

  constructor(private readonly flow: Flow) {
    this.list.set(flow.source.workloads());
  }

  context(): 'wizard' {
    return 'wizard';
  }

  lines(width: number, rows: number): string[] {
    const { look, source } = this.flow;
    if (this.list.size === 0) return [paint(look.theme.muted, 'There are no workloads to migrate.')];
    const nameWidth = Math.max(12, width - 2 - 16 - 15 - 10 - 3);
    const items = this.list.lines(rows - 2, look, (w) => {
      const state = workloadMark(w.state, look);
      const cells = [
        fit(w.spec.name, nameWidth, look.glyphs.ellipsis),
        fit(serverName(source, w.serverId), 16, look.glyphs.ellipsis),
        fit(state.text, 15, look.glyphs.ellipsis),
        strategies.name(w.spec.strategy),
      ];
      return escapeTags(cells.join(' '));
    });
    return ['Which workload?', '', ...items];
  }

  move(delta: number): void {
    this.list.move(delta);
  }

  next(): void {
    const workload = this.list.selected();
    if (!workload) {
      this.flow.say('There is nothing to choose: Esc closes.');
      return;
    }
    this.flow.choice.workload = workload;
    this.flow.push(new PickTarget(this.flow));
  }
}
