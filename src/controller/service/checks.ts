// The Control API's input checks, moved unchanged from the gRPC handlers; their names are those
// of the schemas in src/core/schema that replace them.
import { z } from 'zod';
import { YardError } from '../../core/errors.js';
import { ROUTE_LIMITS, type Route } from '../../core/route.js';
import { checkRoute } from '../../core/route-check.js';
import { labelsSchema, validate } from '../../core/validate.js';
import {
  DEFAULT_CHECKPOINT_SIGNAL,
  DEFAULT_CHECKPOINT_TIMEOUT_MS,
  MigrationStrategy,
  RestartPolicy,
  WORKLOAD_NAME,
  type WorkloadSpec,
} from '../../core/workload.js';

const specSchema = z.looseObject({
  name: z.string().regex(WORKLOAD_NAME, 'must be 1–63 letters, digits, . _ - (starting with a letter or digit)'),
  command: z.string().min(1, 'must not be empty').max(4096),
  args: z.array(z.string().max(65_536)).max(1024),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'names must be shell-style (A-Z, 0-9, _)'), z.string().max(65_536)),
  cwd: z.string().max(4096),
  labels: labelsSchema,
  checkpointSignal: z.string().regex(/^(SIG[A-Z0-9]+)?$/, 'must be a signal name like SIGUSR1'),
  checkpointTimeoutMs: z.number().int().min(0).max(3_600_000),
  ports: z.array(z.number().int().min(1).max(65535)).max(64),
});

export function parseWorkloadSpec(input: WorkloadSpec | undefined): WorkloadSpec {
  if (!input) throw new YardError('INVALID_ARGUMENT', 'no workload spec given');
  const spec = validate(specSchema, input, 'workload');
  return {
    ...spec,
    restart: spec.restart || RestartPolicy.RESTART_POLICY_NEVER,
    strategy: spec.strategy || MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: spec.checkpointSignal || DEFAULT_CHECKPOINT_SIGNAL,
    checkpointTimeoutMs: spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS,
  };
}

const service = z.string().regex(WORKLOAD_NAME, 'is not a service name (letters, digits, . _ -; at most 63)');
const version = z.string().min(1, 'must not be empty').max(ROUTE_LIMITS.versionLength).regex(/^[A-Za-z0-9._-]+$/, 'may only hold letters, digits and . _ -');
/** Timers hold at most 2^31-1 ms. */
const ms = z.number().int().min(0).max(2_147_483_647, 'must be at most 24 days');

const applySchema = z.looseObject({ routes: z.array(z.unknown()).min(1, 'holds no route').max(ROUTE_LIMITS.routes, `holds more than ${ROUTE_LIMITS.routes} routes`) });
const serviceSchema = z.looseObject({ service });
const weightsSchema = z.looseObject({
  service,
  weights: z.record(version, z.number().int().min(0).max(100, 'must be from 0 to 100')).refine((w) => Object.keys(w).length > 0, 'name at least one version, e.g. blue=20 green=80').refine((w) => Object.keys(w).length <= ROUTE_LIMITS.backends, `at most ${ROUTE_LIMITS.backends} versions`),
});
const promoteSchema = z.looseObject({ service, version, steps: z.array(z.number().int()).max(100), intervalMs: ms });
const drainSchema = z.looseObject({ service, backend: z.string().min(1, 'must name a version, workload or address').max(300), deadlineMs: ms });
const changesSchema = z.looseObject({ service: z.union([z.literal(''), service]), limit: z.number().int().min(0) });

export function parseApplyRoutes(req: { routes: Route[] }): Route[] {
  validate(applySchema, req, 'apply');
  return req.routes.map(checkRoute);
}

export function parseServiceRequest(req: { service: string }, what: 'delete' | 'rollback'): string {
  return validate(serviceSchema, req, what).service;
}

export function parseSetWeights(req: { service: string; weights: Record<string, number> }): { service: string; weights: Record<string, number> } {
  const { service, weights } = validate(weightsSchema, req, 'weights');
  return { service, weights };
}

export function parsePromote(req: { service: string; version: string; steps: number[]; intervalMs: number }): { service: string; version: string; steps: number[]; intervalMs: number } {
  const { service, version, steps, intervalMs } = validate(promoteSchema, req, 'promote');
  return { service, version, steps, intervalMs };
}

export function parseDrain(req: { service: string; backend: string; deadlineMs: number }): { service: string; backend: string; deadlineMs: number } {
  const { service, backend, deadlineMs } = validate(drainSchema, req, 'drain');
  return { service, backend, deadlineMs };
}

export function parseRouteChanges(req: { service: string; limit: number }, maxLimit: number): { service: string | undefined; limit: number } {
  const { service, limit } = validate(changesSchema.extend({ limit: z.number().int().min(0).max(maxLimit) }), req, 'route changes');
  return { service: service || undefined, limit };
}
