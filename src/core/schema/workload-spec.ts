// A WorkloadSpec as it arrives — from `yard run`, at the controller's gRPC edge, from the
// controller at the agent, from a spec.json on the agent's disk — is checked here, by one
// schema, and given its defaults once, so everything after it can trust the spec.
import { constants as osConstants } from 'node:os';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { YardError } from '../errors.js';
import { printable } from '../printable.js';
import { describeIssue } from '../validate.js';
import { labelsSchema } from './labels.js';
import {
  DEFAULT_CHECKPOINT_SIGNAL,
  DEFAULT_CHECKPOINT_TIMEOUT_MS,
  MigrationStrategy,
  RestartPolicy,
  WORKLOAD_NAME,
  type WorkloadSpec,
} from '../workload.js';

/**
 * The longest a workload may take to save its state and exit. A migration waits this long with
 * the workload's clients held, so a longer wait is a hung workload more likely than a slow one.
 */
export const MAX_CHECKPOINT_TIMEOUT_MS = 3_600_000;

/** The agent sets these for every run (the checkpoint contract): a spec may not. */
const RESERVED_ENV_PREFIX = 'SWITCHYARD_';

/** A workload cannot catch these, so they can never ask it to save its state. */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

const quoted = (value: unknown) => `"${printable(String(value))}"`;

/** "7200000" → "2h": a timeout as an operator writes one. */
function durationText(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function knownValue(values: object, what: string, choices: string) {
  return z.number().refine((v) => Object.values(values).includes(v) && v >= 0, {
    error: (i) => `${String(i.input)} is not ${what}: use ${choices}`,
  });
}

/** A checkpoint signal, by name; empty means the default. */
export const checkpointSignalSchema = z
  .string()
  .refine((s) => s === '' || s in osConstants.signals, {
    error: (i) => `${quoted(i.input)} is not a signal name: use e.g. SIGUSR1, SIGUSR2, SIGTERM`,
  })
  .refine((s) => !UNCATCHABLE.has(s), {
    error: (i) =>
      `${String(i.input)} cannot be caught, so a workload could never save its state on it: use e.g. SIGUSR1`,
  });

function checkEnvNames(env: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      ctx.addIssue({
        code: 'custom',
        message: `${quoted(key)} is not a variable name: letters, digits and _, not starting with a digit`,
      });
    } else if (key.startsWith(RESERVED_ENV_PREFIX)) {
      ctx.addIssue({
        code: 'custom',
        message: `${key}: the agent sets it, as it sets every ${RESERVED_ENV_PREFIX}* variable (the checkpoint contract): use another name`,
      });
    }
  }
}

/** A workload's name: it names directories and appears in commands. */
export const workloadNameSchema = z.string().refine((n) => WORKLOAD_NAME.test(n), {
  error: (i) =>
    `${quoted(i.input)} is not valid: use up to 63 letters, digits, . _ - (starting with a letter or digit)`,
});

const specSchema = z.looseObject({
  name: workloadNameSchema,
  command: z
    .string()
    .max(4096, 'is longer than 4096 characters')
    .refine((c) => c.trim() !== '', 'is empty: give the program to run'),
  args: z
    .array(z.string().max(65_536, 'holds an argument longer than 64 KiB'))
    .max(1024, 'holds more than 1024 arguments'),
  env: z.record(z.string(), z.string().max(65_536, 'holds a value longer than 64 KiB')).superRefine(checkEnvNames),
  cwd: z
    .string()
    .max(4096)
    .refine((d) => d === '' || isAbsolute(d), {
      error: (i) => `${quoted(i.input)} must be an absolute path on the server`,
    }),
  labels: labelsSchema,
  restart: knownValue(RestartPolicy, 'a restart policy', 'never, on-failure or always'),
  strategy: knownValue(MigrationStrategy, 'a migration strategy', 'checkpoint, restart or freeze'),
  checkpointSignal: checkpointSignalSchema,
  checkpointTimeoutMs: z
    .number()
    .int('must be a whole number of milliseconds')
    .min(0, 'must not be negative')
    .refine((ms) => ms <= MAX_CHECKPOINT_TIMEOUT_MS, {
      error: (i) =>
        `${quoted(durationText(Number(i.input)))} is longer than an hour, the most a migration waits for a workload to save`,
    }),
  ports: z
    .array(
      z.number().refine((p) => Number.isInteger(p) && p >= 1 && p <= 65_535, {
        error: (i) => `${quoted(i.input)} is not a port number (1-65535)`,
      }),
    )
    .max(64, 'holds more than 64 ports'),
});

/** The spec with defaults made explicit, so what an operator sees is what runs. */
function withDefaults(spec: WorkloadSpec): WorkloadSpec {
  return {
    ...spec,
    args: [...spec.args],
    env: { ...spec.env },
    labels: { ...spec.labels },
    ports: [...spec.ports],
    restart: spec.restart || RestartPolicy.RESTART_POLICY_NEVER,
    strategy: spec.strategy || MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: spec.checkpointSignal || DEFAULT_CHECKPOINT_SIGNAL,
    checkpointTimeoutMs: spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS,
  };
}

/** What is wrong with a spec: the field (`env`, `labels.rack`) and what an operator reads about it. */
export interface SpecProblem {
  /** The spec's field, as WorkloadSpec names it. */
  field: string;
  /** The field's path, for a record or a list (`labels.rack`, `ports[1]`). */
  path: string;
  /** What is wrong with it, quoting the value where that helps. */
  problem: string;
}

/** As the controller and the agent say it: `workload train: checkpointSignal SIGKILL cannot be caught…`. */
function specError(p: SpecProblem, input: unknown): YardError {
  const name = (input as { name?: unknown } | undefined)?.name;
  const workload = typeof name === 'string' && WORKLOAD_NAME.test(name) ? name : '(unnamed)';
  return new YardError('INVALID_ARGUMENT', `workload ${workload}: ${p.path} ${p.problem}`, {
    field: p.field,
    workload,
  });
}

/**
 * The spec, checked and with its defaults filled in; else throws what `describe` makes of the
 * first problem (by default an INVALID_ARGUMENT naming the workload and the field; the CLI names
 * its flag instead).
 */
export function parseWorkloadSpec(
  input: unknown,
  describe: (p: SpecProblem, input: unknown) => Error = specError,
): WorkloadSpec {
  if (input === undefined || input === null)
    throw describe({ field: 'spec', path: 'spec', problem: 'is required' }, input);
  const r = specSchema.safeParse(input);
  if (!r.success) {
    const { field: path, message } = describeIssue(r.error);
    throw describe(
      { field: String(r.error.issues[0]?.path[0] ?? 'spec'), path: path || 'spec', problem: message },
      input,
    );
  }
  return withDefaults(input as WorkloadSpec);
}
