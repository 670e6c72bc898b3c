import { describe, expect, it } from 'vitest';
import { checkRoute } from '../../src/core/schema/route.js';
import { parseRouteFile } from '../../src/core/schema/route-file.js';
import { ROUTE_DEFAULTS, type Route } from '../../src/core/route.js';
import { backend } from './router-fixture.js';

const wire = (r: Partial<Route> = {}): Route => ({
  name: 'web',
  listen: { server: 'edge-1', port: 8080, host: '' },
  protocol: 0,
  policy: 0,
  backends: [
    backend({ workload: 'api-blue', weight: 100, version: 'blue' }),
    backend({ address: '127.0.0.1:9000', version: 'green' }),
  ],
  holdTimeoutMs: 0,
  drainTimeoutMs: 0,
  revision: 0,
  updatedMs: 0,
  updatedBy: '',
  ...r,
});

describe('checkRoute: a route as a gRPC client sends it', () => {
  it('fills in the defaults exactly as a route file gets them', () => {
    const [fromFile] = parseRouteFile(
      JSON.stringify({
        name: 'web',
        listen: { server: 'edge-1', port: 8080 },
        backends: [
          { workload: 'api-blue', weight: 100, version: 'blue' },
          { address: '127.0.0.1:9000', weight: 0, version: 'green' },
        ],
      }),
      'web.json',
    );
    expect(checkRoute(wire())).toEqual(fromFile);
    expect(checkRoute(wire()).healthCheck).toEqual(ROUTE_DEFAULTS.healthCheck);
  });

  const bad: [string, Partial<Route>, RegExp][] = [
    ['no listen', { listen: undefined }, /route web: listen is required/],
    ['an empty server', { listen: { server: '', port: 80, host: '' } }, /listen\.server is required/],
    ['port 0', { listen: { server: 'e', port: 0, host: '' } }, /listen\.port must be from 1 to 65535/],
    [
      'a listen host that is no IP',
      { listen: { server: 'e', port: 80, host: 'example.com' } },
      /listen\.host is not an IP address/,
    ],
    ['a bad service name', { name: '../etc' }, /route \.\.\/etc: name is not a service name/],
    ['an unknown protocol', { protocol: 7 as Route['protocol'] }, /protocol is not supported: use tcp/],
    ['an unknown policy', { policy: 9 as Route['policy'] }, /policy must be weighted or least-connections/],
    ['no backend', { backends: [] }, /backends needs at least one backend/],
    [
      'a backend with both workload and address',
      { backends: [backend({ workload: 'a', address: '127.0.0.1:1', weight: 1 })] },
      /backends\[0\] needs exactly one of "workload" and "address"/,
    ],
    [
      'a port on an address backend',
      { backends: [backend({ address: '127.0.0.1:1', port: 5, weight: 1 })] },
      /backends\[0\] "port" only goes with "workload"/,
    ],
    [
      'a bad address',
      { backends: [backend({ address: 'nope', weight: 1 })] },
      /backends\[0\]\.address is not HOST:PORT/,
    ],
    [
      'a weight over 100',
      { backends: [backend({ address: '127.0.0.1:1', weight: 101 })] },
      /backends\[0\]\.weight must be from 0 to 100/,
    ],
    [
      'a fractional weight',
      { backends: [backend({ address: '127.0.0.1:1', weight: 1.5 })] },
      /backends\[0\]\.weight must be a whole number/,
    ],
    [
      'a long version',
      { backends: [backend({ address: '127.0.0.1:1', weight: 1, version: 'v'.repeat(33) })] },
      /backends\[0\]\.version must be at most 32 characters/,
    ],
    [
      'the same address twice',
      { backends: [backend({ address: '127.0.0.1:1', weight: 1 }), backend({ address: '127.0.0.1:1', weight: 1 })] },
      /backends\[1\] repeats address 127\.0\.0\.1:1/,
    ],
    [
      'the same workload twice',
      { backends: [backend({ workload: 'a', weight: 1 }), backend({ workload: 'a', port: 9, weight: 1 })] },
      /backends\[1\] repeats workload a/,
    ],
    ['every weight 0', { backends: [backend({ address: '127.0.0.1:1', weight: 0 })] }, /backends all have weight 0/],
    [
      '65 backends',
      { backends: Array.from({ length: 65 }, (_, i) => backend({ address: `127.0.0.1:${i + 1}`, weight: 1 })) },
      /holds more than 64 backends/,
    ],
    ['a negative timeout', { drainTimeoutMs: -1 }, /drainTimeoutMs must not be negative/],
    ['a timer too long to hold', { holdTimeoutMs: 2 ** 32 }, /holdTimeoutMs must be at most 24 days/],
  ];
  it.each(bad)('refuses %s, naming the route and the field', (_what, r, message) => {
    expect(() => checkRoute(wire(r))).toThrow(message);
  });
});
