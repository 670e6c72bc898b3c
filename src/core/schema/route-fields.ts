import { isIP } from 'node:net';
import { z } from 'zod';
import { isBackendAddress } from '../address.js';
import { ROUTE_LIMITS } from '../route.js';
import { WORKLOAD_NAME } from '../workload.js';

// The fields a route and its changes share, whichever door they come through: a route file,
// a gRPC request, `yard route weight`. One rule and one message each.

/** Timers hold at most 2^31-1 ms; a longer wait would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export const msSchema = z
  .number()
  .int('must be a whole number of milliseconds')
  .min(0, 'must not be negative')
  .max(MAX_TIMER_MS, 'must be at most 24 days');

const PORT_RANGE = 'must be from 1 to 65535';
export const portSchema = z
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(1, PORT_RANGE)
  .max(65535, PORT_RANGE);
/** A backend's port on the wire: 0 when it has none (an address carries its own). */
export const portOrNoneSchema = z
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(0, PORT_RANGE)
  .max(65535, PORT_RANGE);

export const serviceNameSchema = z
  .string({ error: 'is required' })
  .regex(WORKLOAD_NAME, 'is not a service name (letters, digits, . _ -; at most 63)');
export const backendWorkloadSchema = z.string().regex(WORKLOAD_NAME, 'is not a workload name (letters, digits, . _ -)');
export const backendAddressSchema = z
  .string()
  .refine(isBackendAddress, 'is not HOST:PORT (e.g. 127.0.0.1:9000 or api.internal:8080, port 1-65535)');

const WEIGHT_RANGE = 'must be from 0 to 100';
export const weightSchema = z
  .number({ error: 'must be a number from 0 to 100' })
  .int('must be a whole number')
  .min(0, WEIGHT_RANGE)
  .max(100, WEIGHT_RANGE);

const VERSION_CHARS = 'may only hold letters, digits and . _ -';
/** A backend's version: empty when it has none. */
export const backendVersionSchema = z
  .string()
  .max(ROUTE_LIMITS.versionLength, `must be at most ${ROUTE_LIMITS.versionLength} characters`)
  .regex(/^[A-Za-z0-9._-]*$/, VERSION_CHARS);
/** A version named in a change (weights, promote): never empty. */
export const versionSchema = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9._-]{1,${ROUTE_LIMITS.versionLength}}$`),
    `${VERSION_CHARS} (1 to ${ROUTE_LIMITS.versionLength} of them)`,
  );

export const listenHostSchema = z.string().refine((h) => isIP(h) !== 0, 'is not an IP address');

/** `schema`, or '' — how the wire says a field is absent. */
export function emptyOr(schema: z.ZodType<string>) {
  return z.string().superRefine((value, ctx) => {
    const r = value === '' ? undefined : schema.safeParse(value);
    if (r && !r.success) ctx.addIssue({ code: 'custom', message: r.error.issues[0]!.message });
  });
}
