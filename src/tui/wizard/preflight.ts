import type { PreflightCheck } from '../../core/workload.js';
import { preflightLines } from '../render/migration.js';
import { paint } from '../render/paint.js';
import { Confirm } from './confirm.js';
import type { Flow, Step } from './flow.js';
import { routeLine, workloadLine } from './summary.js';

/** The coordinator's checks against the chosen target and strategy; any failure blocks the move. */
export class Preflight implements Step {
  readonly name = 'preflight' as const;
  private checks: readonly PreflightCheck[] | undefined;

  constructor(private readonly flow: Flow) {}

  start(): void {
    const { flow } = this;
    const { choice, source } = flow;
    const name = choice.workload?.spec.name ?? '';
    flow.run(
      'running the preflight checks',
      () => source.actions.planMigration(name, choice.target?.serverId, choice.strategy),
      (plan) => {
        this.checks = plan.preflight;
      },
    );
  }

  context(): 'preflight' {
    return 'preflight';
  }

  lines(): string[] {
    const { look } = this.flow;
    const head = [workloadLine(this.flow), routeLine(this.flow), '', 'Preflight checks:'];
    if (!this.checks) return head;
    return [...head, ...preflightLines(this.checks, look), '', this.verdict()];
  }

  next(): void {
    const failed = this.failed();
    if (this.checks === undefined) this.flow.say('The checks are still running.');
    else if (this.checks.length === 0)
      this.flow.say('No checks came back, so the move cannot be confirmed: Esc and try again.');
    else if (failed.length > 0)
      this.flow.say(
        `Cannot go on: ${failed.map((c) => c.name).join(', ')} failed. Esc to choose another target or strategy.`,
      );
    else this.flow.push(new Confirm(this.flow));
  }

  private failed(): PreflightCheck[] {
    return (this.checks ?? []).filter((c) => !c.ok);
  }

  private verdict(): string {
    const { theme, glyphs } = this.flow.look;
    const failed = this.failed();
    if (this.checks?.length === 0)
      return paint(theme.levels.crit, `${glyphs.fail} No checks came back: confirming is disabled.`);
    if (failed.length === 0) return paint(theme.levels.ok, `${glyphs.ok} Every check passed: Enter to confirm.`);
    const names = failed.map((c) => c.name).join(', ');
    return paint(
      theme.levels.crit,
      `${glyphs.fail} ${failed.length} check${failed.length > 1 ? 's' : ''} failed (${names}): confirming is disabled.`,
    );
  }
}
