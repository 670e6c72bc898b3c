import { MigrationPhase, migrationDone, phaseWords, workloadStates, type WorkloadState } from '../../core/workload.js';
import type { Colour } from '../theme.js';
import type { Look } from './look.js';

/** A state as a symbol and its word, so it reads without colour, and the colour to paint it. */
export interface Marked {
  text: string;
  colour: Colour;
}

export function workloadMark(state: WorkloadState, look: Look): Marked {
  const { theme, glyphs } = look;
  const word = workloadStates.name(state);
  const colours: Record<string, Colour> = {
    running: theme.states.online,
    paused: theme.states.degraded,
    backoff: theme.levels.warn,
    exited: theme.states.disconnected,
    checkpointing: theme.states.draining,
    checkpointed: theme.states.cordoned,
  };
  return {
    text: `${glyphs.workloads[word] ?? glyphs.workloads.unknown} ${word}`,
    colour: colours[word] ?? theme.states.unknown,
  };
}

/** The symbol of a migration phase: done, rolled back, failed, or under way. */
function phaseSymbol(phase: MigrationPhase, look: Look): string {
  const { glyphs } = look;
  if (phase === MigrationPhase.MIGRATION_PHASE_COMMITTED) return glyphs.ok;
  if (phase === MigrationPhase.MIGRATION_PHASE_FAILED) return glyphs.fail;
  if (phase === MigrationPhase.MIGRATION_PHASE_ROLLING_BACK || phase === MigrationPhase.MIGRATION_PHASE_ROLLED_BACK)
    return glyphs.undo;
  return glyphs.live;
}

export function phaseMark(phase: MigrationPhase, look: Look): Marked {
  const { theme } = look;
  const colour =
    phase === MigrationPhase.MIGRATION_PHASE_COMMITTED
      ? theme.levels.ok
      : phase === MigrationPhase.MIGRATION_PHASE_FAILED
        ? theme.levels.crit
        : migrationDone(phase) || phase === MigrationPhase.MIGRATION_PHASE_ROLLING_BACK
          ? theme.levels.warn
          : theme.states.draining;
  return { text: `${phaseSymbol(phase, look)} ${phaseWords(phase)}`, colour };
}
