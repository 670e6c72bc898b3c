import { inUnits, isKnown, scaled, UNKNOWN } from './numbers.js';
import { durationText } from './time.js';

// Sizes and rates. Two shapes of one unit system (binary sizes): the long one with IEC names
// and a space for sentences ("50.1 MiB in 746 ms (70.5 MiB/s)", alike in the wizard and
// `yard migrate`), the short one for narrow columns ("931G"). Traffic on links and proxies is
// quoted in decimal units, as link speeds are ("12.3MB/s").

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** "512 B", "1.5 KiB", "12.3 MiB", "2.0 GiB". */
export function bytesText(bytes: number | undefined, unknown = UNKNOWN): string {
  if (!isKnown(bytes)) return unknown;
  // Every unit above bytes keeps one decimal, however large: "256.0 MiB".
  return inUnits(bytes, 1024, IEC, (_, i) => (i === 0 ? 0 : 1)).join(' ');
}

/** "931G", "1.5T", "12.3M", "0B": sizes in a narrow column. */
export function bytesShort(bytes: number | undefined, unknown = UNKNOWN): string {
  return isKnown(bytes) ? scaled(bytes, 1024, ['B', 'K', 'M', 'G', 'T', 'P']) : unknown;
}

/** "9.0 MiB/s": how fast a checkpoint moves. */
export function rateText(bytesPerSec: number | undefined, unknown = UNKNOWN): string {
  return isKnown(bytesPerSec) ? `${bytesText(bytesPerSec)}/s` : unknown;
}

/** "12.3MB/s": network and proxy traffic, in decimal units. */
export function trafficText(bytesPerSec: number | undefined, unknown = UNKNOWN): string {
  return isKnown(bytesPerSec) ? `${scaled(bytesPerSec, 1000, ['B', 'kB', 'MB', 'GB', 'TB'])}/s` : unknown;
}

/** "256.0 MiB in 1.42 s (180.3 MiB/s)"; the rate only where the time is known and not zero. */
export function transferText(bytes: number, ms: number | undefined, unknown = UNKNOWN): string {
  const rate = isKnown(ms) && ms > 0 ? ` (${rateText((bytes / ms) * 1000)})` : '';
  return `${bytesText(bytes)} in ${durationText(ms, unknown)}${rate}`;
}

/** GPU memory "38.2/80.0 GiB" from MiB readings; either side may be unknown. */
export function gibPair(usedMib: number | undefined, totalMib: number | undefined, unknown = UNKNOWN): string {
  if (!isKnown(usedMib) && !isKnown(totalMib)) return unknown;
  const gib = (mib: number | undefined): string => (isKnown(mib) ? (mib / 1024).toFixed(1) : unknown);
  return `${gib(usedMib)}/${gib(totalMib)} GiB`;
}
