import { z } from 'zod';
import { YardError } from './errors.js';
import { findControl, printable } from './printable.js';

/** Bounds on what an agent may claim: a hostile or broken agent can't balloon the controller. */
export const LIMITS = {
  idLength: 128,
  nameLength: 64,
  labels: 32,
  labelKeyLength: 63,
  labelValueLength: 256,
  locationLength: 256,
  hostnameLength: 255,
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

/**
 * Text an operator reads on a terminal (a name, a label, a location): at most `max` characters
 * and no control characters, which the terminal would obey instead of showing.
 */
export function plainText(max: number, min = 0) {
  return z
    .string()
    .min(min, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .superRefine((text, ctx) => {
      const at = findControl(text);
      if (at)
        ctx.addIssue({
          code: 'custom',
          message: `holds a control character (${at}), which a terminal would act on: use printable characters only`,
        });
    });
}

/** A server's display name (`--name`, else its hostname): what every list and card shows. */
export const serverNameSchema = plainText(LIMITS.nameLength);
export const hostnameSchema = plainText(LIMITS.hostnameLength, 1);
export const locationSchema = plainText(LIMITS.locationLength);

/** Checks `value` against `schema`; returns it as it was, or throws an INVALID_ARGUMENT YardError naming the field. */
export function validate<T>(schema: z.ZodType, value: T, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return value;
  const issue = r.error.issues[0]!;
  // The path may hold a hostile record key: it is echoed in logs and on terminals.
  const field = printable(issue.path.join('.')) || what;
  throw new YardError('INVALID_ARGUMENT', `${what}: ${field} ${issue.message}`, { field });
}

/**
 * The first problem zod found, as an operator reads it: the field's path (`backends[1].address`)
 * and what is wrong. A misspelt key explains the missing one it was meant to be, so it comes first.
 */
export function describeIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]!;
  const field = printable(
    issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, ''),
  );
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${printable(k)}"`).join(', ')}`
      : /received undefined$/.test(issue.message)
        ? 'is required'
        : issue.message;
  return { field, message };
}
