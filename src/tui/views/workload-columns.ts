import type { KnownWorkload } from '../../core/domain.js';
import type { FleetSource } from '../../core/fleet.js';
import { bytesShort } from '../../core/format/bytes.js';
import { isKnown, pctText } from '../../core/format/numbers.js';
import { spanText } from '../../core/format/time.js';
import { hasProcess } from '../../core/format/words.js';
import { strategies, type Workload } from '../../core/workload.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { workloadMark } from '../render/states.js';

const MIB = 1024 * 1024;

export interface WorkloadColumnsContext {
  source: FleetSource;
  look: Look;
  now(): number;
}

/** How an ended workload ended: its exit code ("3") or the signal that killed it; '' while it runs. */
export function exitNote(w: Workload): string {
  if (hasProcess(w)) return '';
  return w.exitSignal || (w.exitCode === undefined ? '' : String(w.exitCode));
}

/** The state column: the state's mark, then how it ended ("○ exited 3", "○ exited TERM": SIG dropped to fit). */
function stateCell(w: KnownWorkload, look: Look): string {
  const note = exitNote(w).replace(/^SIG/, '');
  return note ? `${workloadMark(w.state, look).text} ${note}` : workloadMark(w.state, look).text;
}

/** The columns of a workload table; `withServer` false drops the server (a pane of one server). */
export function workloadColumns(c: WorkloadColumnsContext, withServer = true): Column<KnownWorkload>[] {
  const u = c.look.glyphs.unknown;
  const columns: (Column<KnownWorkload> | false)[] = [
    { title: 'NAME', width: 14, flex: 1, priority: 1, cell: (w) => w.spec.name },
    withServer && {
      title: 'SERVER',
      width: 14,
      priority: 2,
      cell: (w) => c.source.get(w.serverId)?.server.name ?? (w.serverId || u),
    },
    {
      title: 'STATE',
      width: 15,
      priority: 1,
      cell: (w) => stateCell(w, c.look),
      colour: (w) => workloadMark(w.state, c.look).colour,
    },
    { title: 'STRATEGY', width: 10, priority: 6, cell: (w) => strategies.name(w.spec.strategy) },
    { title: 'CPU', width: 5, align: 'right', priority: 3, cell: (w) => pctText(w.cpuPct, u) },
    { title: 'RSS', width: 6, align: 'right', priority: 4, cell: (w) => bytesShort(w.rssBytes, u) },
    {
      title: 'GPU MEM',
      width: 7,
      align: 'right',
      priority: 5,
      cell: (w) => (isKnown(w.gpuMemoryMib) && w.gpuMemoryMib > 0 ? bytesShort(w.gpuMemoryMib * MIB, u) : u),
    },
    {
      title: 'UPTIME',
      width: 6,
      align: 'right',
      priority: 5,
      cell: (w) => (hasProcess(w) && w.startedMs > 0 ? spanText(c.now() - w.startedMs, u) : u),
    },
    { title: 'RESTARTS', width: 8, align: 'right', priority: 7, cell: (w) => String(w.restarts) },
  ];
  return columns.filter((col): col is Column<KnownWorkload> => col !== false);
}
