import type { Deployment, DeploymentStatus } from '../../core/deployment.js';
import { YardError } from '../../core/errors.js';
import { checkDeployment, deploymentNameSchema } from '../../core/schema/deployment.js';
import { describeIssue } from '../../core/validate.js';
import { change, changeOne, read, readAll } from './operation.js';

function checkName(name: string): string {
  const r = deploymentNameSchema.safeParse(name);
  if (r.success) return r.data;
  throw new YardError('INVALID_ARGUMENT', `deployment name ${describeIssue(r.error).message}`, { field: 'name' });
}

function checkIncoming(d: Deployment | undefined): Deployment {
  if (!d) throw new YardError('INVALID_ARGUMENT', 'deployment is required: give its spec', { field: 'deployment' });
  return checkDeployment(d);
}

export const applyDeployment = change({
  name: 'deployment.apply',
  role: 'operator',
  validate: checkIncoming,
  target: (d: Deployment) => `${d.name} (${d.replicas} replica${d.replicas === 1 ? '' : 's'})`,
  act: (d, { parts, caller }) => parts.deployments.apply(d, caller.name),
});

export const listDeployments = readAll('deployment.list', ({ parts }) => parts.deployments.list());

export const getDeployment = read({
  name: 'deployment.get',
  role: 'viewer',
  validate: checkName,
  act: (name: string, { parts }) => parts.deployments.status(name),
});

/**
 * Tells `listener` the deployment's status now and at each change, until the returned function
 * is called (or the deployment is deleted); NOT_FOUND when there is none.
 */
export const watchDeployment = read({
  name: 'deployment.get',
  role: 'viewer',
  validate: ({ name, listener }: { name: string; listener: (s: DeploymentStatus | undefined) => void }) => ({
    name: checkName(name),
    listener,
  }),
  act: ({ name, listener }, { parts }) => {
    const { deployments } = parts;
    const onChange = (s: DeploymentStatus) => {
      if (s.deployment?.name === name) listener(s);
    };
    const onRemoved = (gone: string) => {
      if (gone === name) listener(undefined);
    };
    const first = deployments.status(name);
    deployments.on('deployment', onChange);
    deployments.on('removed', onRemoved);
    listener(first);
    return () => {
      deployments.off('deployment', onChange);
      deployments.off('removed', onRemoved);
    };
  },
});

export const scaleDeployment = change({
  name: 'deployment.scale',
  role: 'operator',
  validate: ({ name, replicas }: { name: string; replicas: number }) => ({ name: checkName(name), replicas }),
  target: ({ name, replicas }) => `${name} → ${replicas}`,
  act: ({ name, replicas }, { parts, caller }) => parts.deployments.scale(name, replicas, caller.name),
});

export const restartDeployment = changeOne(
  'deployment.restart',
  (name, { parts, caller }) => parts.deployments.restart(name, caller.name),
  checkName,
);

export const deleteDeployment = changeOne(
  'deployment.delete',
  (name, { parts }) => parts.deployments.delete(name),
  checkName,
);

/** Calls `listener` with each deployment's name whenever its status changes or it is deleted; returns the function that stops it. */
export const watchDeployments = read({
  name: 'deployment.list',
  role: 'viewer',
  act: (listener: (name: string) => void, { parts }) => {
    const { deployments } = parts;
    const onChange = (s: DeploymentStatus) => listener(s.deployment?.name ?? '');
    deployments.on('deployment', onChange);
    deployments.on('removed', listener);
    return () => {
      deployments.off('deployment', onChange);
      deployments.off('removed', listener);
    };
  },
});
