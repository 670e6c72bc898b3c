import { PRECOPY_DEFAULT_WORDS } from '../../core/format/migration.js';
import { MigrationStrategy, strategies } from '../../core/workload.js';
import { serverName } from '../render/migration.js';
import { escapeTags, paint } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import type { Flow, Step } from './flow.js';
import { Progress } from './progress.js';
import { STRATEGY_HELP } from './summary.js';

const KEY = 10;

/** Pre-copy as the p key cycles it: unset (the controller decides), asked for, refused. */
const PRECOPY_CYCLE: readonly (boolean | undefined)[] = [undefined, true, false];

const PRECOPY_HELP = {
  auto: `auto: ${PRECOPY_DEFAULT_WORDS}`,
  on: 'on: copied while it runs; only what changed moves after the save',
  off: 'off: the whole state moves after the save',
} as const;

/** The last look before it starts: what moves where, how, and what that costs. */
export class Confirm implements Step {
  readonly name = 'confirm' as const;
  private starting = false;

  constructor(private readonly flow: Flow) {}

  context(): 'confirm' {
    return 'confirm';
  }

  lines(width: number): string[] {
    const { choice, look, source } = this.flow;
    const { theme } = look;
    const strategy = strategies.name(choice.strategy ?? 0);
    const row = (key: string, value: string): string => `${paint(theme.muted, key.padEnd(KEY))}${escapeTags(value)}`;
    const wrapped = (text: string) => wrapText(text, Math.max(10, width - KEY - 2));
    const how = wrapped(STRATEGY_HELP[strategy] ?? '');
    const precopy = this.appliesPrecopy()
      ? wrapped(`${PRECOPY_HELP[precopyWord(choice.precopy)]} (p changes)`).map((l, i) => row(i ? '' : 'pre-copy', l))
      : [`${paint(theme.muted, 'pre-copy'.padEnd(KEY))}${paint(theme.muted, `not for the ${strategy} strategy`)}`];
    return [
      '{bold}Start this migration?{/bold}',
      '',
      row('workload', choice.workload?.spec.name ?? ''),
      row('from', serverName(source, choice.workload?.serverId ?? '')),
      row('to', `${choice.target?.name ?? ''} (score ${choice.target?.score ?? 0})`),
      row('strategy', strategy),
      ...how.map((l) => row('', l)),
      ...precopy,
    ];
  }

  /** p: auto → on → off → auto. */
  precopy(): void {
    const { choice } = this.flow;
    if (!this.appliesPrecopy()) {
      this.flow.say(`Pre-copy applies to the checkpoint strategy only, not ${strategies.name(choice.strategy ?? 0)}.`);
      return;
    }
    choice.precopy = PRECOPY_CYCLE[(PRECOPY_CYCLE.indexOf(choice.precopy) + 1) % PRECOPY_CYCLE.length];
  }

  next(): void {
    if (this.starting) return;
    const { choice, source } = this.flow;
    this.starting = true;
    const name = choice.workload?.spec.name ?? '';
    const target = choice.target?.serverId ?? '';
    const precopy = this.appliesPrecopy() ? choice.precopy : undefined;
    this.flow.run(
      `starting the migration of ${name}`,
      async () => {
        try {
          return await source.actions.startMigration(name, target, choice.strategy ?? 0, { precopy });
        } finally {
          this.starting = false;
        }
      },
      (migration) => {
        choice.migrationId = migration.id;
        this.flow.push(new Progress(this.flow));
      },
    );
  }

  private appliesPrecopy(): boolean {
    return this.flow.choice.strategy === MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT;
  }
}

function precopyWord(precopy: boolean | undefined): keyof typeof PRECOPY_HELP {
  return precopy === undefined ? 'auto' : precopy ? 'on' : 'off';
}
