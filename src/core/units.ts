// Sizes, durations and rates as the CLI and the dashboard both print them: one unit system
// (binary sizes with their IEC names, a space before every unit), so the wizard's
// "50.1 MiB in 746 ms (70.5 MiB/s)" reads exactly as `yard migrate` prints it.

/** "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB". */
export function bytesText(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** "850 ms", "1.25 s", "2m05s". */
export function durationText(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** "9.0 MiB/s". */
export function rateText(bytesPerSec: number): string {
  return `${bytesText(bytesPerSec)}/s`;
}

/** "256.0 MiB in 1.42 s (180.3 MiB/s)"; the rate only where the time is known and not zero. */
export function transferText(bytes: number, ms: number): string {
  return `${bytesText(bytes)} in ${durationText(ms)}${ms > 0 ? ` (${rateText((bytes / ms) * 1000)})` : ''}`;
}
