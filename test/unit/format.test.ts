import { describe, expect, it } from 'vitest';
import { bytesShort, bytesText, gibPair, rateText, trafficText, transferText } from '../../src/core/format/bytes.js';
import { endpointName, listenText } from '../../src/core/format/endpoints.js';
import { downtimeText, outcomeWords } from '../../src/core/format/migration.js';
import { countText, pctText } from '../../src/core/format/numbers.js';
import { ageText, agoText, durationText, settingText, spanText } from '../../src/core/format/time.js';
import { hasProcess, healthWord, isLive } from '../../src/core/format/words.js';
import { BackendHealth, type EndpointStatus } from '../../src/core/route.js';
import { MigrationPhase, WorkloadState, type Migration, type Workload } from '../../src/core/workload.js';

const KIB = 1024;
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('bytes', () => {
  it('writes sizes in binary units with their IEC names, one decimal above bytes', () => {
    expect(bytesText(0)).toBe('0 B');
    expect(bytesText(1)).toBe('1 B');
    expect(bytesText(1023)).toBe('1023 B');
    expect(bytesText(1024)).toBe('1.0 KiB');
    expect(bytesText(1536)).toBe('1.5 KiB');
    expect(bytesText(256 * MIB)).toBe('256.0 MiB');
    expect(bytesText(3 * GIB)).toBe('3.0 GiB');
    expect(bytesText(-2 * KIB)).toBe('-2.0 KiB');
  });

  it('moves a size that would round up to 1024 into the next unit', () => {
    expect(bytesText(MIB - 1)).toBe('1.0 MiB');
    expect(bytesShort(MIB - 1)).toBe('1.0M');
    expect(bytesShort(1023.7)).toBe('1.0K');
  });

  it('keeps the largest unit for huge sizes', () => {
    expect(bytesText(2 * 1024 ** 6)).toBe('2048.0 PiB');
    expect(bytesShort(2 * 1024 ** 6)).toBe('2048P');
  });

  it('prints an unknown size as the unknown mark, never as 0', () => {
    for (const f of [bytesText, bytesShort, rateText, trafficText]) {
      expect(f(undefined)).toBe('–');
      expect(f(Number.NaN, '?')).toBe('?');
      expect(f(Number.POSITIVE_INFINITY, '?')).toBe('?');
    }
  });

  it('writes sizes in a narrow column with one decimal under 100', () => {
    expect(bytesShort(0)).toBe('0B');
    expect(bytesShort(1023)).toBe('1023B');
    expect(bytesShort(1024)).toBe('1.0K');
    expect(bytesShort(12 * KIB)).toBe('12.0K');
    expect(bytesShort(5 * MIB)).toBe('5.0M');
    expect(bytesShort(340 * MIB)).toBe('340M');
    expect(bytesShort(931 * GIB)).toBe('931G');
    expect(bytesShort(1.5 * 1024 ** 4)).toBe('1.5T');
  });

  it('writes checkpoint rates in binary units and traffic in decimal ones', () => {
    expect(rateText(9 * MIB)).toBe('9.0 MiB/s');
    expect(trafficText(0)).toBe('0B/s');
    expect(trafficText(999)).toBe('999B/s');
    expect(trafficText(999.6)).toBe('1.0kB/s');
    expect(trafficText(12_345_678)).toBe('12.3MB/s');
  });

  it('says what moved, in how long, at what rate where the time is known and not zero', () => {
    expect(transferText(256 * MIB, 1420)).toBe('256.0 MiB in 1.42 s (180.3 MiB/s)');
    expect(transferText(256 * MIB, 0)).toBe('256.0 MiB in 0 ms');
    expect(transferText(256 * MIB, undefined)).toBe('256.0 MiB in –');
    expect(transferText(256 * MIB, -5)).toBe('256.0 MiB in 0 ms');
  });

  it('writes GPU memory as used/total GiB, either side unknown', () => {
    expect(gibPair(39_117, 81_920)).toBe('38.2/80.0 GiB');
    expect(gibPair(undefined, 15_360)).toBe('–/15.0 GiB');
    expect(gibPair(undefined, Number.NaN, '?')).toBe('?');
  });
});

describe('numbers', () => {
  it('rounds percentages and marks unknown ones', () => {
    expect(pctText(0)).toBe('0%');
    expect(pctText(87.5)).toBe('88%');
    expect(pctText(100)).toBe('100%');
    expect(pctText(Number.NaN)).toBe('–');
  });

  it('writes counters exactly below ten thousand, then in thousands and millions', () => {
    expect(countText(0)).toBe('0');
    expect(countText(1200)).toBe('1200');
    expect(countText(9999)).toBe('9999');
    expect(countText(10_000)).toBe('10.0k');
    expect(countText(123_456)).toBe('123k');
    expect(countText(4_500_000)).toBe('4.5M');
    expect(countText(999_999)).toBe('1.0M');
    expect(countText(undefined, '?')).toBe('?');
  });
});

describe('durations', () => {
  it('writes how long a step took for sentences', () => {
    expect(durationText(0)).toBe('0 ms');
    expect(durationText(850)).toBe('850 ms');
    expect(durationText(999.7)).toBe('1.00 s');
    expect(durationText(1250)).toBe('1.25 s');
    expect(durationText(9_999)).toBe('10.0 s');
    expect(durationText(12_000)).toBe('12.0 s');
    expect(durationText(59_990)).toBe('1m00s');
    expect(durationText(2 * MIN + 5 * SEC)).toBe('2m05s');
    expect(durationText(3 * HOUR + 12 * MIN)).toBe('3h12m');
    expect(durationText(2 * DAY + 4 * HOUR)).toBe('2d04h');
    expect(durationText(-5)).toBe('0 ms');
    expect(durationText(Number.NaN)).toBe('–');
  });

  it('writes a span for a narrow column, as precise as it is short', () => {
    expect(spanText(0)).toBe('0ms');
    expect(spanText(450)).toBe('450ms');
    expect(spanText(1800)).toBe('1.8s');
    expect(spanText(9_949)).toBe('9.9s');
    expect(spanText(9_960)).toBe('10s');
    expect(spanText(42 * SEC)).toBe('42s');
    expect(spanText(4 * MIN + 5 * SEC)).toBe('4m05s');
    expect(spanText(3 * HOUR + 12 * MIN)).toBe('3h12m');
    expect(spanText(2 * DAY + 4 * HOUR)).toBe('2d04h');
    expect(spanText(400 * DAY)).toBe('400d00h');
    expect(spanText(-1)).toBe('0ms');
    expect(spanText(undefined, '?')).toBe('?');
  });

  it('writes a configured timeout exactly, as a route file writes it', () => {
    expect(settingText(0)).toBe('0ms');
    expect(settingText(500)).toBe('500ms');
    expect(settingText(1500)).toBe('1.5s');
    expect(settingText(10 * SEC)).toBe('10s');
    expect(settingText(90 * SEC)).toBe('90s');
    expect(settingText(10 * MIN)).toBe('10m');
    expect(settingText(DAY)).toBe('1440m');
  });

  it('writes an age in its largest unit', () => {
    expect(ageText(0)).toBe('0s');
    expect(ageText(999)).toBe('0s');
    expect(ageText(59_999)).toBe('59s');
    expect(ageText(MIN)).toBe('1m');
    expect(ageText(HOUR - 1)).toBe('59m');
    expect(ageText(5 * DAY + HOUR)).toBe('5d');
    expect(ageText(-3 * SEC)).toBe('0s');
    expect(ageText(Number.NaN)).toBe('–');
    expect(agoText(42 * SEC)).toBe('42s ago');
    expect(agoText(undefined, 'never')).toBe('never');
  });
});

describe('words', () => {
  const inState = (state: WorkloadState): Workload => ({ state }) as Workload;

  it('counts a workload as live while it runs, pauses, backs off or checkpoints', () => {
    const live = [
      WorkloadState.WORKLOAD_STATE_RUNNING,
      WorkloadState.WORKLOAD_STATE_PAUSED,
      WorkloadState.WORKLOAD_STATE_BACKOFF,
      WorkloadState.WORKLOAD_STATE_CHECKPOINTING,
    ];
    for (const s of live) expect(isLive(inState(s))).toBe(true);
    for (const s of [
      WorkloadState.WORKLOAD_STATE_EXITED,
      WorkloadState.WORKLOAD_STATE_CHECKPOINTED,
      WorkloadState.WORKLOAD_STATE_UNSPECIFIED,
    ])
      expect(isLive(inState(s))).toBe(false);
  });

  it('gives a process only to a live workload that is not waiting to restart', () => {
    expect(hasProcess(inState(WorkloadState.WORKLOAD_STATE_CHECKPOINTING))).toBe(true);
    expect(hasProcess(inState(WorkloadState.WORKLOAD_STATE_PAUSED))).toBe(true);
    expect(hasProcess(inState(WorkloadState.WORKLOAD_STATE_BACKOFF))).toBe(false);
    expect(hasProcess(inState(WorkloadState.WORKLOAD_STATE_EXITED))).toBe(false);
  });

  const endpoint = (
    key: string,
    backend: string,
    over: Partial<NonNullable<EndpointStatus['endpoint']>> = {},
  ): EndpointStatus => ({
    endpoint: {
      key,
      backend,
      address: '10.0.0.2:9001',
      version: 'blue',
      weight: 60,
      draining: false,
      drainTimeoutMs: 30_000,
      held: false,
      detail: '',
      ...over,
    },
    bytesPerSec: 0,
  });
  const stats = (health: BackendHealth) => ({
    key: 'k',
    active: 0,
    total: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectErrors: 0,
    health,
    healthDetail: '',
    checksPassing: true,
  });

  it('names a backend being drained before its proxy reports draining, not unknown', () => {
    expect(healthWord(endpoint('a@s', 'a', { draining: true, weight: 0 }))).toBe('draining');
    expect(healthWord(endpoint('a@s', 'a'))).toBe('unknown');
    expect(healthWord({ ...endpoint('a@s', 'a'), stats: stats(BackendHealth.BACKEND_HEALTH_HEALTHY) })).toBe('healthy');
    expect(
      healthWord({ ...endpoint('a@s', 'a', { weight: 0 }), stats: stats(BackendHealth.BACKEND_HEALTH_HEALTHY) }),
    ).toBe('standby');
  });

  it('names an endpoint by its workload on the server it runs on, or its address', () => {
    const names = new Map([['id-gpu1', 'gpu1']]);
    const nameOf = (id: string) => names.get(id);
    expect(endpointName(endpoint('api@id-gpu1', 'api'), nameOf)).toBe('api@gpu1');
    expect(endpointName(endpoint('api@id-gone', 'api'), nameOf)).toBe('api@id-gone');
    expect(endpointName(endpoint('api@-', 'api'), nameOf)).toBe('api');
    expect(endpointName(endpoint('10.0.0.7:9000', '10.0.0.7:9000'), nameOf)).toBe('10.0.0.7:9000');
    expect(endpointName({ bytesPerSec: 0, stats: stats(BackendHealth.BACKEND_HEALTH_HEALTHY) }, nameOf)).toBe('k');
  });

  it('writes where a route listens, with the address only when it binds one', () => {
    expect(listenText({ server: 'edge-1', port: 8080, host: '0.0.0.0' })).toBe('edge-1:8080');
    expect(listenText({ server: 'id-edge', port: 8080, host: '' }, 'edge-1')).toBe('edge-1:8080');
    expect(listenText({ server: 'edge-1', port: 8080, host: '10.0.0.5' })).toBe('edge-1 10.0.0.5:8080');
    expect(listenText(undefined)).toBe('–');
  });
});

describe('migrations', () => {
  const inPhase = (phase: MigrationPhase): Migration => ({ workload: 'train', phase }) as Migration;

  it('says how a migration ended, or where it stands, in one sentence', () => {
    expect(outcomeWords(inPhase(MigrationPhase.MIGRATION_PHASE_COMMITTED), 'gpu1', 'gpu2')).toBe(
      'committed: train now runs on gpu2',
    );
    expect(outcomeWords(inPhase(MigrationPhase.MIGRATION_PHASE_ROLLED_BACK), 'gpu1', 'gpu2')).toBe(
      'rolled back: train keeps running on gpu1',
    );
    expect(outcomeWords(inPhase(MigrationPhase.MIGRATION_PHASE_FAILED), 'gpu1', 'gpu2')).toBe(
      'failed: moving train from gpu1 to gpu2',
    );
    expect(outcomeWords(inPhase(MigrationPhase.MIGRATION_PHASE_ROLLING_BACK), 'gpu1', 'gpu2')).toBe(
      'rolling back: train from gpu1 to gpu2',
    );
  });

  it('calls no downtime none, and unknown downtime unknown', () => {
    expect(downtimeText(0)).toBe('none');
    expect(downtimeText(2610)).toBe('2.61 s');
    expect(downtimeText(undefined)).toBe('–');
  });
});
