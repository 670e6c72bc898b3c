import { describe, expect, it } from 'vitest';
import {
  ASCII_GLYPHS,
  appliedOutcomes,
  applyText,
  changeText,
  deleteText,
  describeChange,
  drainText,
  historyJson,
  historyText,
  plannedOutcomes,
  promotionProgress,
  routeJson,
  routesText,
  weightBar,
  weightSummary,
} from '../../src/cli/format-routes.js';
import type { PromotionUpdate } from '../../src/cli/replies.js';
import { routeState, type RouteState } from '../../src/core/domain.js';
import { parseRouteFile } from '../../src/core/schema/route-file.js';
import {
  BackendHealth,
  RoutePolicy,
  withWeights,
  type EndpointStatus,
  type Route,
  type RouteChange,
  type RouteStatus,
} from '../../src/core/route.js';
import { PromotionState } from '../../src/gen/switchyard/v1/control.js';

const names = new Map([
  ['id-edge', 'edge-1'],
  ['id-gpu1', 'gpu1'],
  ['id-gpu2', 'gpu2'],
]);

function webRoute(blue = 100, green = 0, revision = 3): Route {
  const [r] = parseRouteFile(
    JSON.stringify({
      name: 'web',
      listen: { server: 'edge-1', port: 8080 },
      backends: [
        { workload: 'api-blue', weight: blue, version: 'blue' },
        { address: '10.0.0.7:9000', weight: green, version: 'green' },
      ],
    }),
    'web.json',
  );
  return { ...r!, revision, updatedMs: Date.parse('2025-01-01T12:00:00Z'), updatedBy: 'ops' };
}

function endpoint(
  key: string,
  backend: string,
  version: string,
  weight: number,
  health: BackendHealth,
  over: Partial<EndpointStatus> = {},
): EndpointStatus {
  return {
    endpoint: {
      key,
      address: key.includes('@') ? '10.0.0.2:9001' : key,
      weight,
      version,
      backend,
      draining: weight === 0,
      drainTimeoutMs: 30_000,
      held: false,
      detail: '',
    },
    stats: {
      key,
      active: 3,
      total: 1200,
      bytesIn: 5 * 2 ** 20,
      bytesOut: 1.5 * 2 ** 30,
      connectErrors: 2,
      health,
      healthDetail: '',
      checksPassing: health === BackendHealth.BACKEND_HEALTH_HEALTHY,
    },
    bytesPerSec: 1.2 * 2 ** 20,
    ...over,
  };
}

/** A route's status as the CLI holds it once parsed from ListRoutes. */
function webStatus(over: Partial<RouteStatus> = {}): RouteState {
  return routeState({
    route: webRoute(60, 40),
    serverId: 'id-edge',
    endpoints: [
      endpoint('api-blue@id-gpu1', 'api-blue', 'blue', 60, BackendHealth.BACKEND_HEALTH_HEALTHY),
      endpoint('10.0.0.7:9000', '10.0.0.7:9000', 'green', 40, BackendHealth.BACKEND_HEALTH_DEGRADED),
    ],
    listening: true,
    error: '',
    statsMs: Date.parse('2025-01-01T12:00:01Z'),
    heldTotal: 0,
    heldMaxMs: 0,
    refused: 0,
    active: 4,
    total: 2400,
    bytesPerSec: 1.2 * 2 ** 20,
    promotion: '',
    ...over,
  });
}

function change(
  action: string,
  before: Route | undefined,
  after: Route | undefined,
  over: Partial<RouteChange> = {},
): RouteChange {
  return {
    atMs: Date.parse('2025-01-01T12:00:00Z'),
    who: 'ops',
    service: 'web',
    action,
    before,
    after,
    note: '',
    ...over,
  };
}

describe('weight bars', () => {
  it('draws ten cells and the weight', () => {
    expect(weightBar(60)).toBe('██████░░░░  60');
    expect(weightBar(0)).toBe('░░░░░░░░░░   0');
    expect(weightBar(100)).toBe('██████████ 100');
    expect(weightBar(5)).toBe('█░░░░░░░░░   5');
    expect(weightBar(60, ASCII_GLYPHS)).toBe('######....  60');
  });
});

describe('yard routes', () => {
  it('prints a header per service and a row per endpoint with bars and health words', () => {
    const text = routesText([webStatus()], names);
    const lines = text.split('\n');
    expect(lines[0]).toBe('web  listen edge-1:8080  weighted  rev 3  1.3MB/s  active 4  refused 0');
    expect(lines[1]).toMatch(/^ {2}BACKEND\s+VERSION\s+WEIGHT\s+HEALTH\s+ACTIVE\s+TOTAL\s+IN\s+OUT\s+ERRORS$/);
    expect(lines[2]).toMatch(/^ {2}api-blue@gpu1\s+blue\s+██████░░░░  60\s+healthy\s+3\s+1200\s+5\.0M\s+1\.5G\s+2$/);
    expect(lines[3]).toMatch(/^ {2}10\.0\.0\.7:9000\s+green\s+████░░░░░░  40\s+degraded/);
  });

  it('shows the error and the promotion in progress', () => {
    const text = routesText(
      [
        webStatus({
          error: 'not applied on edge-1: port 8080 in use',
          listening: false,
          promotion: 'promoting green: 25% (step 2 of 4)',
        }),
      ],
      names,
    );
    expect(text).toContain('\n  error: not applied on edge-1: port 8080 in use\n');
    expect(text).toContain('\n  promoting green: 25% (step 2 of 4)\n');
  });

  it('says when the proxy has not applied the table yet, and why endpoints take no traffic', () => {
    const notRunning = endpoint('api-blue@-', 'api-blue', 'blue', 60, BackendHealth.BACKEND_HEALTH_UNHEALTHY);
    notRunning.endpoint!.detail = 'workload api-blue is not running';
    const held = endpoint('api-green@id-gpu2', 'api-green', 'green', 40, BackendHealth.BACKEND_HEALTH_UNSPECIFIED);
    held.endpoint!.held = true;
    const failing = endpoint('10.0.0.9:9000', '10.0.0.9:9000', 'green', 0, BackendHealth.BACKEND_HEALTH_UNHEALTHY);
    failing.stats!.healthDetail = 'connect ECONNREFUSED';
    const text = routesText(
      [webStatus({ listening: false, statsMs: 0, endpoints: [notRunning, held, failing] })],
      names,
    );
    expect(text).toContain('not listening yet: waiting for the proxy on edge-1:8080 to apply rev 3');
    expect(text).toMatch(/\n {2}api-blue {2,}blue\s+██████░░░░  60\s+unhealthy/);
    expect(text).toMatch(/api-green@gpu2\s+green\s+████░░░░░░  40\s+unknown/);
    expect(text).toContain('  api-blue: workload api-blue is not running\n');
    expect(text).toContain('  api-green@gpu2: held: new connections wait while it is cut over\n');
    expect(text).toContain('  10.0.0.9:9000: unhealthy: connect ECONNREFUSED\n');
  });

  it('draws a draining endpoint and an endpoint the proxy has not reported', () => {
    const draining = endpoint('api-old@id-gpu2', 'api-old', 'old', 0, BackendHealth.BACKEND_HEALTH_DRAINING);
    const fresh: EndpointStatus = {
      endpoint: endpoint('api-new@id-gpu2', 'api-new', 'new', 10, 0).endpoint,
      bytesPerSec: 0,
    };
    const text = routesText([webStatus({ endpoints: [draining, fresh] })], names);
    expect(text).toMatch(/api-old@gpu2\s+old\s+░░░░░░░░░░   0\s+draining\s+3/);
    expect(text).toMatch(/api-new@gpu2\s+new\s+█░░░░░░░░░  10\s+unknown\s+0\s+0\s+0B\s+0B\s+0$/m);
  });

  it('calls a healthy backend at weight 0 a standby, and a drained one draining', () => {
    const standby = endpoint('api-next@id-gpu2', 'api-next', 'next', 0, BackendHealth.BACKEND_HEALTH_HEALTHY);
    standby.endpoint!.draining = false;
    standby.stats!.healthDetail = 'standby (weight 0): checks pass';
    const drained = endpoint('api-old@id-gpu2', 'api-old', 'old', 0, BackendHealth.BACKEND_HEALTH_DRAINING);
    const text = routesText([webStatus({ endpoints: [standby, drained] })], names);
    expect(text).toMatch(/api-next@gpu2\s+next\s+░░░░░░░░░░   0\s+standby\s+3/);
    expect(text).toMatch(/api-old@gpu2\s+old\s+░░░░░░░░░░   0\s+draining\s+3/);
    expect(text).not.toContain('api-next@gpu2: ');
    expect(routeJson(webStatus({ endpoints: [standby] })).endpoints[0]).toMatchObject({
      health: 'standby',
      draining: false,
      checksPassing: true,
    });
  });

  it('keeps a typical route within 100 columns', () => {
    const typical = webStatus({
      route: {
        ...webRoute(),
        name: 'inference-api',
        listen: { server: 'edge-1', port: 8443, host: '0.0.0.0' },
        revision: 1234,
      },
      heldTotal: 12,
      heldMaxMs: 1250,
      refused: 310,
      active: 1200,
      bytesPerSec: 123.4 * 2 ** 20,
      promotion: 'promoting green: 25% (step 2 of 4)',
      endpoints: [
        endpoint(
          'inference-api-blue@id-gpu1',
          'inference-api-blue',
          'blue-v2.1',
          100,
          BackendHealth.BACKEND_HEALTH_UNHEALTHY,
        ),
        endpoint('192.168.100.200:65535', '192.168.100.200:65535', 'green', 0, BackendHealth.BACKEND_HEALTH_DRAINING),
      ],
    });
    for (const s of typical.endpoints)
      Object.assign(s.stats!, {
        active: 1200,
        total: 12_345_678,
        bytesIn: 123 * 2 ** 30,
        bytesOut: 1.5 * 2 ** 40,
        connectErrors: 4321,
      });
    const lines = routesText([typical], names).trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(lines[0]).toBe('inference-api  listen edge-1:8443  weighted  rev 1234  129MB/s  active 1200  refused 310');
    expect(lines[2]).toBe('  held 12 new connections while a backend was cut over (longest wait 1.25 s)');
  });

  it('names the bind address when it is not every interface', () => {
    const bound = webStatus({
      route: { ...webRoute(), listen: { server: 'edge-1', port: 8080, host: '10.20.30.40' } },
    });
    expect(routesText([bound], names)).toMatch(/^web {2}listen edge-1 10\.20\.30\.40:8080 {2}weighted/);
  });

  it('separates services by a blank line and says how to start when there are none', () => {
    const api = webStatus({ route: { ...webRoute(), name: 'api' } });
    expect(routesText([webStatus(), api], names).split('\n\n')).toHaveLength(2);
    expect(routesText([], names)).toBe('no routes yet: `yard route apply -f web.yaml` creates one\n');
  });

  it('prints --json with the route file keys, the live counters and numbers as numbers', () => {
    const [j] = [webStatus({ promotion: 'promoting green: 25% (step 2 of 4)' })].map(routeJson);
    expect(Object.keys(j!)).toEqual([
      'name',
      'listen',
      'protocol',
      'policy',
      'backends',
      'healthCheck',
      'holdTimeout',
      'drainTimeout',
      'revision',
      'serverId',
      'listening',
      'error',
      'promotion',
      'reportedAt',
      'active',
      'total',
      'refused',
      'heldTotal',
      'heldMaxMs',
      'bytesPerSec',
      'endpoints',
    ]);
    expect(j).toMatchObject({
      name: 'web',
      listen: { server: 'edge-1', port: 8080 },
      policy: 'weighted',
      revision: 3,
      serverId: 'id-edge',
      error: null,
      promotion: 'promoting green: 25% (step 2 of 4)',
      reportedAt: '2025-01-01T12:00:01.000Z',
    });
    expect((j as Record<string, unknown>).backends).toEqual([
      { workload: 'api-blue', weight: 60, version: 'blue' },
      { address: '10.0.0.7:9000', weight: 40, version: 'green' },
    ]);
    expect(j!.endpoints[0]).toEqual({
      key: 'api-blue@id-gpu1',
      backend: 'api-blue',
      address: '10.0.0.2:9001',
      version: 'blue',
      weight: 60,
      draining: false,
      held: false,
      health: 'healthy',
      checksPassing: true,
      active: 3,
      total: 1200,
      bytesIn: 5 * 2 ** 20,
      bytesOut: 1.5 * 2 ** 30,
      connectErrors: 2,
      bytesPerSec: 1.2 * 2 ** 20,
    });
    expect(j!.endpoints[1]!.health).toBe('degraded');
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('gives an endpoint the proxy never reported zero counters and health unknown', () => {
    const [j] = [
      webStatus({
        statsMs: 0,
        endpoints: [{ endpoint: endpoint('api-blue@-', 'api-blue', 'blue', 60, 0).endpoint, bytesPerSec: 0 }],
      }),
    ].map(routeJson);
    expect(j!.reportedAt).toBeNull();
    expect(j!.endpoints[0]).toMatchObject({
      health: 'unknown',
      checksPassing: false,
      active: 0,
      total: 0,
      bytesIn: 0,
      bytesOut: 0,
      connectErrors: 0,
    });
  });
});

describe('describing a change of a table', () => {
  it('names weight changes by version', () => {
    expect(describeChange(webRoute(100, 0), webRoute(80, 20))).toBe('weight blue 100→80, green 0→20');
  });

  it('names backends added and removed, a listen change, a policy change and timeouts', () => {
    const before = webRoute(100, 0);
    const after: Route = {
      ...before,
      listen: { server: 'edge-2', port: 8081, host: '0.0.0.0' },
      policy: RoutePolicy.ROUTE_POLICY_LEAST_CONNECTIONS,
      backends: [
        before.backends[0]!,
        {
          workload: 'api-canary',
          address: '',
          port: 9002,
          weight: 0,
          version: 'canary',
          drain: false,
          drainTimeoutMs: 0,
        },
      ],
      holdTimeoutMs: 10_000,
    };
    expect(describeChange(before, after)).toBe(
      'listen edge-1:8080→edge-2:8081; added api-canary:9002 (canary, weight 0); removed 10.0.0.7:9000 (green); policy weighted→least-connections; hold timeout 30s→10s',
    );
  });

  it('names drains and a version relabelled, in ASCII where the locale has no UTF-8', () => {
    const before = webRoute(50, 50);
    const after = structuredClone(before);
    after.backends[1]!.drain = true;
    after.backends[1]!.weight = 0;
    after.backends[0]!.version = 'stable';
    expect(describeChange(before, after, ASCII_GLYPHS)).toBe(
      'api-blue version blue->stable; weight green 50->0; drained green',
    );
  });

  it('a health check change is named too', () => {
    const after = webRoute();
    after.healthCheck!.intervalMs = 5000;
    expect(describeChange(webRoute(), after)).toBe('health check changed');
  });
});

describe('yard route apply', () => {
  const requested = [
    webRoute(80, 20, 0),
    { ...webRoute(100, 0, 0), name: 'api' },
    { ...webRoute(100, 0, 0), name: 'new' },
  ];

  it('reads the controller answer: created, updated with the diff, unchanged', () => {
    const res = {
      routes: [
        webStatus({ route: webRoute(80, 20, 4) }),
        webStatus({ route: { ...webRoute(100, 0, 7), name: 'api' } }),
        webStatus({ route: { ...webRoute(100, 0, 1), name: 'new' } }),
      ],
      changes: [
        change('apply', webRoute(100, 0, 3), webRoute(80, 20, 4)),
        change('apply', undefined, { ...webRoute(100, 0, 1), name: 'new' }, { service: 'new' }),
      ],
    };
    expect(applyText(appliedOutcomes(requested, res), false)).toBe(
      [
        'web: updated (rev 4): weight blue 100→80, green 0→20',
        'api: unchanged',
        'new: created (rev 1): listen edge-1:8080, 2 backends',
        '',
      ].join('\n'),
    );
  });

  it('works out a dry run against the tables the controller has now', () => {
    const now = [
      webStatus({ route: webRoute(100, 0, 3) }),
      webStatus({ route: { ...webRoute(100, 0, 7), name: 'api' } }),
    ];
    expect(applyText(plannedOutcomes(requested, now), true)).toBe(
      [
        'web: would update: weight blue 100→80, green 0→20',
        'api: unchanged',
        'new: would create: listen edge-1:8080, 2 backends',
        'dry run: the controller checked the file; nothing was changed',
        '',
      ].join('\n'),
    );
  });
});

describe('weight, rollback, drain and delete', () => {
  it('prints what changed and the table now', () => {
    const text = changeText(change('weight', webRoute(100, 0, 3), webRoute(80, 20, 4)), 'web', 'weights set');
    expect(text.split('\n')).toEqual([
      'web: weights set (rev 4): weight blue 100→80, green 0→20',
      '  BACKEND        VERSION  WEIGHT',
      '  api-blue       blue     ████████░░  80',
      '  10.0.0.7:9000  green    ██░░░░░░░░  20',
      '',
    ]);
    expect(changeText(change('rollback', webRoute(80, 20, 4), webRoute(100, 0, 5)), 'web', 'rolled back')).toMatch(
      /^web: rolled back \(rev 5\): weight blue 80→100, green 20→0\n/,
    );
  });

  it('refuses an answer without the table it left', () => {
    expect(() => changeText(change('weight', webRoute(), undefined), 'web', 'weights set')).toThrow(
      /without the table it left/,
    );
  });

  it('names what drains and the deadline', () => {
    const before = webRoute(50, 50, 5);
    const after = withWeights(before, { green: 0 });
    after.backends[1]!.drain = true;
    after.backends[1]!.drainTimeoutMs = 2000;
    after.revision = 6;
    const text = drainText(change('drain', before, after), 'web', 'green');
    expect(text).toMatch(
      /^web: draining 10\.0\.0\.7:9000 \(green\): no new connections; open ones may last up to 2s \(rev 6\)\n/,
    );
    expect(text).toMatch(/10\.0\.0\.7:9000\s+green\s+░░░░░░░░░░   0\s+drained\n$/);
    expect(drainText(change('drain', after, after), 'web', 'green')).toMatch(
      /^web: green was already draining \(rev 6\)/,
    );
  });

  it('says what a delete took away', () => {
    expect(deleteText(change('delete', webRoute(), undefined), 'web')).toBe(
      'deleted web: its proxy no longer listens on edge-1:8080 (it had 2 backends)\n',
    );
  });
});

describe('yard route history', () => {
  it('sums up the weights before and after in one line', () => {
    expect(weightSummary(webRoute(100, 0), webRoute(80, 20))).toBe('blue 100→80, green 0→20');
    expect(weightSummary(undefined, webRoute(100, 0))).toBe('created: blue 100, green 0');
    expect(weightSummary(webRoute(100, 0), undefined)).toBe('deleted (was blue 100, green 0)');
    const fewer = webRoute(100, 0);
    fewer.backends.pop();
    expect(weightSummary(webRoute(100, 0), fewer)).toBe('blue 100, green 0→–');
  });

  it('prints a table newest first, and JSON with both tables', () => {
    const changes = [
      change('weight', webRoute(100, 0, 3), webRoute(80, 20, 4), { note: '' }),
      change('apply', undefined, webRoute(100, 0, 3), { who: 'alice' }),
    ];
    const lines = historyText(changes).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WHEN\s+WHO\s+SERVICE\s+ACTION\s+NOTE\s+WEIGHTS$/);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+ops\s+web\s+weight\s+–\s+blue 100→80, green 0→20$/);
    expect(lines[2]).toMatch(/alice\s+web\s+apply\s+–\s+created: blue 100, green 0$/);
    expect(historyText([])).toBe('no route changes recorded yet\n');
    const [j] = changes.map(historyJson);
    expect(j).toMatchObject({
      at: '2025-01-01T12:00:00.000Z',
      who: 'ops',
      service: 'web',
      action: 'weight',
      revision: 4,
    });
    expect(j!.before).toMatchObject({ backends: [{ weight: 100 }, { weight: 0 }] });
    expect(historyJson(changes[1]!).before).toBeNull();
  });
});

describe('yard route promote', () => {
  const msg = (state: PromotionState, step: number, percent: number, message = ''): PromotionUpdate => ({
    state,
    step,
    steps: 3,
    percent,
    message,
    route: webStatus({ route: webRoute(100 - percent, percent, 7) }),
  });
  const play = (messages: PromotionUpdate[]) => {
    let open = false;
    let text = '';
    let exitCode: number | undefined;
    for (const m of messages) {
      const p = promotionProgress(m, 'green', open);
      text += p.text;
      open = p.open;
      exitCode = p.exitCode ?? exitCode;
    }
    return { text, exitCode, open };
  };

  it('prints each step, its health gate, and the end: done exits 0', () => {
    const r = play([
      msg(PromotionState.PROMOTION_STATE_STEP, 1, 20),
      msg(PromotionState.PROMOTION_STATE_STEP, 2, 60),
      msg(PromotionState.PROMOTION_STATE_STEP, 3, 100),
      msg(PromotionState.PROMOTION_STATE_DONE, 3, 100),
    ]);
    expect(r.text).toBe(
      [
        'step 1/3: green 20% … health gate passed',
        'step 2/3: green 60% … health gate passed',
        'step 3/3: green 100% … health gate passed',
        'done: green takes all the traffic (rev 7)',
        '',
      ].join('\n'),
    );
    expect(r.exitCode).toBe(0);
    expect(r.open).toBe(false);
  });

  it('prints the reason when it reverts, and exits 1', () => {
    const r = play([
      msg(PromotionState.PROMOTION_STATE_STEP, 1, 20),
      msg(PromotionState.PROMOTION_STATE_REVERTED, 1, 0, 'api-green@gpu2 is unhealthy: connect ECONNREFUSED'),
    ]);
    expect(r.text).toBe(
      'step 1/3: green 20% … health gate failed\nreverted: api-green@gpu2 is unhealthy: connect ECONNREFUSED; the table is back where the promotion started (rev 7)\n',
    );
    expect(r.exitCode).toBe(1);
  });

  it('leaves a step open while it is watched', () => {
    const r = play([msg(PromotionState.PROMOTION_STATE_STEP, 1, 20)]);
    expect(r).toEqual({ text: 'step 1/3: green 20% …', exitCode: undefined, open: true });
  });
});

describe('text from the wire', () => {
  // What a hostile agent, proxy or older store could put in the strings the CLI prints.
  const ESC = '\x1b]0;pwned\x07\x1b[2J';
  const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

  it('prints route errors, endpoint details, proxy names and history notes escaped', () => {
    const hostileNames = new Map([...names, ['id-edge', `edge${ESC}`]]);
    const status = webStatus({
      error: `bind failed ${ESC}`,
      promotion: `step 1 \x9b31m`,
      endpoints: [
        endpoint('api-blue@id-gpu1', 'api-blue', 'blue', 60, BackendHealth.BACKEND_HEALTH_UNHEALTHY, {
          stats: {
            key: 'k',
            active: 0,
            total: 0,
            bytesIn: 0,
            bytesOut: 0,
            connectErrors: 0,
            health: BackendHealth.BACKEND_HEALTH_UNHEALTHY,
            healthDetail: `refused ${ESC}`,
            checksPassing: false,
          },
        }),
      ],
    });
    const text = routesText([status], hostileNames);
    expect(text).not.toMatch(raw);
    expect(text).toContain('edge\\x1b]0;pwned\\x07\\x1b[2J:8080');
    expect(text).toContain('error: bind failed \\x1b]0;pwned');
    expect(text).toContain('refused \\x1b]0;pwned');
    const history = historyText([
      change('weight', webRoute(100, 0, 3), webRoute(80, 20, 4), { who: `mallory${ESC}`, note: `n\x9b` }),
    ]);
    expect(history).not.toMatch(raw);
    expect(history).toContain('mallory\\x1b]0;pwned');
    const reverted = promotionProgress(
      {
        state: PromotionState.PROMOTION_STATE_REVERTED,
        step: 1,
        steps: 2,
        percent: 0,
        message: `unhealthy ${ESC}`,
        route: webStatus(),
      },
      'green',
      true,
    );
    expect(reverted.text).not.toMatch(raw);
    expect(reverted.text).toContain('unhealthy \\x1b]0;pwned');
  });
});
