import type { ServerStateName } from '../core/types.js';

/**
 * The three sets, richest first: braille charts and block bars; block bars with charts of one
 * point a column (a linux console's font has blocks but no braille); ASCII only (a locale
 * that is not UTF-8, or --ascii).
 */
export type GlyphSetName = 'braille' | 'blocks' | 'ascii';

export const GLYPH_SET_NAMES: readonly GlyphSetName[] = ['braille', 'blocks', 'ascii'];

/**
 * Every non-ASCII character the dashboard draws, so a non-UTF-8 terminal gets a complete
 * ASCII set instead of mojibake. States keep a distinct symbol *and* their word.
 */
export interface Glyphs {
  readonly unicode: boolean;
  /** Charts in braille dots (2x4 a cell); without, one point a column. */
  readonly braille: boolean;
  readonly states: Readonly<Record<ServerStateName, string>>;
  /** Sparkline levels, lowest first; a gap (unknown) is a space. */
  readonly spark: readonly string[];
  readonly barFull: string;
  readonly barEmpty: string;
  /** Partial cells for bars, 1/8 .. 7/8; empty where the set has none. */
  readonly barPartial: readonly string[];
  readonly unknown: string;
  readonly degree: string;
  readonly rx: string;
  readonly tx: string;
  readonly selected: string;
  readonly ellipsis: string;
  readonly dash: string;
  readonly sep: string;
  /** Chart y axis: a tick where a value is printed, a line elsewhere. */
  readonly axisTick: string;
  readonly axisLine: string;
  readonly crumb: string;
  /** Workload states, by their word (workloadStates): a symbol each, shown with the word. */
  readonly workloads: Readonly<Record<string, string>>;
  /** A check passed, a migration committed. */
  readonly ok: string;
  /** A check failed, a migration failed. */
  readonly fail: string;
  /** A migration rolled back (or rolling back). */
  readonly undo: string;
  /** A migration phase under way. */
  readonly live: string;
  /** A phase not reached yet. */
  readonly pending: string;
  /** From a source to a target: "gpu-a100-01 → gpu-t4-03". */
  readonly arrow: string;
}

export const UNICODE_GLYPHS: Glyphs = {
  unicode: true,
  braille: true,
  states: {
    online: '●',
    degraded: '◐',
    disconnected: '○',
    down: '✖',
    draining: '▽',
    cordoned: '⊘',
    unknown: '?',
  },
  spark: ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
  barFull: '█',
  barEmpty: '░',
  barPartial: ['▏', '▎', '▍', '▌', '▋', '▊', '▉'],
  unknown: '–',
  degree: '°C',
  rx: '↓',
  tx: '↑',
  selected: '▶',
  ellipsis: '…',
  dash: '—',
  sep: '·',
  axisTick: '┤',
  axisLine: '│',
  crumb: '›',
  workloads: {
    running: '●',
    paused: '‖',
    backoff: '↻',
    exited: '○',
    checkpointing: '◐',
    checkpointed: '◉',
    unknown: '?',
  },
  ok: '✓',
  fail: '✗',
  undo: '↺',
  live: '◐',
  pending: '·',
  arrow: '→',
};

export const ASCII_GLYPHS: Glyphs = {
  unicode: false,
  braille: false,
  states: {
    online: '*',
    degraded: '~',
    disconnected: 'o',
    down: 'x',
    draining: 'v',
    cordoned: '/',
    unknown: '?',
  },
  spark: ['_', '.', '-', '=', '+', '*', '#', '@'],
  barFull: '#',
  barEmpty: '.',
  barPartial: [],
  unknown: '-',
  degree: 'C',
  rx: 'rx',
  tx: 'tx',
  selected: '>',
  ellipsis: '~',
  dash: '-',
  sep: '|',
  axisTick: '+',
  axisLine: '|',
  crumb: '>',
  workloads: {
    running: '*',
    paused: '=',
    backoff: '~',
    exited: 'o',
    checkpointing: '%',
    checkpointed: '@',
    unknown: '?',
  },
  ok: '+',
  fail: 'x',
  undo: '<',
  live: '~',
  pending: '.',
  arrow: '->',
};

/** UTF-8 without braille: bars, sparklines and symbols as above, charts of points. */
const BLOCK_GLYPHS: Glyphs = { ...UNICODE_GLYPHS, braille: false };

export function glyphSet(name: GlyphSetName): Glyphs {
  return name === 'braille' ? UNICODE_GLYPHS : name === 'blocks' ? BLOCK_GLYPHS : ASCII_GLYPHS;
}
