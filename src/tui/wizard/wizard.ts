import type { KnownWorkload } from '../../core/domain.js';
import type blessed from 'blessed';
import { errorMessage } from '../../core/errors.js';
import type { FleetChange, FleetSource } from '../../core/fleet.js';
import type { WizardContext } from '../keymap.js';
import type { Look } from '../render/look.js';
import { escapeTags, paint } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import type { Part } from '../scheduler.js';
import type { Rect } from '../widgets/rect.js';
import { TextBox } from '../widgets/text-box.js';
import type { Choice, Flow, Step, StepName } from './flow.js';
import { PickTarget } from './pick-target.js';
import { PickWorkload } from './pick-workload.js';

const MAX_WIDTH = 100;
const MAX_HEIGHT = 24;
const TRAIL: readonly StepName[] = ['workload', 'target', 'strategy', 'preflight', 'confirm', 'progress', 'result'];

export interface WizardDeps {
  parent: blessed.Widgets.Node;
  source: FleetSource;
  look: Look;
  now(): number;
  /** The size of `parent` in cells. */
  size(): { width: number; height: number };
  /** Something on the modal changed: draw it at the next frame. */
  changed(): void;
  ask(question: string, onYes: () => void): void;
}

/**
 * The migration wizard: a modal of steps, workload → target → strategy → preflight → confirm
 * → progress → result. Esc steps back; during progress it only hides the modal, since the
 * migration goes on without it. Errors of the fleet's actions are shown here, never thrown.
 */
export class Wizard implements Part {
  private readonly box: TextBox;
  private steps: Step[] = [];
  private shown = false;
  private busy: string | undefined;
  private error: string | undefined;
  private note: string | undefined;
  /** Bumped whenever the step in front changes, so a late answer for an old step is dropped. */
  private generation = 0;
  /** What this run of the wizard has chosen, and what its steps may ask of it. */
  private flow: Flow;

  constructor(private readonly deps: WizardDeps) {
    this.box = new TextBox(deps.parent, deps.look, true);
    this.flow = this.newFlow({});
  }

  get visible(): boolean {
    return this.shown;
  }

  /** Opens on the target step for `workload`, or on a list of workloads to pick from. */
  open(workload?: KnownWorkload): void {
    this.flow = this.newFlow(workload ? { workload } : {});
    this.steps = [];
    this.shown = true;
    this.push(workload ? new PickTarget(this.flow) : new PickWorkload(this.flow));
  }

  context(): WizardContext {
    return this.top()?.context() ?? 'wizard';
  }

  move(delta: number): void {
    this.note = undefined;
    this.top()?.move?.(delta);
    this.changed();
  }

  next(): void {
    this.note = undefined;
    this.top()?.next?.();
    this.changed();
  }

  cancel(): void {
    this.top()?.cancel?.();
    this.changed();
  }

  precopy(): void {
    this.note = undefined;
    this.top()?.precopy?.();
    this.changed();
  }

  /** Esc: one step back; closes on the first step and after the result; hides during progress. */
  back(): void {
    const top = this.top();
    if (top?.name === 'progress' || top?.name === 'result' || this.steps.length <= 1) {
      this.shown = false;
      this.generation++;
    } else {
      this.steps.pop();
      this.settle();
    }
    this.changed();
  }

  /** Forwards a fleet change to the step in front (the progress step watches its migration). */
  observe(change: FleetChange): void {
    if (change.kind !== 'migration' || change.id !== this.flow.choice.migrationId) return;
    const m = this.deps.source.migrations().find((x) => x.id === change.id);
    if (m) for (const step of this.steps) step.observe?.(m);
  }

  update(): void {
    if (!this.shown) {
      this.box.hide();
      return;
    }
    const rect = this.rect();
    const width = rect.width - 4;
    const status = this.statusLines(width);
    const rows = rect.height - 2 - 2 - (status.length > 0 ? status.length + 1 : 0);
    const body = (this.top()?.lines(width, rows) ?? []).slice(0, rows);
    const padding = Array.from({ length: Math.max(0, rows - body.length) }, () => '');
    const lines = [this.trail(), '', ...body, ...(status.length > 0 ? [...padding, '', ...status] : [])];
    const name = this.flow.choice.workload?.spec.name;
    this.box.show(rect, name ? `Migrate ${name}` : 'Migrate a workload', lines);
  }

  private newFlow(choice: Choice): Flow {
    const { source, look, now, ask } = this.deps;
    return {
      source,
      look,
      now,
      choice,
      ask,
      push: (step) => this.push(step),
      run: (doing, task, then) => this.run(doing, task, then),
      say: (message) => {
        this.note = message;
      },
    };
  }

  private top(): Step | undefined {
    return this.steps[this.steps.length - 1];
  }

  private push(step: Step): void {
    this.steps.push(step);
    this.settle();
    step.start?.();
  }

  /** A new step in front: forget the old one's pending answer and messages. */
  private settle(): void {
    this.generation++;
    this.busy = undefined;
    this.error = undefined;
    this.note = undefined;
  }

  private run<T>(doing: string, task: () => Promise<T>, then: (value: T) => void): void {
    const generation = this.generation;
    this.busy = doing;
    this.error = undefined;
    Promise.resolve()
      .then(task)
      .then(
        (value) => {
          if (generation !== this.generation) return;
          this.busy = undefined;
          then(value);
        },
        (err: unknown) => {
          if (generation !== this.generation) return;
          this.busy = undefined;
          this.error = errorMessage(err);
        },
      )
      .finally(() => this.changed());
  }

  private changed(): void {
    this.deps.changed();
  }

  private rect(): Rect {
    const { width, height } = this.deps.size();
    const w = Math.min(width, MAX_WIDTH);
    const h = Math.min(height, MAX_HEIGHT);
    return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
  }

  /** "target › ▶ strategy › preflight › …": the step in front marked and inverse, those ahead dimmed. */
  private trail(): string {
    const { theme, glyphs } = this.deps.look;
    const names = TRAIL.filter((n) => n !== 'workload' || this.steps[0]?.name === 'workload');
    const at = names.indexOf(this.top()?.name ?? 'target');
    // In ASCII the marker and the separator are both ">": brackets tell them apart.
    const current = (n: string): string =>
      `{inverse}{bold}${glyphs.unicode ? `${glyphs.selected} ${n}` : `[${n}]`}{/bold}{/inverse}`;
    return names.map((n, i) => (i === at ? current(n) : i < at ? n : paint(theme.muted, n))).join(` ${glyphs.crumb} `);
  }

  private statusLines(width: number): string[] {
    const { theme, glyphs } = this.deps.look;
    const wrap = (text: string, colour: string): string[] =>
      wrapText(text, width).map((l) => paint(colour, escapeTags(l)));
    if (this.error) return wrap(`${glyphs.fail} ${this.error}`, theme.levels.crit);
    if (this.busy) return wrap(`${glyphs.live} ${this.busy}${glyphs.ellipsis}`, theme.muted);
    if (this.note) return wrap(this.note, theme.levels.warn);
    return [];
  }
}
