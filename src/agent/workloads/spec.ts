// A WorkloadSpec as it arrives (from the CLI, the controller, a spec.json) is checked here once,
// with defaults filled in, so everything after can trust it.
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { YardError } from '../../core/errors.js';
import { DEFAULT_CHECKPOINT_SIGNAL, DEFAULT_CHECKPOINT_TIMEOUT_MS, RestartPolicy, WORKLOAD_NAME, type WorkloadSpec } from '../../core/workload.js';

// A checkpoint that takes longer than a day is a hung workload, not a slow one.
const MAX_CHECKPOINT_TIMEOUT_MS = 24 * 3600_000;
// A workload cannot catch these, so they can never ask it to save its state.
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

function invalid(spec: WorkloadSpec, field: string, problem: string): YardError {
  return new YardError('INVALID_ARGUMENT', `workload ${spec.name || '(unnamed)'}: ${field} ${problem}`, { field, workload: spec.name });
}

/** The spec with defaults made explicit, so what an operator sees is what runs. */
export function withDefaults(spec: WorkloadSpec): WorkloadSpec {
  return {
    ...spec,
    args: [...spec.args],
    env: { ...spec.env },
    labels: { ...spec.labels },
    ports: [...spec.ports],
    restart: spec.restart === RestartPolicy.RESTART_POLICY_UNSPECIFIED ? RestartPolicy.RESTART_POLICY_NEVER : spec.restart,
    checkpointSignal: spec.checkpointSignal || DEFAULT_CHECKPOINT_SIGNAL,
    checkpointTimeoutMs: spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS,
  };
}

/** Checks what needs no file system; throws INVALID_ARGUMENT naming the field. */
export function checkSpec(spec: WorkloadSpec): void {
  if (!WORKLOAD_NAME.test(spec.name)) {
    throw invalid(spec, 'name', `"${spec.name}" is not valid: use 1–63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  if (spec.command.trim() === '') throw invalid(spec, 'command', 'is empty: give the program to run');
  if (!Object.values(RestartPolicy).includes(spec.restart) || spec.restart === RestartPolicy.UNRECOGNIZED) {
    throw invalid(spec, 'restart', `${spec.restart} is not a restart policy: use never, on-failure or always`);
  }
  const signal = spec.checkpointSignal;
  if (!(signal in osConstants.signals)) throw invalid(spec, 'checkpointSignal', `"${signal}" is not a signal name: use one like SIGUSR1 or SIGTERM`);
  if (UNCATCHABLE.has(signal)) throw invalid(spec, 'checkpointSignal', `${signal} cannot be caught by a workload: use one it can trap, like SIGUSR1`);
  if (spec.checkpointTimeoutMs > MAX_CHECKPOINT_TIMEOUT_MS) throw invalid(spec, 'checkpointTimeoutMs', `${spec.checkpointTimeoutMs} is more than a day`);
  const port = spec.ports.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
  if (port !== undefined) throw invalid(spec, 'ports', `${port} is not a port number (1–65535)`);
  const key = Object.keys(spec.env).find((k) => k === '' || k.includes('=') || k.includes('\0'));
  if (key !== undefined) throw invalid(spec, 'env', `has an invalid variable name "${key}"`);
  if (spec.cwd !== '' && !isAbsolute(spec.cwd)) throw invalid(spec, 'cwd', `"${spec.cwd}" must be an absolute path`);
}

/** Checks what this host must have: the working directory and the command (run from `cwd`). */
export async function checkSpecOnHost(spec: WorkloadSpec, cwd: string): Promise<void> {
  checkSpec(spec);
  if (spec.cwd !== '') {
    const st = await stat(spec.cwd).catch(() => undefined);
    if (!st?.isDirectory()) throw invalid(spec, 'cwd', `${spec.cwd} is not a directory on this host`);
  }
  if ((await findCommand(spec, cwd)) === undefined) {
    throw invalid(spec, 'command', `"${spec.command}" was not found or is not executable on this host (looked in ${spec.command.includes('/') ? 'its path' : 'PATH'})`);
  }
}

/** Where the command resolves, as execvp would find it; undefined when it would fail. */
async function findCommand(spec: WorkloadSpec, cwd: string): Promise<string | undefined> {
  const executable = (p: string) =>
    access(p, fsConstants.X_OK).then(
      () => stat(p).then((st) => (st.isFile() ? p : undefined)),
      () => undefined,
    );
  if (spec.command.includes('/')) return executable(resolve(cwd, spec.command));
  const path = spec.env.PATH ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const found = await executable(join(dir, spec.command));
    if (found) return found;
  }
  return undefined;
}
