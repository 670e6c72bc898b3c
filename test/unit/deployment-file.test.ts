import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutoscaleMetric } from '../../src/core/deployment.js';
import { checkDeployment, parseDeploymentFile } from '../../src/core/schema/deployment.js';
import { MigrationStrategy, RestartPolicy } from '../../src/core/workload.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/web-deployment.yaml');

const minimal = (extra = '') => `name: api\ntemplate:\n  command: /bin/sleep\n  args: ["60"]\n${extra}`;

describe('deployment files', () => {
  it('reads the example: template as yard run takes it, placement, update, route and autoscale', () => {
    const d = parseDeploymentFile(readFileSync(EXAMPLE, 'utf8'), 'web-deployment.yaml');
    expect(d).toMatchObject({
      name: 'web',
      replicas: 3,
      template: {
        name: 'web',
        command: 'node',
        args: ['examples/echo-server.mjs'],
        env: { VERSION: 'v1' },
        ports: [9000],
        restart: RestartPolicy.RESTART_POLICY_ALWAYS,
        strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
      },
      placement: { labels: {}, gpus: 0, allowSameHost: false },
      update: { maxUnavailable: 0, maxSurge: 1, healthTimeoutMs: 60_000, autoRevert: true },
      route: { name: 'web', port: 9000 },
      autoscale: {
        min: 2,
        max: 6,
        metric: AutoscaleMetric.AUTOSCALE_METRIC_CONNECTIONS_PER_REPLICA,
        target: 50,
        cooldownMs: 60_000,
      },
    });
  });

  it('fills in the defaults: one replica, spread, surge one, revert on', () => {
    const d = parseDeploymentFile(minimal(), 'api.yaml');
    expect(d).toMatchObject({
      replicas: 1,
      placement: { allowSameHost: false },
      update: { maxSurge: 1, maxUnavailable: 0, autoRevert: true },
      route: { name: '', port: 0 },
    });
    expect(d.autoscale).toBeUndefined();
    expect(parseDeploymentFile(minimal('placement: {spread: false}\n'), 'api.yaml').placement?.allowSameHost).toBe(
      true,
    );
  });

  it('names the file, the line and the field of what is wrong', () => {
    const cases: [string, RegExp][] = [
      [minimal('replicas: -1\n'), /api\.yaml, line 5 \(replicas\): must not be negative/],
      [minimal('update:\n  maxSurge: 0\n  maxUnavailable: 0\n'), /line 5 \(update\): needs maxUnavailable or maxSurge/],
      [
        minimal('autoscale:\n  min: 4\n  max: 2\n  target: {cpuPercent: 50}\n'),
        /line 6 \(autoscale\.min\): min must not be above max/,
      ],
      [
        minimal('autoscale:\n  min: 1\n  max: 2\n  target: {cpuPercent: 50, gpuUtilPercent: 20}\n'),
        /line 8 \(autoscale\.target\): needs exactly one of/,
      ],
      [minimal('placement:\n  lables: {a: b}\n'), /line 6 \(placement\): unknown key "lables"/],
      [minimal('  restart: sometimes\n'), /line 5 \(template\.restart\)/],
      ['name: "bad name"\ntemplate: {command: x}\n', /line 1 \(name\): is not a deployment name/],
      ['name: api\ntemplate: [\n', /api\.yaml, line \d+: not valid YAML/],
      [minimal('  env: {SWITCHYARD_X: "1"}\n'), /api\.yaml: deployment api: template\.env .*SWITCHYARD_X/],
      [minimal('route: {name: web}\n'), /route web needs a port/],
    ];
    for (const [text, expected] of cases) expect(() => parseDeploymentFile(text, 'api.yaml')).toThrow(expected);
  });

  it('keeps a routed deployment within what a route can reach', () => {
    expect(() => parseDeploymentFile(minimal('replicas: 65\nroute: {name: web, port: 9000}\n'), 'api.yaml')).toThrow(
      /65 replicas behind route web; a route reaches at most 64/,
    );
  });

  it('checks a deployment from the wire by the same rules', () => {
    const d = parseDeploymentFile(minimal(), 'api.yaml');
    expect(checkDeployment(d)).toEqual(d);
    expect(() => checkDeployment({ ...d, name: '' })).toThrow(/name is not a deployment name/);
    expect(() => checkDeployment({ ...d, template: { ...d.template!, command: ' ' } })).toThrow(
      /deployment api: template\.command is empty/,
    );
  });
});
