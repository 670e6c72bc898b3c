import { z } from 'zod';
import { YardError } from './errors.js';

/** Bounds on what an agent may claim: a hostile or broken agent can't balloon the controller. */
export const LIMITS = {
  idLength: 128,
  nameLength: 64,
  labels: 32,
  labelKeyLength: 63,
  labelValueLength: 256,
  addresses: 64,
  gpus: 64,
  cores: 4096,
  disks: 256,
  nets: 256,
  samplesPerHeartbeat: 60,
  gpuProcesses: 1024,
  workloadsPerAgent: 1024,
} as const;

export const serverIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.idLength)
  .regex(/^[A-Za-z0-9._:-]+$/, 'may only hold letters, digits and . _ : -');

export const labelsSchema = z
  .record(z.string().min(1).max(LIMITS.labelKeyLength).regex(/^[A-Za-z0-9._/-]+$/, 'label keys may only hold letters, digits and . _ / -'), z.string().max(LIMITS.labelValueLength))
  .refine((l) => Object.keys(l).length <= LIMITS.labels, `at most ${LIMITS.labels} labels`);

/** Checks `value` against `schema`; returns it as it was, or throws an INVALID_ARGUMENT YardError naming the field. */
export function validate<T>(schema: z.ZodType, value: T, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return value;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || what;
  throw new YardError('INVALID_ARGUMENT', `${what}: ${field} ${issue.message}`, { field });
}

/**
 * The first problem zod found, as an operator reads it: the field's path (`backends[1].address`)
 * and what is wrong. A misspelt key explains the missing one it was meant to be, so it comes first.
 */
export function describeIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]!;
  const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : /received undefined$/.test(issue.message)
        ? 'is required'
        : issue.message;
  return { field, message };
}

/** Parses "k=v,k2=v2" (CLI --labels). */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new YardError('INVALID_ARGUMENT', `label "${part}" is not key=value (e.g. --labels gpu=a100,rack=r12)`);
    labels[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return validate(labelsSchema, labels, 'labels');
}
