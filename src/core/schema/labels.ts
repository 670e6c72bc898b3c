import { z } from 'zod';
import { YardError } from '../errors.js';
import { printable } from '../printable.js';
import { LIMITS, plainText, validate } from '../validate.js';

const labelKeySchema = z
  .string()
  .min(1)
  .max(LIMITS.labelKeyLength)
  .regex(/^[A-Za-z0-9._/-]+$/, 'label keys may only hold letters, digits and . _ / -');

/** Labels (`gpu=a100`): on a server (its agent's hello) and on a workload (its spec). */
export const labelsSchema = z
  .record(labelKeySchema, plainText(LIMITS.labelValueLength))
  .refine((l) => Object.keys(l).length <= LIMITS.labels, `at most ${LIMITS.labels} labels`);

/** "gpu=a100,rack=r12" → its pairs; `flag` is named in what it refuses. */
function pairsOf(item: string, flag: string): [string, string][] {
  return item
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq <= 0)
        throw new YardError(
          'INVALID_ARGUMENT',
          `label "${printable(part)}" is not key=value (e.g. ${flag} gpu=a100,rack=r12)`,
          { field: flag },
        );
      const key = part.slice(0, eq);
      if (!labelKeySchema.safeParse(key).success)
        throw new YardError(
          'INVALID_ARGUMENT',
          `${flag} key "${printable(key)}" may only hold letters, digits and . _ / - (at most ${LIMITS.labelKeyLength})`,
          { field: flag },
        );
      return [key, part.slice(eq + 1)];
    });
}

/**
 * Labels as `yard agent` and `yard run` take them: `--label k=v`, repeatable, each value may
 * also list `k=v,k2=v2` (`--labels` is the same flag). Checked as the controller checks them;
 * every error names `flag`.
 */
export function parseLabels(items: string | readonly string[], flag = '--label'): Record<string, string> {
  const labels = Object.fromEntries([items].flat().flatMap((item) => pairsOf(item, flag)));
  try {
    return validate(labelsSchema, labels, 'labels');
  } catch (err) {
    throw new YardError('INVALID_ARGUMENT', `${flag}: ${(err as Error).message}`, { field: flag });
  }
}
