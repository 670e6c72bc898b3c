import type { HostSample } from '../core/types.js';

type Fields = Record<string, unknown>;

const isFields = (v: unknown): v is Fields =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * A server's latest sample, kept in one long-lived object that each new sample is copied into.
 * Keeping each decoded sample instead made every beat's sample live until the next beat: long
 * enough for V8 to move it to the old generation, where a fleet's worth of them a second left
 * the old space fragmented, and the controller's heap grew by far more than what it kept.
 * Copied in place, a new sample dies young. Arrays of another length (a disk mounted, a GPU
 * process started) and values that changed are taken from the new sample as they are.
 */
export function refreshLatest(kept: HostSample | undefined, sample: HostSample): HostSample {
  // A copy: the sample itself goes on to listeners, which may hold it past the next beat.
  if (!kept) return structuredClone(sample);
  refresh(kept as unknown as Fields, sample as unknown as Fields);
  return kept;
}

function refresh(into: Fields, from: Fields): void {
  for (const key in into) if (!(key in from)) delete into[key];
  for (const key in from) into[key] = refreshed(into[key], from[key]);
}

function refreshed(kept: unknown, value: unknown): unknown {
  // An equal string stays the kept one: the new one, referenced from the old generation, would be moved there too.
  if (typeof value !== 'object' || value === null) return kept === value ? kept : value;
  if (Array.isArray(value)) {
    if (!Array.isArray(kept) || kept.length !== value.length) return value;
    // Per-core readings, the longest arrays, are all numbers.
    if (typeof value[0] === 'number') for (let i = 0; i < value.length; i++) kept[i] = value[i];
    else for (let i = 0; i < value.length; i++) kept[i] = refreshed(kept[i], value[i]);
    return kept;
  }
  if (!isFields(kept) || !isFields(value)) return value;
  refresh(kept, value);
  return kept;
}
