import type { KnownWorkload } from '../../core/domain.js';
import type { FleetSource, TargetFit } from '../../core/fleet.js';
import type { Migration, MigrationStrategy } from '../../core/workload.js';
import type { WizardContext } from '../keymap.js';
import type { Look } from '../render/look.js';

// What the wizard's steps share: the choices made so far and what a step may ask of the wizard.

export type StepName = 'workload' | 'target' | 'strategy' | 'preflight' | 'confirm' | 'progress' | 'result';

/** One screen of the wizard. */
export interface Step {
  readonly name: StepName;
  context(): WizardContext;
  /** Called once when the step comes in front: where it asks the fleet for what it shows. */
  start?(): void;
  /** The body, tagged, at most `rows` lines of `width` columns. */
  lines(width: number, rows: number): string[];
  move?(delta: number): void;
  /** Enter (y on the confirm step). */
  next?(): void;
  /** c on the progress step. */
  cancel?(): void;
  /** p on the confirm step: pre-copy auto → on → off. */
  precopy?(): void;
  /** A change of a migration, seen as it happens (frames may skip some). */
  observe?(migration: Migration): void;
}

export interface Choice {
  workload?: KnownWorkload;
  target?: TargetFit;
  strategy?: MigrationStrategy;
  /** Pre-copy asked for (checkpoint strategy); unset: the controller decides by the state dir's size. */
  precopy?: boolean;
  migrationId?: string;
}

export interface Flow {
  readonly source: FleetSource;
  readonly look: Look;
  readonly choice: Choice;
  now(): number;
  push(step: Step): void;
  /**
   * Runs an action of the fleet: says `doing` while it runs and shows its error in the modal
   * if it fails. `then` runs only while the step that asked is still the one in front.
   */
  run<T>(doing: string, task: () => Promise<T>, then: (value: T) => void): void;
  /** A yes/no question over the wizard. */
  ask(question: string, onYes: () => void): void;
  /** A line in the modal saying why a key did nothing. */
  say(message: string): void;
}
