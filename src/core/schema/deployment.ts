// A deployment as it arrives: from the operator's file (`yard deploy apply -f app.yaml`), or at
// the controller's gRPC edge. One schema for the file, whose errors name the line; the wire's
// Deployment is checked by the same field rules and the template by the workload spec's schema.
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { lineOf } from '../config.js';
import {
  AutoscaleMetric,
  DEFAULT_DEPLOYMENT,
  DEPLOYMENT_LIMITS,
  DEPLOYMENT_NAME,
  type Deployment,
  replicaName,
} from '../deployment.js';
import { durationSchema } from './duration.js';
import { YardError } from '../errors.js';
import { printable } from '../printable.js';
import { describeIssue } from '../validate.js';
import { restartPolicies, strategies, type WorkloadSpec } from '../workload.js';
import { labelsSchema } from './labels.js';
import { portSchema } from './route-fields.js';
import { parseWorkloadSpec } from './workload-spec.js';

const duration = durationSchema;

export const deploymentNameSchema = z
  .string({ error: 'is required' })
  .regex(
    DEPLOYMENT_NAME,
    'is not a deployment name: up to 48 letters, digits, . _ - (starting with a letter or digit)',
  );

const count = (max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(max, `must be at most ${max}`);

/** What `yard run` takes, in its own words; the name is the deployment's. */
const templateSchema = z.strictObject({
  command: z.string({ error: 'is required (the program to run)' }),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().default(''),
  labels: labelsSchema.default({}),
  restart: z.enum(restartPolicies.all as [string, ...string[]]).default('always'),
  strategy: z.enum(strategies.all as [string, ...string[]]).default('restart'),
  checkpointSignal: z.string().default(''),
  checkpointTimeout: duration.optional(),
  ports: z.array(portSchema).max(64).default([]),
});

const targetSchema = z
  .strictObject({
    cpuPercent: z.number().positive().max(100).optional(),
    gpuUtilPercent: z.number().positive().max(100).optional(),
    connectionsPerReplica: z.number().positive().max(1_000_000).optional(),
  })
  .refine((t) => Object.values(t).filter((v) => v !== undefined).length === 1, {
    message: 'needs exactly one of cpuPercent, gpuUtilPercent and connectionsPerReplica',
  });

const fileSchema = z.strictObject({
  name: deploymentNameSchema,
  template: templateSchema,
  replicas: count(DEPLOYMENT_LIMITS.replicas).default(1),
  placement: z
    .strictObject({
      labels: labelsSchema.default({}),
      gpus: count(64).default(0),
      spread: z.boolean().default(true),
      allowSameHost: z.boolean().default(false),
    })
    .default({ labels: {}, gpus: 0, spread: true, allowSameHost: false }),
  update: z
    .strictObject({
      maxUnavailable: count(DEPLOYMENT_LIMITS.replicas).default(DEFAULT_DEPLOYMENT.maxUnavailable),
      maxSurge: count(DEPLOYMENT_LIMITS.replicas).default(DEFAULT_DEPLOYMENT.maxSurge),
      healthTimeout: duration.default(DEFAULT_DEPLOYMENT.healthTimeoutMs),
      autoRevert: z.boolean().default(true),
    })
    .refine((u) => u.maxUnavailable + u.maxSurge > 0, {
      message: 'needs maxUnavailable or maxSurge above 0, or no replica could ever be replaced',
    })
    .optional(),
  route: z
    .strictObject({ name: z.string({ error: 'is required (the service name)' }), port: portSchema.optional() })
    .optional(),
  autoscale: z
    .strictObject({
      min: count(DEPLOYMENT_LIMITS.replicas),
      max: count(DEPLOYMENT_LIMITS.replicas),
      target: targetSchema,
      cooldown: duration.default(DEFAULT_DEPLOYMENT.cooldownMs),
    })
    .refine((a) => a.min <= a.max, { message: 'min must not be above max', path: ['min'] })
    .optional(),
});

type FileDeployment = z.output<typeof fileSchema>;

function metricOf(t: z.output<typeof targetSchema>) {
  if (t.cpuPercent !== undefined) return { metric: AutoscaleMetric.AUTOSCALE_METRIC_CPU_PERCENT, target: t.cpuPercent };
  if (t.gpuUtilPercent !== undefined)
    return { metric: AutoscaleMetric.AUTOSCALE_METRIC_GPU_UTIL_PERCENT, target: t.gpuUtilPercent };
  return { metric: AutoscaleMetric.AUTOSCALE_METRIC_CONNECTIONS_PER_REPLICA, target: t.connectionsPerReplica ?? 0 };
}

function toDeployment(d: FileDeployment): Deployment {
  const t = d.template;
  const template: WorkloadSpec = {
    name: d.name,
    command: t.command,
    args: t.args,
    env: t.env,
    cwd: t.cwd,
    labels: t.labels,
    restart: restartPolicies.value(t.restart, 'template.restart'),
    strategy: strategies.value(t.strategy, 'template.strategy'),
    checkpointSignal: t.checkpointSignal,
    checkpointTimeoutMs: t.checkpointTimeout ?? 0,
    ports: t.ports,
  };
  const u = d.update;
  return {
    name: d.name,
    template,
    replicas: d.autoscale ? Math.min(Math.max(d.replicas, d.autoscale.min), d.autoscale.max) : d.replicas,
    placement: {
      labels: d.placement.labels,
      gpus: d.placement.gpus,
      allowSameHost: d.placement.allowSameHost || !d.placement.spread,
    },
    update: {
      maxUnavailable: u?.maxUnavailable ?? DEFAULT_DEPLOYMENT.maxUnavailable,
      maxSurge: u?.maxSurge ?? DEFAULT_DEPLOYMENT.maxSurge,
      healthTimeoutMs: u?.healthTimeout ?? DEFAULT_DEPLOYMENT.healthTimeoutMs,
      autoRevert: u?.autoRevert ?? true,
    },
    route: { name: d.route?.name ?? '', port: d.route?.port ?? t.ports[0] ?? 0 },
    ...(d.autoscale && {
      autoscale: {
        min: d.autoscale.min,
        max: d.autoscale.max,
        ...metricOf(d.autoscale.target),
        cooldownMs: d.autoscale.cooldown,
      },
    }),
    version: 0,
    previousVersion: 0,
    updatedMs: 0,
    updatedBy: '',
  };
}

/**
 * A deployment file's text (YAML, or JSON, which YAML reads too) as a Deployment checked by the
 * rules the controller applies; errors name the file, the line and the field:
 * `deployment file app.yaml, line 7 (update.maxSurge): must not be negative`.
 */
export function parseDeploymentFile(text: string, file: string): Deployment {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax)
    throw new YardError(
      'INVALID_ARGUMENT',
      `deployment file ${file}, line ${counter.linePos(syntax.pos[0]).line}: not valid YAML: ${syntax.message.split('\n')[0]}`,
      { file },
    );
  const r = fileSchema.safeParse(doc.toJS() ?? {});
  if (!r.success) {
    const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]!);
    const { field, message } = describeIssue(r.error);
    const line = lineOf(doc, counter, path);
    throw new YardError(
      'INVALID_ARGUMENT',
      `deployment file ${file}${line === undefined ? '' : `, line ${line}`} (${field || 'top level'}): ${message}`,
      { file, field },
    );
  }
  try {
    return checkDeployment(toDeployment(r.data));
  } catch (err) {
    if (err instanceof YardError) throw new YardError(err.code, `deployment file ${file}: ${err.message}`, err.details);
    throw err;
  }
}

/** Numbers on the wire, by the same rules as the file's. */
const wireSchema = z.object({
  name: deploymentNameSchema,
  replicas: count(DEPLOYMENT_LIMITS.replicas),
  placement: z.object({ labels: labelsSchema, gpus: count(64) }).optional(),
  update: z
    .object({
      maxUnavailable: count(DEPLOYMENT_LIMITS.replicas),
      maxSurge: count(DEPLOYMENT_LIMITS.replicas),
      healthTimeoutMs: count(2_147_483_647),
    })
    .refine((u) => u.maxUnavailable + u.maxSurge > 0, {
      message: 'needs maxUnavailable or maxSurge above 0, or no replica could ever be replaced',
    })
    .optional(),
  route: z.object({ name: z.string(), port: count(65535) }).optional(),
  autoscale: z
    .object({
      min: count(DEPLOYMENT_LIMITS.replicas),
      max: count(DEPLOYMENT_LIMITS.replicas),
      metric: z.literal(autoscaleValues()),
      target: z.number().positive('must be above 0'),
      cooldownMs: count(2_147_483_647),
    })
    .refine((a) => a.min <= a.max, { message: 'min must not be above max', path: ['min'] })
    .optional(),
});

function autoscaleValues(): AutoscaleMetric[] {
  return [
    AutoscaleMetric.AUTOSCALE_METRIC_CPU_PERCENT,
    AutoscaleMetric.AUTOSCALE_METRIC_GPU_UTIL_PERCENT,
    AutoscaleMetric.AUTOSCALE_METRIC_CONNECTIONS_PER_REPLICA,
  ];
}

/**
 * A deployment as the controller takes it, with its defaults filled in: the numbers checked, the
 * template checked as `yard run`'s spec would be (under a replica's name), a routed deployment
 * within a route's backends and with a port to route to.
 */
export function checkDeployment(d: Deployment): Deployment {
  const r = wireSchema.safeParse(d);
  if (!r.success) {
    const { field, message } = describeIssue(r.error);
    throw new YardError('INVALID_ARGUMENT', `deployment ${printable(String(d.name))}: ${field} ${message}`, { field });
  }
  const template = parseWorkloadSpec(
    { ...d.template, name: replicaName(d.name, 99999, 'ffff') },
    (p) =>
      new YardError('INVALID_ARGUMENT', `deployment ${d.name}: template.${p.path} ${p.problem}`, {
        field: `template.${p.field}`,
      }),
  );
  const route = d.route?.name
    ? { name: d.route.name, port: d.route.port || template.ports[0] || 0 }
    : { name: '', port: 0 };
  if (route.name && route.port === 0)
    throw new YardError(
      'INVALID_ARGUMENT',
      `deployment ${d.name}: route ${route.name} needs a port: give route.port, or template.ports`,
      { field: 'route.port' },
    );
  const most = d.autoscale ? d.autoscale.max : d.replicas;
  if (route.name && most > DEPLOYMENT_LIMITS.routedReplicas)
    throw new YardError(
      'INVALID_ARGUMENT',
      `deployment ${d.name}: ${most} replicas behind route ${route.name}; a route reaches at most ${DEPLOYMENT_LIMITS.routedReplicas} backends`,
      { field: 'replicas' },
    );
  return {
    ...d,
    template: { ...template, name: d.name },
    placement: d.placement ?? { labels: {}, gpus: 0, allowSameHost: false },
    update: d.update ?? {
      maxUnavailable: DEFAULT_DEPLOYMENT.maxUnavailable,
      maxSurge: DEFAULT_DEPLOYMENT.maxSurge,
      healthTimeoutMs: DEFAULT_DEPLOYMENT.healthTimeoutMs,
      autoRevert: true,
    },
    route,
  };
}
