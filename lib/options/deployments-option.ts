import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { checkRedisOption, type RedisSource } from './redis-option.js';

/** The name of the deployment the `redis` option describes. */
export const DEFAULT_DEPLOYMENT = 'default';

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,62})$/;

/**
 * The `deployments` option, checked: each name a short lower-case label other than `default`,
 * each value a Redis as `redis` accepts it (never the embedded store: a tenant placed on a
 * deployment must really be there).
 */
export function checkDeployments(deployments: unknown): Record<string, RedisSource> {
  if (deployments === undefined) return {};
  if (typeof deployments !== 'object' || deployments === null || Array.isArray(deployments)) {
    throw new InvalidTenantSessionOptionsError(
      'deployments must be an object: deployment name → Redis (client, options or URL)',
    );
  }
  const checked: Record<string, RedisSource> = {};
  for (const [name, redis] of Object.entries(deployments)) {
    if (!NAME.test(name) || name === DEFAULT_DEPLOYMENT) {
      throw new InvalidTenantSessionOptionsError(
        `deployments: "${name}" must be lower-case letters, digits and hyphens, and not ` +
          `"${DEFAULT_DEPLOYMENT}" (the \`redis\` option)`,
      );
    }
    if (redis === undefined) {
      throw new InvalidTenantSessionOptionsError(`deployments.${name}: no Redis given`);
    }
    try {
      checked[name] = checkRedisOption(redis, false);
    } catch (error) {
      throw new InvalidTenantSessionOptionsError(
        `deployments.${name}: ${(error as Error).message}`,
      );
    }
  }
  return checked;
}

/** A tenant's `deployment` setting must name one of them. */
export function checkDeploymentName(
  where: string,
  deployment: unknown,
  deployments: Record<string, RedisSource>,
): void {
  if (deployment === undefined || deployment === DEFAULT_DEPLOYMENT) return;
  if (typeof deployment !== 'string' || !(deployment in deployments)) {
    const names = [DEFAULT_DEPLOYMENT, ...Object.keys(deployments)].join(', ');
    throw new InvalidTenantSessionOptionsError(
      `${where}.deployment must be one of ${names}, got ${JSON.stringify(deployment)}`,
    );
  }
}
