import { describe, expect, it } from 'vitest';
import { SCORE_HELP } from '../../src/core/target-score.js';
import { UNICODE_GLYPHS } from '../../src/tui/glyphs.js';
import { bytesText } from '../../src/core/format/bytes.js';
import { timingRows } from '../../src/core/format/migration.js';
import { phaseMark } from '../../src/tui/render/states.js';
import { loadTheme, withoutColour } from '../../src/tui/theme.js';
import {
  defaultWorkloadName,
  parseRunArgs,
  parseSignal,
  parseTail,
  type RunArgs,
} from '../../src/cli/commands/workloads.js';
import {
  ASCII_MARKS,
  EXIT_MIGRATION_FAILED,
  EXIT_ROLLED_BACK,
  TransferRate,
  exitCodeForPhase,
  migrationJson,
  planPasses,
  planText,
  progressLine,
  startedText,
  stateText,
  timingsText,
  workloadJson,
  workloadsTable,
} from '../../src/cli/format-workloads.js';
import {
  noTimings,
  MigrationPhase,
  MigrationStrategy,
  RestartPolicy,
  WorkloadState,
  type Migration,
} from '../../src/core/workload.js';
import type { KnownWorkload } from '../../src/core/domain.js';
import type { MigrationPlan } from '../../src/core/fleet.js';
import { overviewText, serversTable } from '../../src/cli/format.js';
import { ServerState, type Server } from '../../src/core/types.js';
import type { OverviewResponse } from '../../src/gen/switchyard/v1/control.js';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const names = new Map([
  ['id-gpu1', 'gpu1'],
  ['id-gpu2', 'gpu2'],
]);

function workload(over: Partial<KnownWorkload> = {}, name = 'train'): KnownWorkload {
  return {
    spec: {
      name,
      command: 'python',
      args: ['train.py'],
      env: {},
      cwd: '',
      labels: { team: 'ml' },
      restart: RestartPolicy.RESTART_POLICY_ON_FAILURE,
      strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      checkpointSignal: 'SIGUSR1',
      checkpointTimeoutMs: 30_000,
      ports: [],
    },
    serverId: 'id-gpu1',
    state: WorkloadState.WORKLOAD_STATE_RUNNING,
    pid: 4242,
    startedMs: NOW - 90 * 60_000,
    exitSignal: '',
    restarts: 2,
    stateDir: '/var/lib/yard/agent/workloads/train/state',
    restored: false,
    cpuPct: 97.6,
    rssBytes: 1.5 * 2 ** 30,
    gpuMemoryMib: 20_480,
    message: '',
    ...over,
  };
}

function migration(over: Partial<Migration> = {}): Migration {
  return {
    id: 'mig-1',
    workload: 'train',
    sourceServerId: 'id-gpu1',
    targetServerId: 'id-gpu2',
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    phase: MigrationPhase.MIGRATION_PHASE_TRANSFERRING,
    requestedBy: 'ops',
    createdMs: NOW - 12_000,
    updatedMs: NOW - 1000,
    finishedMs: 0,
    preflight: [],
    timings: noTimings(),
    bytesDone: 0,
    bytesTotal: 0,
    checkpointSha256: '',
    precopy: false,
    error: '',
    transferPath: '',
    ...over,
  };
}

/** A move that pre-copied 1.25 GiB in 3 rounds while it ran, then carried 50 MiB agent to agent. */
const precopied = migration({
  phase: MigrationPhase.MIGRATION_PHASE_COMMITTED,
  finishedMs: NOW - 2000,
  precopy: true,
  transferPath: 'direct',
  timings: {
    ...noTimings(),
    precopyMs: 4200,
    precopyRounds: 3,
    precopyBytes: 1.25 * 2 ** 30,
    bytesSaved: 974 * 2 ** 20,
    checkpointMs: 310,
    transferMs: 400,
    transferBytes: 50 * 2 ** 20,
    restoreMs: 820,
    verifyMs: 1010,
    downtimeMs: 1900,
  },
});

describe('yard ps', () => {
  it('prints JSON with the server name, words for enums, and null for what is unknown', () => {
    const j = workloadJson(workload({ cpuPct: undefined, rssBytes: undefined, gpuMemoryMib: undefined }), names);
    expect(j).toMatchObject({
      name: 'train',
      server: 'gpu1',
      serverId: 'id-gpu1',
      state: 'running',
      strategy: 'checkpoint',
      restartPolicy: 'on-failure',
      pid: 4242,
      restarts: 2,
      cpuPct: null,
      rssBytes: null,
      gpuMemoryMiB: null,
      startedAt: new Date(NOW - 90 * 60_000).toISOString(),
      exitCode: null,
      exitSignal: null,
    });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('has no pid or readings for a workload that is not running, and null for a server it does not know', () => {
    const j = workloadJson(
      workload({ state: WorkloadState.WORKLOAD_STATE_EXITED, exitCode: 1, serverId: 'gone' }),
      names,
    );
    expect(j).toMatchObject({
      state: 'exited',
      pid: null,
      cpuPct: null,
      rssBytes: null,
      gpuMemoryMiB: null,
      exitCode: 1,
      server: null,
      serverId: 'gone',
    });
  });

  it('lines up a table sorted by name with readable units and – for unknowns', () => {
    const out = workloadsTable(
      [
        workload({}, 'train'),
        workload(
          {
            serverId: 'id-gpu2',
            state: WorkloadState.WORKLOAD_STATE_PAUSED,
            cpuPct: 0,
            rssBytes: 300 * 2 ** 20,
            gpuMemoryMib: undefined,
            restarts: 0,
          },
          'a-very-long-workload-name',
        ),
        workload({ state: WorkloadState.WORKLOAD_STATE_EXITED }, 'done'),
      ],
      names,
      NOW,
    );
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SERVER\s+STATE\s+STRATEGY\s+CPU\s+RSS\s+GPU-MEM\s+UPTIME\s+RESTARTS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['a-very-long-workload-name', 'done', 'train']);
    // Every column starts at the same offset on every line.
    const serverCol = lines[0]!.indexOf('SERVER');
    expect(serverCol).toBe('a-very-long-workload-name'.length + 2);
    for (const l of lines.slice(1)) expect(l.slice(serverCol, serverCol + 4)).toMatch(/^gpu\d/);
    expect(lines[3]).toMatch(/train\s+gpu1\s+running\s+checkpoint\s+98%\s+1\.5G\s+20\.0G\s+1h30m\s+2$/);
    expect(lines[1]).toMatch(/paused\s+checkpoint\s+0%\s+300M\s+–\s+1h30m\s+0$/);
    expect(lines[2]).toMatch(/exited\s+checkpoint\s+–\s+–\s+–\s+–\s+2$/);
  });

  it('says how to start one when there are none', () => {
    expect(workloadsTable([], names)).toMatch(/no workloads: start one with `yard run --on SERVER -- COMMAND`/);
  });
});

describe('yard run / stop', () => {
  it('says where the workload started, its pid and state dir', () => {
    const out = startedText(workload(), names);
    expect(out).toMatch(/^started train on gpu1$/m);
    expect(out).toMatch(/pid\s+4242/);
    expect(out).toMatch(/state dir\s+\/var\/lib\/yard\/agent\/workloads\/train\/state/);
    expect(out).toMatch(/yard logs -f train/);
  });

  it('prints the new state with the exit code', () => {
    expect(
      stateText(
        workload({
          state: WorkloadState.WORKLOAD_STATE_EXITED,
          exitCode: 0,
          exitSignal: 'SIGTERM',
          message: 'stopped (killed by SIGTERM)',
        }),
        names,
      ),
    ).toBe('train on gpu1: exited (stopped (killed by SIGTERM))\n');
    expect(stateText(workload({ state: WorkloadState.WORKLOAD_STATE_EXITED, exitCode: 3 }), names)).toBe(
      'train on gpu1: exited (exit code 3)\n',
    );
    expect(
      stateText(workload({ state: WorkloadState.WORKLOAD_STATE_EXITED, exitCode: 0, exitSignal: 'SIGKILL' }), names),
    ).toBe('train on gpu1: exited (killed by SIGKILL)\n');
    expect(stateText(workload({ state: WorkloadState.WORKLOAD_STATE_PAUSED, message: 'paused' }), names)).toBe(
      'train on gpu1: paused\n',
    );
    expect(stateText(workload({ message: 'resumed' }), names)).toBe('train on gpu1: running (resumed)\n');
  });
});

describe('yard run arguments', () => {
  const base: RunArgs = {
    on: 'gpu1',
    strategy: 'checkpoint',
    checkpointSignal: 'SIGUSR1',
    checkpointTimeout: '30s',
    env: [],
    restart: 'never',
    label: [],
    port: [],
    '--': ['python', 'train.py', '--lr', '3e-4'],
  };

  it('turns flags into a spec, keeping the command after -- as it was', () => {
    const { server, spec } = parseRunArgs({
      ...base,
      name: 'train',
      env: ['A=1', 'B=x=y'],
      label: ['team=ml'],
      port: ['8080', '8080', '9090'],
      checkpointSignal: 'usr2',
      checkpointTimeout: '2m',
      restart: 'on-failure',
      cwd: '/srv',
    });
    expect(server).toBe('gpu1');
    expect(spec).toEqual({
      name: 'train',
      command: 'python',
      args: ['train.py', '--lr', '3e-4'],
      env: { A: '1', B: 'x=y' },
      cwd: '/srv',
      labels: { team: 'ml' },
      restart: RestartPolicy.RESTART_POLICY_ON_FAILURE,
      strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      checkpointSignal: 'SIGUSR2',
      checkpointTimeoutMs: 120_000,
      ports: [8080, 9090],
    });
  });

  it('names a workload after its command', () => {
    expect(defaultWorkloadName('/opt/jobs/checkpoint-counter.mjs', 'ab12')).toBe('checkpoint-counter-ab12');
    expect(defaultWorkloadName('python3', 'ab12')).toBe('python3-ab12');
    expect(defaultWorkloadName('/weird/$$$', 'ab12')).toBe('workload-ab12');
    expect(parseRunArgs(base).spec.name).toMatch(/^python-[0-9a-f]{4}$/);
  });

  it('names the flag in every error', () => {
    const bad: [Partial<RunArgs>, RegExp][] = [
      [{ '--': [] }, /after `--`/],
      [{ '--': [], command: ['sleep', '1'] }, /yard run --on gpu1 -- sleep 1/],
      [{ name: 'no spaces' }, /--name "no spaces" is not valid/],
      [{ env: ['NOEQUALS'] }, /--env "NOEQUALS" is not KEY=VALUE/],
      [{ env: ['SWITCHYARD_RESTORE=1'] }, /--env SWITCHYARD_RESTORE: the agent sets it/],
      [{ checkpointTimeout: '2h' }, /--checkpoint-timeout "2h" is longer than an hour/],
      [{ label: ['bad key=1'] }, /--label key "bad key"/],
      [{ port: ['0'] }, /--port "0" is not a port number/],
      [{ checkpointSignal: 'SIGKILL' }, /--checkpoint-signal SIGKILL cannot be caught/],
      [{ checkpointTimeout: 'soon' }, /--checkpoint-timeout "soon" is not a duration/],
      [{ cwd: 'relative' }, /--cwd "relative" must be an absolute path/],
      [{ strategy: 'teleport' }, /--strategy "teleport" is not one of checkpoint, restart, freeze/],
    ];
    for (const [over, message] of bad)
      expect(() => parseRunArgs({ ...base, ...over }), JSON.stringify(over)).toThrow(message);
  });

  it('reads signals and byte counts the way people write them', () => {
    expect(parseSignal('SIGUSR1', '--x')).toBe('SIGUSR1');
    expect(parseSignal('term', '--x')).toBe('SIGTERM');
    expect(() => parseSignal('SIGNOPE', '--x')).toThrow(/not a signal name/);
    expect(parseTail('4096')).toBe(4096);
    expect(parseTail('64KiB')).toBe(65_536);
    expect(parseTail('2MiB')).toBe(2 * 2 ** 20);
    expect(() => parseTail('-1')).toThrow(/--tail "-1" is not a size/);
    expect(() => parseTail('8GiB')).toThrow(/--tail "8GiB" is more than 4 GiB/);
  });
});

describe('yard migrate', () => {
  it('maps how a migration ended to its exit code', () => {
    expect(exitCodeForPhase(MigrationPhase.MIGRATION_PHASE_COMMITTED)).toBe(0);
    expect(exitCodeForPhase(MigrationPhase.MIGRATION_PHASE_ROLLED_BACK)).toBe(EXIT_ROLLED_BACK);
    expect(exitCodeForPhase(MigrationPhase.MIGRATION_PHASE_FAILED)).toBe(EXIT_MIGRATION_FAILED);
    expect([EXIT_ROLLED_BACK, EXIT_MIGRATION_FAILED]).toEqual([3, 4]);
    // Not ended (the watch was cut short): an error, not a verdict.
    expect(exitCodeForPhase(MigrationPhase.MIGRATION_PHASE_TRANSFERRING)).toBe(1);
    expect(exitCodeForPhase(MigrationPhase.MIGRATION_PHASE_ROLLING_BACK)).toBe(1);
  });

  it('draws a transfer as one line with a bar, bytes, rate and elapsed time, never wider than the terminal', () => {
    const m = migration({ bytesDone: 45 * 2 ** 20, bytesTotal: 100 * 2 ** 20 });
    const line = progressLine(m, { now: NOW, columns: 100, rateBps: 9 * 2 ** 20 });
    expect(line).toBe('train: transferring  [########.........]  45%  45.0 MiB / 100.0 MiB  9.0 MiB/s  elapsed 12.0 s');
    expect(line).not.toMatch(/[\r\n]/);
    for (const columns of [40, 60, 80, 200])
      expect(progressLine(m, { now: NOW, columns, rateBps: 1e6 }).length).toBeLessThan(columns);
    expect(progressLine(m, { now: NOW, columns: 50 })).not.toContain('[');
    // The bar keeps its width while the numbers around it change.
    const barOf = (l: string) => /\[[#.]+\]/.exec(l)![0].length;
    expect(barOf(progressLine(m, { now: NOW, columns: 100 }))).toBe(barOf(line));
  });

  it('shows only the phase and elapsed time outside the transfer', () => {
    expect(
      progressLine(migration({ phase: MigrationPhase.MIGRATION_PHASE_CHECKPOINTING }), { now: NOW, columns: 80 }),
    ).toBe('train: checkpointing  elapsed 12.0 s');
    const done = migration({ phase: MigrationPhase.MIGRATION_PHASE_COMMITTED, finishedMs: NOW - 2000 });
    expect(progressLine(done, { now: NOW, columns: 80 })).toBe('train: committed      elapsed 10.0 s');
  });

  it("names the pre-copy round while it runs, with the round's bytes on the bar", () => {
    const round = migration({
      phase: MigrationPhase.MIGRATION_PHASE_PRECOPYING,
      precopy: true,
      bytesDone: 256 * 2 ** 20,
      bytesTotal: 2 ** 30,
      timings: { ...noTimings(), precopyRounds: 1, precopyBytes: 2 ** 30 },
    });
    expect(progressLine(round, { now: NOW, columns: 120, rateBps: 100 * 2 ** 20 })).toBe(
      'train: pre-copy round 2 [########......................]  25%  256.0 MiB / 1.0 GiB  100.0 MiB/s  elapsed 12.0 s',
    );
    for (const columns of [40, 80, 200])
      expect(progressLine(round, { now: NOW, columns }).length).toBeLessThan(columns);
    // Before the state dir's size is known: the round and the time only.
    expect(progressLine({ ...round, bytesTotal: 0, bytesDone: 0 }, { now: NOW, columns: 80 })).toBe(
      'train: pre-copy round 2  elapsed 12.0 s',
    );
  });

  it('shows bytes moved without a bar while the archive size is unknown', () => {
    const uploading = migration({ phase: MigrationPhase.MIGRATION_PHASE_CHECKPOINTING, bytesDone: 5 * 2 ** 20 });
    expect(progressLine(uploading, { now: NOW, columns: 80, rateBps: 2 ** 20 })).toBe(
      'train: checkpointing  5.0 MiB  1.0 MiB/s  elapsed 12.0 s',
    );
  });

  it('measures the transfer rate from the first transfer update it sees', () => {
    const rate = new TransferRate();
    expect(rate.update(migration({ phase: MigrationPhase.MIGRATION_PHASE_PREFLIGHT }), 0)).toBeUndefined();
    expect(rate.update(migration({ bytesDone: 0, bytesTotal: 100e6 }), 0)).toBeUndefined();
    expect(rate.update(migration({ bytesDone: 50e6, bytesTotal: 100e6 }), 2000)).toBe(25e6);
    expect(rate.update(migration({ bytesDone: 100e6, bytesTotal: 100e6 }), 5000)).toBe(20e6);
    // Complete: the rate stays what it took while the next phase starts.
    expect(rate.update(migration({ bytesDone: 100e6, bytesTotal: 100e6 }), 60_000)).toBe(20e6);
  });

  it('measures from the last update before the first byte moved, not from the start of the save', () => {
    const rate = new TransferRate();
    const saving = (bytesDone: number) =>
      migration({ phase: MigrationPhase.MIGRATION_PHASE_CHECKPOINTING, bytesDone, bytesTotal: 0 });
    rate.update(saving(0), 0);
    expect(rate.update(saving(0), 4000)).toBeUndefined();
    expect(rate.update(migration({ bytesDone: 10e6, bytesTotal: 100e6 }), 5000)).toBe(10e6);
  });

  it('measures each pre-copy round on its own, and the move after the save apart from them', () => {
    const rate = new TransferRate();
    const round = (n: number, bytesDone: number) =>
      migration({
        phase: MigrationPhase.MIGRATION_PHASE_PRECOPYING,
        bytesDone,
        bytesTotal: 100e6,
        timings: { ...noTimings(), precopyRounds: n - 1 },
      });
    rate.update(round(1, 0), 0);
    expect(rate.update(round(1, 100e6), 1000)).toBe(100e6);
    // The next round starts from zero bytes: no rate until it has moved for a while, then its own.
    expect(rate.update(round(2, 0), 1000)).toBeUndefined();
    expect(rate.update(round(2, 10e6), 2000)).toBe(10e6);
    expect(rate.update(migration({ bytesDone: 0, bytesTotal: 5e6 }), 2000)).toBeUndefined();
    expect(rate.update(migration({ bytesDone: 5e6, bytesTotal: 5e6 }), 2500)).toBe(10e6);
  });

  it('prints timings at the end, with – for phases that did not run', () => {
    const committed = migration({
      phase: MigrationPhase.MIGRATION_PHASE_COMMITTED,
      timings: {
        ...noTimings(),
        checkpointMs: 310,
        transferMs: 1420,
        transferBytes: 256 * 2 ** 20,
        restoreMs: 820,
        verifyMs: 1010,
        downtimeMs: 2610,
      },
    });
    expect(timingsText(committed, names)).toBe(
      [
        'committed: train now runs on gpu2 (migration mig-1, checkpoint)',
        '  checkpoint  310 ms',
        '  transfer    256.0 MiB in 1.42 s (180.3 MiB/s)',
        '  restore     820 ms',
        '  verify      1.01 s',
        '  downtime    2.61 s',
        '',
      ].join('\n'),
    );
    const rolledBack = migration({
      phase: MigrationPhase.MIGRATION_PHASE_ROLLED_BACK,
      error: 'checkpoint timed out after 30 s',
      timings: { ...noTimings(), checkpointMs: 30_000 },
    });
    const text = timingsText(rolledBack, names);
    expect(text).toMatch(
      /^rolled back: train keeps running on gpu1 \(migration mig-1, checkpoint\)\n {2}why {9}checkpoint timed out after 30 s\n/,
    );
    expect(text).toMatch(/transfer {4}–\n/);
    expect(text).toMatch(/downtime {4}–\n/);
    // The dashboard prints the same figures in the same units, and phases in words.
    expect(timingRows(committed, '–')).toContainEqual(['transfer', '256.0 MiB in 1.42 s (180.3 MiB/s)']);
    expect(timingRows(committed, '–')).toContainEqual(['verify', '1.01 s']);
    expect(
      phaseMark(MigrationPhase.MIGRATION_PHASE_ROLLED_BACK, {
        theme: withoutColour(loadTheme('default')),
        glyphs: UNICODE_GLYPHS,
      }).text,
    ).toBe('↺ rolled back');
    expect(
      progressLine(migration({ phase: MigrationPhase.MIGRATION_PHASE_ROLLING_BACK }), { now: NOW, columns: 80 }),
    ).toMatch(/^train: rolling back /);
  });

  it('prints the pre-copy, the path and the bytes saved with the timings', () => {
    expect(timingsText(precopied, names)).toBe(
      [
        'committed: train now runs on gpu2 (migration mig-1, checkpoint)',
        '  pre-copy    3 rounds: 1.3 GiB in 4.20 s (304.8 MiB/s) while it ran',
        '  checkpoint  310 ms',
        '  transfer    50.0 MiB in 400 ms (125.0 MiB/s), agent to agent',
        '  saved       974.0 MiB not carried after the save',
        '  restore     820 ms',
        '  verify      1.01 s',
        '  downtime    1.90 s',
        '',
      ].join('\n'),
    );
    const relayed = migration({
      phase: MigrationPhase.MIGRATION_PHASE_COMMITTED,
      transferPath: 'relay',
      timings: { ...noTimings(), transferBytes: 2 ** 30, transferMs: 8000 },
    });
    expect(timingRows(relayed)).toContainEqual([
      'transfer',
      '1.0 GiB in 8.00 s (128.0 MiB/s), relayed by the controller',
    ]);
    // Without pre-copy, no pre-copy rows.
    expect(timingRows(relayed).map(([what]) => what)).toEqual([
      'checkpoint',
      'transfer',
      'restore',
      'verify',
      'downtime',
    ]);
    // While it pre-copies, the rounds done so far and what they moved.
    const running = migration({
      phase: MigrationPhase.MIGRATION_PHASE_PRECOPYING,
      precopy: true,
      timings: { ...noTimings(), precopyRounds: 1, precopyBytes: 2 ** 30 },
    });
    expect(timingRows(running)[0]).toEqual(['pre-copy', '1 round done: 1.0 GiB so far']);
    // Asked for, rolled back before a round ended: the row says nothing is known yet, and nothing was saved.
    const early = migration({ phase: MigrationPhase.MIGRATION_PHASE_ROLLED_BACK, precopy: true });
    expect(timingRows(early, '–').slice(0, 3)).toEqual([
      ['pre-copy', '–'],
      ['checkpoint', '–'],
      ['transfer', '–'],
    ]);
  });

  it('says how traffic moved for a workload that backs routes', () => {
    const held = migration({
      phase: MigrationPhase.MIGRATION_PHASE_COMMITTED,
      timings: { ...noTimings(), downtimeMs: 300, trafficHeldMs: 265 },
    });
    expect(timingsText(held, names)).toMatch(/ {2}traffic {5}held 265 ms at the proxies during the cutover\n$/);
    const shifted = migration({
      phase: MigrationPhase.MIGRATION_PHASE_COMMITTED,
      strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
      timings: { ...noTimings(), trafficShiftMs: 4311 },
    });
    expect(timingsText(shifted, names)).toMatch(/ {2}traffic {5}shifted to the target in 4\.31 s\n$/);
    expect(timingsText(migration({ timings: noTimings() }), names)).not.toContain('traffic');
  });

  it('prints one JSON object per update with names, words and nulls', () => {
    const j = migrationJson(migration({ bytesDone: 10, bytesTotal: 20 }), names);
    expect(j).toMatchObject({
      id: 'mig-1',
      source: 'gpu1',
      target: 'gpu2',
      phase: 'transferring',
      strategy: 'checkpoint',
      done: false,
      bytesDone: 10,
      bytesTotal: 20,
      finishedAt: null,
      error: null,
    });
    expect(j).toMatchObject({ transferPath: null, precopy: false });
    expect(j.timings).toEqual({
      checkpointMs: null,
      transferMs: null,
      transferBytes: 0,
      restoreMs: null,
      verifyMs: null,
      downtimeMs: null,
      trafficHeldMs: null,
      trafficShiftMs: null,
      precopyMs: null,
      precopyRounds: 0,
      precopyBytes: 0,
      bytesSaved: 0,
      transferRate: null,
    });
    expect(JSON.stringify(j)).not.toContain('\n');
  });

  it('gives the path, the pre-copy and the rate of the move after the save in JSON', () => {
    const j = migrationJson(precopied, names);
    expect(j).toMatchObject({ phase: 'committed', done: true, transferPath: 'direct', precopy: true });
    expect(j.timings).toMatchObject({
      precopyMs: 4200,
      precopyRounds: 3,
      precopyBytes: 1.25 * 2 ** 30,
      bytesSaved: 974 * 2 ** 20,
      transferBytes: 50 * 2 ** 20,
      transferMs: 400,
      // 50 MiB in 400 ms, in bytes a second.
      transferRate: 131_072_000,
      downtimeMs: 1900,
    });
    // A transfer that took no measurable time has no rate, rather than an infinite one.
    const instant = migration({ timings: { ...noTimings(), transferBytes: 10, transferMs: 0 } });
    expect(migrationJson(instant, names).timings.transferRate).toBeNull();
  });

  it('shows a dry run: every check, then the targets best first', () => {
    const plan: MigrationPlan = {
      workload: workload(),
      strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      preflight: [
        { name: 'target-online', ok: true, reason: 'gpu2 is online' },
        { name: 'disk', ok: false, reason: 'needs 2.0 GiB, 1.1 GiB free' },
      ],
      targets: [
        { serverId: 'id-gpu3', name: 'gpu3', eligible: false, score: 0, reasons: ['draining'] },
        { serverId: 'id-gpu2', name: 'gpu2', eligible: true, score: 74, reasons: [] },
      ],
    };
    const text = planText(plan, names, 'gpu2');
    expect(text).toBe(
      [
        'migrate train from gpu1 to gpu2 (strategy checkpoint)',
        'preflight:',
        '  ✓ target-online  gpu2 is online',
        '  ✗ disk           needs 2.0 GiB, 1.1 GiB free',
        '1 of 2 checks failed: the migration would not start',
        'targets, best first:',
        '   1. ✓ gpu2  score 74',
        '   2. ✗ gpu3  score 0  not eligible: draining',
        SCORE_HELP,
        '',
      ].join('\n'),
    );
    expect(planText(plan, names, 'gpu2', ASCII_MARKS)).toMatch(/^ {2}XX disk/m);
    expect(planPasses(plan, 'gpu2')).toBe(false);
    expect(planPasses(plan, undefined)).toBe(true);
    expect(planPasses({ ...plan, preflight: plan.preflight.map((c) => ({ ...c, ok: true })) }, 'gpu2')).toBe(true);
  });

  it('formats byte counts', () => {
    expect(bytesText(512)).toBe('512 B');
    expect(bytesText(1536)).toBe('1.5 KiB');
    expect(bytesText(3 * 2 ** 30)).toBe('3.0 GiB');
  });
});

describe('text from the wire', () => {
  // A name an agent claimed before the controller refused control characters (or an older store holds).
  const ESC = 'evil\x1b[2J\x1b]0;pwned\x07';
  const SHOWN = 'evil\\x1b[2J\\x1b]0;pwned\\x07';
  const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
  const hostile = new Map([
    ['id-gpu1', ESC],
    ['id-gpu2', 'gpu2\x9b31m'],
  ]);

  it('prints servers with their names, labels and controller id escaped, columns still lined up', () => {
    const server = (id: string, name: string, labels: Record<string, string>): Server => ({
      id,
      name,
      hostname: name,
      addresses: [],
      advertiseAddress: '',
      transferAddress: '',
      cordoned: false,
      mac: '',
      labels,
      location: '',
      agentVersion: '',
      state: ServerState.SERVER_STATE_ONLINE,
      firstSeenMs: NOW,
      lastSeenMs: NOW,
      stateSinceMs: NOW,
    });
    const out = serversTable([server('a', ESC, { rack: 'r1\x1b[31m' }), server('b', 'plain', {})], NOW);
    expect(out).not.toMatch(raw);
    const lines = out.trimEnd().split('\n');
    expect(lines[1]).toMatch(new RegExp(`^${SHOWN.replace(/[\\[\]]/g, '\\$&')}  online`));
    expect(lines[1]).toContain('rack=r1\\x1b[31m');
    expect(lines[2]!.indexOf('online')).toBe(lines[1]!.indexOf('online'));
    const overview = overviewText(
      {
        controllerId: `c${ESC}`,
        version: '1\x07',
        startedMs: NOW,
        serversOnline: 1,
        serversDegraded: 0,
        serversDisconnected: 0,
        serversDown: 0,
        serversTotal: 1,
        cpuPctMean: 1,
        memoryUsedBytes: 0,
        memoryTotalBytes: 0,
        gpusTotal: 0,
        gpuMemoryUsedMib: 0,
        gpuMemoryTotalMib: 0,
      } as OverviewResponse,
      '127.0.0.1:1',
    );
    expect(overview).not.toMatch(raw);
  });

  it('prints ps, run, stop and migrate output with server names and agent messages escaped', () => {
    const w = workload({
      message: `stopped ${ESC}`,
      state: WorkloadState.WORKLOAD_STATE_EXITED,
      stateDir: `/s/${ESC}`,
    });
    for (const text of [workloadsTable([w], hostile, NOW), startedText(w, hostile), stateText(w, hostile)]) {
      expect(text).not.toMatch(raw);
      expect(text).toContain(SHOWN);
    }
    const m = migration({ phase: MigrationPhase.MIGRATION_PHASE_ROLLED_BACK, error: `target said ${ESC}` });
    for (const text of [timingsText(m, hostile), progressLine(m, { now: NOW, columns: 200 })])
      expect(text).not.toMatch(raw);
    expect(timingsText(m, hostile)).toContain(`keeps running on ${SHOWN}`);
    expect(timingsText(m, hostile)).toContain(`why         target said ${SHOWN}`);
    const plan = {
      workload: w,
      strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      preflight: [{ name: 'disk', ok: false, reason: `full ${ESC}` }],
      targets: [{ serverId: 'id-gpu2', name: ESC, eligible: true, score: 1, reasons: [] }],
    } as MigrationPlan;
    const planned = planText(plan, hostile, ESC);
    expect(planned).not.toMatch(raw);
    expect(planned).toContain(`full ${SHOWN}`);
  });
});
