import { bytesShort } from '../../core/format/bytes.js';
import { downtimeText, transferRate } from '../../core/format/migration.js';
import { agoText } from '../../core/format/time.js';
import type { FleetSource } from '../../core/fleet.js';
import { migrationDone, strategies, type Migration } from '../../core/workload.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { isTransferring, progressText, routeText } from '../render/migration.js';
import { phaseMark } from '../render/states.js';

export interface MigrationColumnsContext {
  source: FleetSource;
  look: Look;
  now(): number;
}

const PROGRESS = 10;

/** "128M/s": how fast the move after the save went, in a narrow column; nothing until it is known. */
function rateShort(bytesPerSec: number | undefined): string {
  return bytesPerSec === undefined ? '' : `${bytesShort(bytesPerSec)}/s`;
}

/**
 * The columns of the Migrations table, most important first when the terminal is narrow. The
 * transfer column shows the bar while bytes move (a pre-copy round, the transfer) and how fast
 * the move after the save went once it has.
 */
export function migrationColumns(c: MigrationColumnsContext): Column<Migration>[] {
  const { glyphs, theme } = c.look;
  const u = glyphs.unknown;
  return [
    { title: 'ID', width: 8, priority: 4, cell: (m) => m.id.slice(0, 8) },
    { title: 'WORKLOAD', width: 13, flex: 1, priority: 1, cell: (m) => m.workload },
    {
      title: 'FROM → TO'.replace('→', glyphs.arrow),
      width: 22,
      flex: 1,
      priority: 2,
      cell: (m) => routeText(m, c.source, glyphs),
    },
    { title: 'STRATEGY', width: 10, priority: 7, cell: (m) => strategies.name(m.strategy) },
    {
      title: 'PHASE',
      width: 15,
      priority: 1,
      cell: (m) => phaseMark(m.phase, c.look).text,
      colour: (m) => phaseMark(m.phase, c.look).colour,
    },
    {
      title: 'TRANSFER',
      width: PROGRESS,
      priority: 3,
      cell: (m) => (isTransferring(m) ? progressText(m, PROGRESS, glyphs) : rateShort(transferRate(m.timings))),
      // The rate in the text's own colour ('none'), the bar in the series colour as in the wizard.
      colour: (m) => (isTransferring(m) ? theme.series[0]! : 'none'),
    },
    // How the checkpoint moved, once it has: agent to agent, or relayed by the controller.
    { title: 'PATH', width: 6, priority: 5, cell: (m) => m.transferPath, colour: () => theme.muted },
    { title: 'DOWNTIME', width: 8, align: 'right', priority: 4, cell: (m) => downtimeText(m.timings?.downtimeMs, u) },
    {
      title: 'STARTED',
      width: 8,
      align: 'right',
      priority: 5,
      cell: (m) => (m.createdMs > 0 ? agoText(c.now() - m.createdMs) : u),
    },
    {
      title: 'OUTCOME',
      width: 12,
      flex: 4,
      priority: 6,
      cell: (m) => m.error || (migrationDone(m.phase) ? 'ok' : ''),
      colour: (m) => (m.error ? theme.levels.crit : theme.muted),
    },
  ];
}
