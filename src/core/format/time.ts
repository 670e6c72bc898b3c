import { isKnown, UNKNOWN } from './numbers.js';

// Spans of time. A negative span (clocks a little apart) reads as none.

const two = (n: number): string => String(n).padStart(2, '0');

/** Whole seconds from a minute up, in the two largest units: "4m05s", "3h12m", "2d04h". */
function clockText(s: number): string {
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** "850 ms", "1.25 s", "12.5 s", "2m05s": how long a step took, for sentences. */
export function durationText(ms: number | undefined, unknown = UNKNOWN): string {
  if (!isKnown(ms)) return unknown;
  const t = Math.max(0, ms);
  if (t < 999.5) return `${Math.round(t)} ms`;
  if (t < 9_995) return `${(t / 1000).toFixed(2)} s`;
  if (t < 59_950) return `${(t / 1000).toFixed(1)} s`;
  return clockText(Math.round(t / 1000));
}

/** "450ms", "1.8s", "42s", "4m05s", "3h12m", "2d04h": a span in a narrow column (uptime, an interval). */
export function spanText(ms: number | undefined, unknown = UNKNOWN): string {
  if (!isKnown(ms)) return unknown;
  const t = Math.max(0, ms);
  if (t < 999.5) return `${Math.round(t)}ms`;
  if (t < 9_950) return `${(t / 1000).toFixed(1)}s`;
  // 9.95 s and up would print as "10.0s": from there on, whole seconds.
  const s = Math.max(10, Math.floor(t / 1000));
  return s < 60 ? `${s}s` : clockText(s);
}

/** "3s", "4m", "2h", "5d": the age of something, in its largest unit, short enough for a card. */
export function ageText(ms: number | undefined, unknown = UNKNOWN): string {
  if (!isKnown(ms)) return unknown;
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** "42s ago". */
export function agoText(ms: number | undefined, unknown = UNKNOWN): string {
  return isKnown(ms) ? `${ageText(ms)} ago` : unknown;
}

/** "500ms", "1.5s", "90s", "10m": a configured timeout or interval, exactly, as a route file or a flag writes it. */
export function settingText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
