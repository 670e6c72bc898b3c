import type { MigrationPlan, TargetFit } from '../../core/fleet.js';
import { SCORE_HELP } from '../../core/target-score.js';
import { fit, padLeft } from '../render/format.js';
import { escapeTags, paint } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import { ChoiceList } from './choice-list.js';
import type { Flow, Step } from './flow.js';
import { PickStrategy } from './pick-strategy.js';
import { workloadLine } from './summary.js';

const NAME = 16;
/** "score 100". */
const SCORE = 9;

/**
 * Where to: the hosts the coordinator ranked, best score first (what it means is said under them). A host that cannot take the
 * workload is shown dimmed with its reason, and cannot be selected.
 */
export class PickTarget implements Step {
  readonly name = 'target' as const;
  private readonly list = new ChoiceList<TargetFit>((t) => t.eligible);
  private plan: MigrationPlan | undefined;

  constructor(private readonly flow: Flow) {}

  start(): void {
    const { flow } = this;
    const name = flow.choice.workload?.spec.name ?? '';
    flow.run(
      `ranking the hosts for ${name}`,
      () => flow.source.actions.planMigration(name),
      (plan) => {
        this.plan = plan;
        this.list.set(plan.targets, (t) => t.serverId === flow.choice.target?.serverId);
      },
    );
  }

  context(): 'wizard' {
    return 'wizard';
  }

  lines(width: number, rows: number): string[] {
    const { look } = this.flow;
    const { glyphs, theme } = look;
    const head = [workloadLine(this.flow), '', 'Move it to (best score first):'];
    if (!this.plan) return head;
    if (this.plan.targets.length === 0) return [...head, paint(theme.muted, 'There is no other host in the fleet.')];
    const reasonWidth = Math.max(10, width - 2 - NAME - SCORE - 2);
    // The score is explained where it is shown: the same number `yard migrate --dry-run` prints.
    const legend = wrapText(SCORE_HELP, Math.max(1, width - 2)).map((l) => paint(theme.muted, escapeTags(l)));
    const items = this.list.lines(rows - head.length - 2 - legend.length, look, (t) => {
      const name = escapeTags(fit(t.name, NAME, glyphs.ellipsis));
      const reasons = escapeTags(fit(t.reasons.join(` ${glyphs.sep} `), reasonWidth, glyphs.ellipsis).trimEnd());
      if (!t.eligible) return `${name} ${padLeft(glyphs.fail, SCORE)}  ${reasons}`;
      return `${name} ${padLeft(`score ${t.score}`, SCORE)}  ${reasons}`;
    });
    const eligible = this.plan.targets.filter((t) => t.eligible).length;
    const verdict =
      eligible === 0
        ? paint(theme.levels.crit, `${glyphs.fail} No host can take it now (reasons above). Esc closes.`)
        : paint(theme.muted, `${eligible} of ${this.plan.targets.length} hosts can take it.`);
    return [...head, ...items, '', verdict, ...legend];
  }

  move(delta: number): void {
    this.list.move(delta);
  }

  next(): void {
    const target = this.list.selected();
    if (!target) {
      this.flow.say(this.plan ? 'No host can take this workload: Esc goes back.' : 'Still ranking the hosts.');
      return;
    }
    this.flow.choice.target = target;
    this.flow.push(new PickStrategy(this.flow, this.plan!.strategy));
  }
}
