import { strategies, type MigrationStrategy } from '../../core/workload.js';
import { escapeTags, paint } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import { ChoiceList } from './choice-list.js';
import type { Flow, Step } from './flow.js';
import { Preflight } from './preflight.js';
import { routeLine, STRATEGY_HELP, workloadLine } from './summary.js';

const NAME = 11;

/** How to move it: checkpoint, restart or freeze; the workload's own strategy comes first selected. */
export class PickStrategy implements Step {
  readonly name = 'strategy' as const;
  private readonly list = new ChoiceList<string>();
  private readonly preferred: string;

  constructor(
    private readonly flow: Flow,
    planned: MigrationStrategy,
  ) {
    this.preferred = strategies.name(flow.choice.strategy ?? planned);
    this.list.set(strategies.all, (name) => name === this.preferred);
  }

  context(): 'wizard' {
    return 'wizard';
  }

  lines(width: number, rows: number): string[] {
    const { look, source, choice } = this.flow;
    const supported = source.get(choice.target?.serverId ?? '')?.server.capabilities?.migrationStrategies;
    const items = this.list.lines(rows, look, (name) => {
      const notes = [
        name === strategies.name(choice.workload?.spec.strategy ?? 0) ? "the workload's own" : '',
        supported && !supported.includes(name) ? 'the target does not support it' : '',
      ].filter(Boolean);
      return `${escapeTags(name.padEnd(NAME))}${paint(look.theme.muted, escapeTags(notes.join(', ')))}`;
    });
    const what = wrapText(STRATEGY_HELP[this.list.selected() ?? ''] ?? '', Math.max(10, width - 2));
    return [
      workloadLine(this.flow),
      routeLine(this.flow),
      '',
      'How should it move?',
      ...items,
      '',
      ...what.map((l) => paint(look.theme.muted, escapeTags(l))),
    ];
  }

  move(delta: number): void {
    this.list.move(delta);
  }

  next(): void {
    this.flow.choice.strategy = strategies.value(this.list.selected() ?? this.preferred, 'strategy');
    this.flow.push(new Preflight(this.flow));
  }
}
