import { describe, expect, it } from 'vitest';
import { parseRouteFile, routeToFile } from '../../src/core/schema/route-file.js';
import { promotionStep, withWeights, checkSteps, policies } from '../../src/core/route.js';

const ISSUE_EXAMPLE = JSON.stringify({
  name: 'web',
  listen: { server: 'edge-1', port: 8080 },
  protocol: 'tcp',
  policy: 'weighted',
  backends: [
    { workload: 'api-blue', weight: 100, version: 'blue' },
    { address: '127.0.0.1:9000', weight: 0, version: 'green' },
  ],
  healthCheck: { kind: 'tcp', interval: '2s', unhealthyAfter: 3 },
});

const yamlRoute = (backends: string, extra = '') =>
  `name: web\nlisten: {server: edge-1, port: 8080}\n${extra}backends:\n${backends}`;

describe('route files', () => {
  it('reads the example from the issue, in JSON and the same keys in YAML', () => {
    const [json] = parseRouteFile(ISSUE_EXAMPLE, 'web.json');
    expect(json).toMatchObject({
      name: 'web',
      listen: { server: 'edge-1', port: 8080, host: '0.0.0.0' },
      healthCheck: { intervalMs: 2000, unhealthyAfter: 3 },
    });
    expect(json!.backends.map((b) => [b.workload || b.address, b.weight, b.version])).toEqual([
      ['api-blue', 100, 'blue'],
      ['127.0.0.1:9000', 0, 'green'],
    ]);
    const yaml = `name: web\nlisten: {server: edge-1, port: 8080}\nprotocol: tcp\npolicy: weighted\nbackends:\n  - {workload: api-blue, weight: 100, version: blue}\n  - {address: "127.0.0.1:9000", weight: 0, version: green}\nhealthCheck: {kind: tcp, interval: 2s, unhealthyAfter: 3}\n`;
    expect(parseRouteFile(yaml, 'web.yaml')).toEqual([json]);
  });

  it('writes a route back in the keys it was read with', () => {
    const [r] = parseRouteFile(ISSUE_EXAMPLE, 'web.json');
    expect(parseRouteFile(JSON.stringify(routeToFile(r!)), 'again.json')).toEqual([r]);
  });

  it('takes a list of routes or {routes: [...]}', () => {
    const two = [
      JSON.parse(ISSUE_EXAMPLE),
      { ...JSON.parse(ISSUE_EXAMPLE), name: 'api', listen: { server: 'edge-1', port: 8081 } },
    ];
    expect(parseRouteFile(JSON.stringify(two), 'a.json').map((r) => r.name)).toEqual(['web', 'api']);
    expect(parseRouteFile(JSON.stringify({ routes: two }), 'a.json').map((r) => r.policy)).toEqual([
      policies.value('weighted', 'p'),
      policies.value('weighted', 'p'),
    ]);
  });

  const bad: [string, string, string, RegExp][] = [
    [
      'a bad address',
      'b.yaml',
      yamlRoute(' - {address: "foo", weight: 1}\n'),
      /b\.yaml: backends\[0\]\.address is not HOST:PORT/,
    ],
    [
      'a port out of range',
      'b.yaml',
      yamlRoute(' - {address: "10.0.0.1:70000", weight: 1}\n'),
      /address is not HOST:PORT/,
    ],
    [
      'weights all zero',
      'c.yaml',
      yamlRoute(' - {address: "10.0.0.1:5", weight: 0}\n'),
      /c\.yaml: route web: backends all have weight 0/,
    ],
    [
      'a weight over 100',
      'c.yaml',
      yamlRoute(' - {address: "10.0.0.1:5", weight: 101}\n'),
      /backends\[0\]\.weight must be from 0 to 100/,
    ],
    [
      'http as the protocol',
      'd.yaml',
      yamlRoute(' - {address: "10.0.0.1:5", weight: 3}\n', 'protocol: http\n'),
      /protocol http is not supported yet/,
    ],
    [
      'a misspelt key',
      'e.yaml',
      'name: web\nlisten: {server: e, port: 80}\nbackend: []\n',
      /e\.yaml: route unknown key "backend"/,
    ],
    [
      'a duplicate service',
      'f.yaml',
      '- {name: web, listen: {server: e, port: 80}, backends: [{address: "10.0.0.1:5", weight: 3}]}\n- {name: web, listen: {server: e, port: 81}, backends: [{address: "10.0.0.1:5", weight: 3}]}\n',
      /defines service web twice/,
    ],
    [
      'a duplicate backend',
      'f.yaml',
      yamlRoute(' - {address: "10.0.0.1:5", weight: 3}\n - {address: "10.0.0.1:5", weight: 3}\n'),
      /route web: backends\[1\] repeats address 10\.0\.0\.1:5/,
    ],
    [
      'a bad duration',
      'g.yaml',
      yamlRoute(' - {address: "10.0.0.1:5", weight: 3}\n', 'healthCheck: {interval: 2x}\n'),
      /healthCheck\.interval "2x" is not a duration/,
    ],
    [
      'both workload and address',
      'h.yaml',
      yamlRoute(' - {address: "10.0.0.1:5", workload: api, weight: 3}\n'),
      /backends\[0\] needs exactly one of "workload" and "address"/,
    ],
    [
      'no listen port',
      'i.yaml',
      'name: web\nlisten: {server: e}\nbackends: [{address: "10.0.0.1:5", weight: 3}]\n',
      /listen\.port must be a port number/,
    ],
    ['broken JSON', 'j.json', '{bad', /route file j\.json is not valid JSON/],
    ['an empty file', 'k.yaml', '', /holds no route/],
  ];
  for (const [what, file, text, message] of bad) {
    it(`refuses ${what} with a message naming the field`, () => {
      expect(() => parseRouteFile(text, file)).toThrow(message);
    });
  }
});

describe('route weights', () => {
  const [base] = parseRouteFile(
    yamlRoute(
      ' - {address: "10.0.0.1:1", weight: 100, version: blue}\n - {address: "10.0.0.2:1", weight: 0, version: green}\n',
    ),
    'r.yaml',
  );

  it('sets weights by version and refuses unknown versions or all-zero tables', () => {
    expect(withWeights(base!, { blue: 20, green: 80 }).backends.map((b) => b.weight)).toEqual([20, 80]);
    expect(() => withWeights(base!, { red: 5 })).toThrow(/no backend with version "red"; its versions: blue, green/);
    expect(() => withWeights(base!, { blue: 0 })).toThrow(/nothing would take its traffic/);
  });

  it('shifts a share of traffic to a version at each promotion step', () => {
    expect(promotionStep(base!, 'green', 5).backends.map((b) => b.weight)).toEqual([95, 5]);
    expect(promotionStep(base!, 'green', 100).backends.map((b) => b.weight)).toEqual([0, 100]);
    expect(base!.backends.map((b) => b.weight)).toEqual([100, 0]);
  });

  it('checks promotion steps', () => {
    expect(checkSteps([])).toEqual([5, 25, 50, 100]);
    expect(() => checkSteps([50, 25, 100])).toThrow(/rising/);
    expect(() => checkSteps([5, 50])).toThrow(/last step must be 100/);
  });
});
