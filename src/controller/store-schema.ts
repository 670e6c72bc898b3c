import { z } from 'zod';
import { DrainOutcome, DrainPhase } from '../core/drain.js';
import { HealthCheckKind, RoutePolicy, RouteProtocol } from '../core/route.js';
import { AutoscaleMetric } from '../core/deployment.js';
import { MigrationPhase, MigrationStrategy, RestartPolicy } from '../core/workload.js';

// The whole store, field by field, as the controller writes it. Everything read back from the
// file is served over gRPC as it is, so a field of the wrong type would fail every later call
// that lists it ("Error serializing response"): it is refused at start instead.

/** The values an enum really has (never ts-proto's UNRECOGNIZED). */
function oneOf<E extends Record<string, number>>(e: E, skip: number[] = []) {
  const values = Object.values(e).filter((v) => v >= 0 && !skip.includes(v)) as Exclude<E[keyof E], -1>[];
  return z.literal(values);
}

const int64 = z.number().int();
const uint32 = z.number().int().nonnegative();
const double = z.number();

/** A record whose keys are its values' `field` (an id or a name), as the store indexes them. */
function keyedBy<T extends z.ZodObject>(value: T, field: string) {
  return z.record(z.string(), value).superRefine((all, ctx) => {
    for (const [key, v] of Object.entries(all)) {
      if ((v as Record<string, unknown>)[field] !== key)
        ctx.addIssue({ code: 'custom', path: [key, field], message: `must equal its key "${key}"` });
    }
  });
}

const capabilities = z.object({
  gpus: z.array(z.object({ index: uint32, name: z.string(), uuid: z.string(), memoryTotalMib: double.optional() })),
  migrationStrategies: z.array(z.string()),
  proxy: z.boolean(),
});

const hostInfo = z.object({
  os: z.string(),
  kernel: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cpuCores: uint32,
  memoryTotalBytes: double,
});

const drainSchema = z.object({
  phase: oneOf(DrainPhase, [DrainPhase.DRAIN_PHASE_UNSPECIFIED]),
  requestedBy: z.string(),
  startedMs: int64,
  deadlineMs: int64,
  finishedMs: int64,
  parallel: uint32,
  workloads: z.array(
    z.object({
      workload: z.string().min(1),
      outcome: oneOf(DrainOutcome, [DrainOutcome.DRAIN_OUTCOME_UNSPECIFIED]),
      how: z.string(),
      migrationId: z.string(),
      targetServerId: z.string(),
      downtimeMs: int64,
      message: z.string(),
      phase: z.string().default(''),
    }),
  ),
  message: z.string(),
});

export const storedServerSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  hostname: z.string(),
  addresses: z.array(z.string()),
  mac: z.string(),
  labels: z.record(z.string(), z.string()),
  location: z.string(),
  capabilities: capabilities.optional(),
  host: hostInfo.optional(),
  agentVersion: z.string(),
  firstSeenMs: int64,
  lastSeenMs: int64,
  advertiseAddress: z.string(),
  transferAddress: z.string().default(''),
  cordoned: z.boolean().default(false),
  drain: drainSchema.optional(),
  source: z.enum(['agent', 'scraped']).optional(),
  scrapeUrl: z.string().optional(),
});

export const scrapeTargetRecordSchema = z.object({
  name: z.string().min(1),
  url: z.string().min(1),
  gpuUrl: z.string(),
  intervalMs: uint32,
  addedMs: int64,
  addedBy: z.string(),
});

export const migrationSchema = z.object({
  id: z.string().min(1),
  workload: z.string().min(1),
  sourceServerId: z.string(),
  targetServerId: z.string(),
  strategy: oneOf(MigrationStrategy),
  phase: oneOf(MigrationPhase, [MigrationPhase.MIGRATION_PHASE_UNSPECIFIED]),
  requestedBy: z.string(),
  createdMs: int64,
  updatedMs: int64,
  finishedMs: int64,
  preflight: z.array(z.object({ name: z.string(), ok: z.boolean(), reason: z.string() })),
  timings: z
    .object({
      checkpointMs: double.optional(),
      transferMs: double.optional(),
      transferBytes: double,
      restoreMs: double.optional(),
      verifyMs: double.optional(),
      downtimeMs: double.optional(),
      trafficHeldMs: double.optional(),
      trafficShiftMs: double.optional(),
      precopyMs: double.optional(),
      precopyRounds: double.default(0),
      precopyBytes: double.default(0),
      bytesSaved: double.default(0),
    })
    .optional(),
  bytesDone: double,
  bytesTotal: double,
  checkpointSha256: z.string(),
  error: z.string(),
  transferPath: z.string().default(''),
  precopy: z.boolean().default(false),
});

export const auditEntrySchema = z.object({
  atMs: int64,
  who: z.string(),
  action: z.string(),
  target: z.string(),
  ok: z.boolean(),
  error: z.string(),
});

export const routeSchema = z.object({
  name: z.string().min(1),
  listen: z.object({ server: z.string().min(1), port: uint32, host: z.string() }),
  protocol: oneOf(RouteProtocol),
  policy: oneOf(RoutePolicy),
  backends: z.array(
    z.object({
      workload: z.string(),
      address: z.string(),
      port: uint32,
      weight: uint32,
      version: z.string(),
      drain: z.boolean(),
      drainTimeoutMs: uint32,
    }),
  ),
  healthCheck: z
    .object({
      kind: oneOf(HealthCheckKind),
      intervalMs: uint32,
      timeoutMs: uint32,
      unhealthyAfter: uint32,
      healthyAfter: uint32,
      path: z.string(),
    })
    .optional(),
  holdTimeoutMs: uint32,
  drainTimeoutMs: uint32,
  revision: z.number().int().nonnegative(),
  updatedMs: int64,
  updatedBy: z.string(),
});

export const routeChangeSchema = z.object({
  atMs: int64,
  who: z.string(),
  service: z.string(),
  action: z.string(),
  before: routeSchema.optional(),
  after: routeSchema.optional(),
  note: z.string(),
});

export const certificateSchema = z.object({
  serial: z.string().regex(/^[0-9a-f]{1,64}$/, 'must be a serial in lower-case hex'),
  kind: z.enum(['agent', 'operator']),
  name: z.string().min(1),
  role: z.string(),
  issuedMs: int64,
  notAfterMs: int64,
  issuedBy: z.string(),
  revokedMs: int64,
  revokedBy: z.string(),
});

const workloadSpecSchema = z.object({
  name: z.string().min(1),
  command: z.string(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  cwd: z.string(),
  labels: z.record(z.string(), z.string()),
  restart: oneOf(RestartPolicy),
  strategy: oneOf(MigrationStrategy),
  checkpointSignal: z.string(),
  checkpointTimeoutMs: uint32,
  ports: z.array(uint32),
});

export const deploymentSchema = z.object({
  name: z.string().min(1),
  template: workloadSpecSchema,
  replicas: uint32,
  placement: z.object({ labels: z.record(z.string(), z.string()), gpus: uint32, allowSameHost: z.boolean() }),
  update: z.object({ maxUnavailable: uint32, maxSurge: uint32, healthTimeoutMs: uint32, autoRevert: z.boolean() }),
  route: z.object({ name: z.string(), port: uint32 }),
  autoscale: z
    .object({ min: uint32, max: uint32, metric: oneOf(AutoscaleMetric), target: double, cooldownMs: uint32 })
    .optional(),
  version: uint32,
  previousTemplate: workloadSpecSchema.optional(),
  previousVersion: uint32,
  updatedMs: int64,
  updatedBy: z.string(),
});

export const storeSchema = z.object({
  version: z.literal(1),
  controllerId: z.string().min(1),
  servers: keyedBy(storedServerSchema, 'id'),
  migrations: keyedBy(migrationSchema, 'id').optional(),
  audit: z.array(auditEntrySchema).optional(),
  routes: keyedBy(routeSchema, 'name').optional(),
  routeChanges: z.array(routeChangeSchema).optional(),
  agentKeys: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex')).optional(),
  certificates: z.array(certificateSchema).optional(),
  deployments: keyedBy(deploymentSchema, 'name').optional(),
  scrapeTargets: keyedBy(scrapeTargetRecordSchema, 'name').optional(),
});
