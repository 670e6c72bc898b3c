import { z } from 'zod';
import { YardError } from '../errors.js';
import { ROUTE_LIMITS } from '../route.js';
import { versionSchema, weightSchema } from './route-fields.js';

/** A version → weight table, as a change sets it (`yard route weight`, SetRouteWeights). */
export const versionWeightsSchema = z
  .record(versionSchema, weightSchema)
  .refine((w) => Object.keys(w).length > 0, 'name at least one version, e.g. blue=20 green=80')
  .refine((w) => Object.keys(w).length <= ROUTE_LIMITS.backends, `at most ${ROUTE_LIMITS.backends} versions`);

/** A weight as an operator types it, "80": a whole number from 0 to 100, else undefined. */
export function parseWeight(text: string): number | undefined {
  const t = text.trim();
  return /^\d{1,3}$/.test(t) && weightSchema.safeParse(Number(t)).success ? Number(t) : undefined;
}

function invalid(message: string): YardError {
  return new YardError('INVALID_ARGUMENT', message, { field: 'weights' });
}

/** "blue=80 green=20", as an operator types them → { blue: 80, green: 20 }; an error names the bad pair. */
export function parseWeights(pairs: readonly string[]): Record<string, number> {
  if (pairs.length === 0) throw invalid('give at least one VERSION=PCT, e.g. blue=80 green=20');
  const weights: Record<string, number> = {};
  for (const pair of pairs) {
    const m = /^([^=]*)=(.*)$/.exec(pair.trim());
    const [version, pct] = [m?.[1] ?? '', parseWeight(m?.[2] ?? '')];
    if (pct === undefined)
      throw invalid(`"${pair}" is not VERSION=PCT with PCT a whole number from 0 to 100 (e.g. blue=80 green=20)`);
    const v = versionSchema.safeParse(version);
    if (!v.success) throw invalid(`"${pair}": version "${version}" ${v.error.issues[0]!.message}`);
    if (version in weights) throw invalid(`"${pair}": version ${version} is given twice`);
    weights[version] = pct;
  }
  return weights;
}
