import { strategies } from '../../core/workload.js';
import { bytesText } from '../../core/format/bytes.js';
import { isKnown } from '../../core/format/numbers.js';
import { serverName } from '../render/migration.js';
import { escapeTags, paint } from '../render/paint.js';
import type { Flow } from './flow.js';

const MIB = 1024 * 1024;

/** What the strategies do, in the operator's words. */
export const STRATEGY_HELP: Readonly<Record<string, string>> = {
  checkpoint: 'it saves its state and exits; the state moves; it resumes on the target (down while it moves)',
  restart: 'start a fresh copy on the target, health-check it, then stop the source (no downtime, no state)',
  freeze:
    'pause it, copy its state directory while frozen, start it on the target (for workloads that cannot checkpoint)',
};

/** "trainer-llama on gpu-a100-01 · checkpoint · 12.0 GiB GPU memory": the line atop each step. */
export function workloadLine(flow: Flow): string {
  const { choice, look, source } = flow;
  const w = choice.workload;
  if (!w) return '';
  const { glyphs, theme } = look;
  const parts = [`on ${serverName(source, w.serverId)}`, `${strategies.name(w.spec.strategy)} by default`];
  if (isKnown(w.gpuMemoryMib) && w.gpuMemoryMib > 0)
    parts.push(`${bytesText(w.gpuMemoryMib * MIB, glyphs.unknown)} GPU memory`);
  return `{bold}${escapeTags(w.spec.name)}{/bold} ${paint(theme.muted, escapeTags(parts.join(` ${glyphs.sep} `)))}`;
}

/** "gpu-a100-01 → gpu-t4-03 · checkpoint": where it goes and how, once both are chosen. */
export function routeLine(flow: Flow): string {
  const { choice, look, source } = flow;
  const from = choice.workload ? serverName(source, choice.workload.serverId) : '';
  const to = choice.target?.name ?? '';
  const how = choice.strategy === undefined ? '' : ` ${look.glyphs.sep} ${strategies.name(choice.strategy)}`;
  return escapeTags(`${from} ${look.glyphs.arrow} ${to}${how}`);
}
