import { strategies } from '../../core/workload.js';
import { serverName } from '../render/migration.js';
import { escapeTags, paint } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import type { Flow, Step } from './flow.js';
import { Progress } from './progress.js';
import { STRATEGY_HELP } from './summary.js';

const KEY = 10;

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
    const how = wrapText(STRATEGY_HELP[strategy] ?? '', Math.max(10, width - KEY - 2));
    return [
      '{bold}Start this migration?{/bold}',
      '',
      row('workload', choice.workload?.spec.name ?? ''),
      row('from', serverName(source, choice.workload?.serverId ?? '')),
      row('to', `${choice.target?.name ?? ''} (score ${choice.target?.score ?? 0})`),
      row('strategy', strategy),
      ...how.map((l) => row('', l)),
    ];
  }

  next(): void {
    if (this.starting) return;
    const { choice, source } = this.flow;
    this.starting = true;
    const name = choice.workload?.spec.name ?? '';
    const target = choice.target?.serverId ?? '';
    this.flow.run(
      `starting the migration of ${name}`,
      async () => {
        try {
          return await source.actions.startMigration(name, target, choice.strategy ?? 0);
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
}
