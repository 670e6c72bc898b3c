import { describe, expect, it } from 'vitest';
import {
  parseApplyRoutes,
  parseDrain,
  parsePromote,
  parseRouteChanges,
  parseServiceRequest,
  parseSetWeights,
} from '../../src/core/schema/route-change.js';
import { parseWeights } from '../../src/core/schema/weights.js';
import { ROUTE_DEFAULTS, type Route } from '../../src/core/route.js';

describe('route changes as the controller receives them', () => {
  it('passes a good request through as it came', () => {
    const weights = { service: 'web', weights: { blue: 80, green: 20 } };
    expect(parseSetWeights(weights)).toBe(weights);
    expect(parseServiceRequest({ service: 'web' }, 'delete')).toBe('web');
    expect(parseRouteChanges({ service: '', limit: 10 }, 500)).toEqual({ service: undefined, limit: 10 });
    expect(parseRouteChanges({ service: 'web', limit: 0 }, 500)).toEqual({ service: 'web', limit: 0 });
  });

  it.each([
    ['no route to apply', () => parseApplyRoutes({ routes: [] }), 'apply: routes holds no route'],
    [
      'a weight over 100',
      () => parseSetWeights({ service: 'web', weights: { blue: 101 } }),
      'weights: weights.blue must be from 0 to 100',
    ],
    [
      'no weights',
      () => parseSetWeights({ service: 'web', weights: {} }),
      'weights: weights name at least one version, e.g. blue=20 green=80',
    ],
    [
      'a service name with a slash',
      () => parseServiceRequest({ service: '../etc' }, 'rollback'),
      'rollback: service is not a service name (letters, digits, . _ -; at most 63)',
    ],
    [
      'an empty version to promote',
      () => parsePromote({ service: 'web', version: '', steps: [], intervalMs: 0 }),
      'promote: version may only hold letters, digits and . _ - (1 to 32 of them)',
    ],
    [
      'a drain naming nothing',
      () => parseDrain({ service: 'web', backend: '', deadlineMs: 0 }),
      'drain: backend must name a version, workload or address',
    ],
    [
      'a deadline no timer holds',
      () => parseDrain({ service: 'web', backend: 'blue', deadlineMs: 2 ** 32 }),
      'drain: deadlineMs must be at most 24 days',
    ],
    ['more history than is kept', () => parseRouteChanges({ service: '', limit: 501 }, 500), 'route changes: limit'],
  ] as [string, () => unknown, string][])('refuses %s, naming the request and the field', (_, parse, message) => {
    expect(parse).toThrow(message);
  });

  it('checks each route it applies as a route file is checked, with its defaults', () => {
    const route = {
      name: 'web',
      listen: { server: 'p1', port: 8080, host: '' },
      protocol: 0,
      policy: 0,
      backends: [
        {
          workload: '',
          address: '127.0.0.1:9000',
          port: 0,
          weight: 100,
          version: 'blue',
          drain: false,
          drainTimeoutMs: 0,
        },
      ],
      holdTimeoutMs: 0,
      drainTimeoutMs: 0,
      revision: 0,
      updatedMs: 0,
      updatedBy: '',
    } as Route;
    expect(parseApplyRoutes({ routes: [route] })[0]!.listen?.host).toBe(ROUTE_DEFAULTS.listenHost);
    expect(() =>
      parseApplyRoutes({ routes: [{ ...route, backends: [{ ...route.backends[0]!, weight: 101 }] }] }),
    ).toThrow('route web: backends[0].weight must be from 0 to 100');
  });

  it('a weight typed on the command line meets the same rule as one sent over gRPC', () => {
    expect(parseWeights(['blue=100'])).toEqual({ blue: 100 });
    expect(() => parseWeights(['blue=101'])).toThrow(
      '"blue=101" is not VERSION=PCT with PCT a whole number from 0 to 100',
    );
    expect(() => parseWeights(['=5'])).toThrow(
      '"=5": version "" may only hold letters, digits and . _ - (1 to 32 of them)',
    );
  });
});
