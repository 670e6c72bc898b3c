import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { YardError, errorMessage } from '../../core/errors.js';

export interface Reading {
  labels: Record<string, string>;
  value: number;
}

/** A page's metric families by name; readings whose value is not a finite number are left out. */
export type Families = Map<string, Reading[]>;

/**
 * Parses a page in the Prometheus text exposition format; SCRAPE_FAILED when it is not one.
 * `wanted` keeps only the families a mapping reads: a node_exporter page has hundreds, and
 * parsing them all is most of what a poll costs.
 */
export function readExposition(text: string, url: string, wanted?: (name: string) => boolean): Families {
  let parsed: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    parsed = parsePrometheusTextFormat(wanted ? onlyFamilies(text, wanted) : ended(text));
  } catch (err) {
    throw new YardError('SCRAPE_FAILED', `${url}: not a Prometheus metrics page (${errorMessage(err)})`, { url });
  }
  const families: Families = new Map();
  for (const f of parsed) {
    // A family printed in two places (as the DCGM exporter does for MIG instances) comes as two.
    const readings = families.get(f.name) ?? [];
    for (const m of f.metrics) {
      const value = Number(m.value);
      if (Number.isFinite(value)) readings.push({ labels: m.labels ?? {}, value });
    }
    if (readings.length) families.set(f.name, readings);
  }
  return families;
}

/** The page's lines for the wanted families (samples, and their HELP and TYPE comments). */
function onlyFamilies(text: string, wanted: (name: string) => boolean): string {
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    const name = line.startsWith('#') ? (line.split(' ', 3)[2] ?? '') : /^[^\s{]*/.exec(line)![0];
    if (name && wanted(name)) kept.push(line);
  }
  return `${kept.join('\n')}\n`;
}

/** The library drops a last sample that has no line end after it. */
const ended = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** The one reading of an unlabelled gauge (node_load1), or of the first series. */
export function one(families: Families, name: string): number | undefined {
  return families.get(name)?.[0]?.value;
}
