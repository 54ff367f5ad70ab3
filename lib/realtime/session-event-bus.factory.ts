import { Logger } from '@nestjs/common';
import type { ResolvedOptions } from '../options/resolved-options.js';
import type { TenantSessionRegistry } from '../session/tenant-session.registry.js';
import type { Deployments } from '../store/deployments.js';
import type { SessionBackend } from '../store/session-backend.interface.js';
import { LocalSessionEventBus } from './local-session-event.bus.js';
import { PlacedSessionEventBus } from './placed-session-event.bus.js';
import { RedisSessionEventBus } from './redis-session-event.bus.js';
import type { SessionEventBus } from './session-event-bus.interface.js';

/**
 * The bus that fits the backends: Redis pub/sub beside Redis, in-process beside the embedded
 * store; with several deployments, one on each, every event on its tenant's. With Redis
 * answering, start-up waits (bounded) until the subscription is in place, so the app hears
 * events from its first request on; otherwise it subscribes once Redis is back.
 */
export async function createSessionEventBus(
  options: ResolvedOptions,
  deployments: Deployments,
  registry: TenantSessionRegistry,
): Promise<SessionEventBus> {
  const buses = await Promise.all(
    deployments
      .entries()
      .map(
        async ([deployment, backend]) => [deployment, await busBeside(options, backend)] as const,
      ),
  );
  if (buses.length === 1) return buses[0][1];
  return new PlacedSessionEventBus(
    new Map(buses),
    async (tenant) => (await registry.get(tenant)).deployment,
  );
}

async function busBeside(
  options: ResolvedOptions,
  backend: SessionBackend,
): Promise<SessionEventBus> {
  const client = backend.lifecycle.pubSubClient;
  if (!client) return new LocalSessionEventBus();
  const bus = new RedisSessionEventBus(client, options.appName, options.operationTimeoutMs);
  bus.start();
  if (client.status === 'ready' && !(await bus.subscribed(options.operationTimeoutMs * 5))) {
    logger.warn('Not subscribed to session events yet; sockets are checked again once it is');
  }
  return bus;
}

const logger = new Logger('TenantSession');
