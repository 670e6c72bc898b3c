import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { YardError, errorMessage } from '../../core/errors.js';

export interface Reading {
  labels: Record<string, string>;
  value: number;
}

/** A page's metric families by name; readings whose value is not a finite number are left out. */
export type Families = Map<string, Reading[]>;

/** Parses a page in the Prometheus text exposition format; SCRAPE_FAILED when it is not one. */
export function readExposition(text: string, url: string): Families {
  let parsed: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    parsed = parsePrometheusTextFormat(text);
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

/** The one reading of an unlabelled gauge (node_load1), or of the first series. */
export function one(families: Families, name: string): number | undefined {
  return families.get(name)?.[0]?.value;
}
