import { describe, expect, it } from 'vitest';
import { YardError } from '../../src/core/errors.js';
import { MAX_CHECKPOINT_TIMEOUT_MS, parseWorkloadSpec } from '../../src/core/schema/workload-spec.js';
import {
  DEFAULT_CHECKPOINT_SIGNAL,
  DEFAULT_CHECKPOINT_TIMEOUT_MS,
  MigrationStrategy,
  RestartPolicy,
  type WorkloadSpec,
} from '../../src/core/workload.js';
import { workloadSpec } from '../helpers/specs.js';

/** A spec as a gRPC client sends it: every field at its zero value. */
const bare = (extra: Partial<WorkloadSpec> = {}): WorkloadSpec =>
  workloadSpec('train', 'python3', { restart: 0, strategy: 0, ...extra });

function refusal(input: unknown): YardError {
  try {
    parseWorkloadSpec(input);
  } catch (err) {
    if (err instanceof YardError) return err;
    throw err;
  }
  throw new Error('the spec was accepted');
}

describe('one workload spec schema (the CLI, the controller and the agent call it)', () => {
  it('fills in every default once, so what an operator sees is what runs', () => {
    expect(parseWorkloadSpec(bare())).toEqual({
      ...bare(),
      restart: RestartPolicy.RESTART_POLICY_NEVER,
      strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      checkpointSignal: DEFAULT_CHECKPOINT_SIGNAL,
      checkpointTimeoutMs: DEFAULT_CHECKPOINT_TIMEOUT_MS,
    });
    const given = bare({
      restart: RestartPolicy.RESTART_POLICY_ALWAYS,
      strategy: MigrationStrategy.MIGRATION_STRATEGY_FREEZE,
      checkpointSignal: 'SIGTERM',
      checkpointTimeoutMs: MAX_CHECKPOINT_TIMEOUT_MS,
    });
    expect(parseWorkloadSpec(given)).toEqual(given);
  });

  it('copies what it returns: the caller cannot change the checked spec afterwards', () => {
    const input = bare({ env: { A: '1' }, ports: [8080] });
    const spec = parseWorkloadSpec(input);
    input.env.B = '2';
    input.ports.push(0);
    expect(spec.env).toEqual({ A: '1' });
    expect(spec.ports).toEqual([8080]);
  });

  it.each([
    [
      'a signal a workload cannot catch (SIGKILL)',
      { checkpointSignal: 'SIGKILL' },
      'checkpointSignal',
      'workload train: checkpointSignal SIGKILL cannot be caught, so a workload could never save its state on it: use e.g. SIGUSR1',
    ],
    [
      'a signal a workload cannot catch (SIGSTOP)',
      { checkpointSignal: 'SIGSTOP' },
      'checkpointSignal',
      'workload train: checkpointSignal SIGSTOP cannot be caught, so a workload could never save its state on it: use e.g. SIGUSR1',
    ],
    [
      'no signal at all',
      { checkpointSignal: 'SIGNOPE' },
      'checkpointSignal',
      'workload train: checkpointSignal "SIGNOPE" is not a signal name: use e.g. SIGUSR1, SIGUSR2, SIGTERM',
    ],
    [
      'a checkpoint timeout over an hour',
      { checkpointTimeoutMs: 2 * 3_600_000 },
      'checkpointTimeoutMs',
      'workload train: checkpointTimeoutMs "2h" is longer than an hour, the most a migration waits for a workload to save',
    ],
    [
      'a variable the agent sets',
      { env: { SWITCHYARD_STATE_DIR: '/tmp' } },
      'env',
      'workload train: env SWITCHYARD_STATE_DIR: the agent sets it, as it sets every SWITCHYARD_* variable (the checkpoint contract): use another name',
    ],
    [
      'any SWITCHYARD_ variable',
      { env: { SWITCHYARD_ANYTHING: '1' } },
      'env',
      'workload train: env SWITCHYARD_ANYTHING: the agent sets it',
    ],
    [
      'a variable name a shell cannot hold',
      { env: { 'A=B': '1' } },
      'env',
      'workload train: env "A=B" is not a variable name: letters, digits and _, not starting with a digit',
    ],
    [
      'a relative working directory',
      { cwd: 'srv' },
      'cwd',
      'workload train: cwd "srv" must be an absolute path on the server',
    ],
    ['port 0', { ports: [8080, 0] }, 'ports', 'workload train: ports[1] "0" is not a port number (1-65535)'],
    ['an empty command', { command: ' ' }, 'command', 'workload train: command is empty: give the program to run'],
    [
      'a restart policy from a newer client',
      { restart: RestartPolicy.UNRECOGNIZED },
      'restart',
      'workload train: restart -1 is not a restart policy: use never, on-failure or always',
    ],
    [
      'a label with a control character',
      { labels: { rack: 'r1\x1b[2J' } },
      'labels',
      'workload train: labels.rack holds a control character',
    ],
  ] as [string, Partial<WorkloadSpec>, string, string][])(
    'refuses %s, naming the workload and the field',
    (_, bad, field, message) => {
      const err = refusal(bare(bad));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.details).toEqual({ field, workload: 'train' });
      expect(err.message.startsWith(message), err.message).toBe(true);
    },
  );

  it('says "(unnamed)" for a name it cannot use, and asks for a missing spec', () => {
    expect(refusal(bare({ name: 'no/slashes' })).message).toBe(
      'workload (unnamed): name "no/slashes" is not valid: use up to 63 letters, digits, . _ - (starting with a letter or digit)',
    );
    expect(refusal(undefined).message).toBe('workload (unnamed): spec is required');
    const { env: _, ...noEnv } = bare();
    expect(refusal(noEnv).message).toBe('workload train: env is required');
  });
});
