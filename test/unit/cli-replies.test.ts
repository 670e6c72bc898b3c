import { describe, expect, it } from 'vitest';
import {
  answeredRoute,
  answeredWorkload,
  knownWorkloads,
  migrationPlan,
  promotionUpdate,
  routeStates,
} from '../../src/cli/replies.js';
import { YardError } from '../../src/core/errors.js';
import type { RouteStatus } from '../../src/core/route.js';
import { parseRouteFile } from '../../src/core/schema/route-file.js';
import { MigrationStrategy, WorkloadState, type Workload } from '../../src/core/workload.js';
import { PromotionState } from '../../src/gen/switchyard/v1/control.js';
import { workloadSpec } from '../helpers/specs.js';

const target = { address: '127.0.0.1:7433', from: '--controller' };
const SAME_VERSION = 'check that yard and the controller run the same version (yard --version)';

function workload(over: Partial<Workload> = {}): Workload {
  return {
    spec: workloadSpec('train', 'python'),
    serverId: 'id-gpu1',
    state: WorkloadState.WORKLOAD_STATE_RUNNING,
    pid: 42,
    startedMs: 0,
    exitSignal: '',
    restarts: 0,
    stateDir: '/s',
    restored: false,
    message: '',
    ...over,
  };
}

function status(over: Partial<RouteStatus> = {}): RouteStatus {
  return {
    route: parseRouteFile(
      JSON.stringify({
        name: 'web',
        listen: { server: 'edge-1', port: 8080 },
        backends: [{ address: '10.0.0.7:9000', weight: 100 }],
      }),
      'web.json',
    )[0],
    serverId: 'id-edge',
    endpoints: [],
    listening: true,
    error: '',
    statsMs: 0,
    heldTotal: 0,
    heldMaxMs: 0,
    refused: 0,
    active: 0,
    total: 0,
    bytesPerSec: 0,
    promotion: '',
    ...over,
  };
}

function refusal(parse: () => unknown): YardError {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(YardError);
    return err as YardError;
  }
  throw new Error('the answer was accepted');
}

describe("the controller's answers, parsed where they arrive", () => {
  it('passes answers with every required part through as they are', () => {
    const w = workload();
    expect(answeredWorkload(target, { workload: w }, 'stopped train')).toEqual(w);
    expect(knownWorkloads(target, [w])).toEqual([w]);
    expect(routeStates(target, [status()])[0]!.route.listen.port).toBe(8080);
    expect(answeredRoute(target, { route: status() }, 'rolled back web').route.name).toBe('web');
    const plan = { workload: w, targets: [], preflight: [], strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT };
    expect(migrationPlan(target, plan).workload.spec.name).toBe('train');
  });

  it('refuses a workload without its spec, naming the controller and what to check', () => {
    const e = refusal(() => knownWorkloads(target, [workload({ spec: undefined })]));
    expect(e.code).toBe('RPC_FAILED');
    expect(e.message).toMatch(/^the controller at 127\.0\.0\.1:7433 sent an answer this yard cannot use \(.*spec.*\)/);
    expect(e.message).toContain(SAME_VERSION);
  });

  it('says what was asked when an answer carries no workload or route at all', () => {
    expect(refusal(() => answeredWorkload(target, {}, 'stopped train')).message).toBe(
      'the controller at 127.0.0.1:7433 stopped train but sent no workload back',
    );
    expect(refusal(() => answeredRoute(target, {}, 'rolled back web')).message).toBe(
      'the controller at 127.0.0.1:7433 rolled back web but sent no route back',
    );
  });

  it('refuses a route without its table, or an endpoint without its identity', () => {
    expect(refusal(() => routeStates(target, [status({ route: undefined })])).message).toContain(SAME_VERSION);
    const nameless = status({ endpoints: [{ bytesPerSec: 0 }] });
    expect(refusal(() => routeStates(target, [nameless])).message).toMatch(
      /route web: an endpoint's status came without/,
    );
  });

  it('refuses a promotion step without its route', () => {
    const step = { state: PromotionState.PROMOTION_STATE_STEP, step: 1, steps: 2, percent: 50, message: '' };
    expect(promotionUpdate(target, { ...step, route: status() }).route.route.revision).toBe(0);
    expect(refusal(() => promotionUpdate(target, step)).message).toBe(
      'the controller at 127.0.0.1:7433 reported a step of the promotion without its route; `yard routes` shows where it stands',
    );
  });
});
