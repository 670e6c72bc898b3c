// The score that ranks migration targets: one function behind the controller's ranking, the
// wizard's list and `yard migrate --dry-run`, and a number that says what it is.
import { describe, expect, it } from 'vitest';
import { SCORE_HELP, targetScore } from '../../src/core/target-score.js';
import { HOSTS, makeSample, makeServer } from '../tui/fleet-fixture.js';

const GIB = 1024 ** 3;

describe('target score', () => {
  it('is the mean of idle CPU, free memory and free memory on the emptiest GPU, in percent', () => {
    const server = makeServer(HOSTS.a100, 0);
    const sample = makeSample(HOSTS.a100, 0, 0);
    sample.cpuPct = 40;
    sample.memoryTotalBytes = 512 * GIB;
    sample.memoryUsedBytes = 128 * GIB;
    sample.gpus = sample.gpus.map((g, i) => ({ ...g, memoryTotalMib: 81920, memoryUsedMib: i === 2 ? 8192 : 81920 }));
    // (60 + 75 + 90) / 3
    expect(targetScore({ ...server, latest: sample })).toBe(75);
    // Without GPUs: CPU and memory only.
    expect(targetScore({ ...server, latest: { ...sample, gpus: [] } })).toBe(68);
  });

  it('counts a host that has not reported, or reads unknown, as having no room', () => {
    const server = makeServer(HOSTS.web, 0);
    expect(targetScore({ ...server, latest: undefined })).toBe(0);
    const sample = { ...makeSample(HOSTS.web, 0, 0), cpuPct: Number.NaN, memoryTotalBytes: 0, memoryUsedBytes: 0 };
    expect(targetScore({ ...server, latest: sample })).toBe(0);
  });

  it('says what it means', () => {
    expect(SCORE_HELP).toMatch(/^score: .*0-100.*idle CPU.*free memory.*GPU.*higher is better$/);
  });
});
