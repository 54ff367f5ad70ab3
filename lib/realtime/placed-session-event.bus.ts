import { Logger } from '@nestjs/common';
import type { SessionEvent } from './session-event.js';
import type { SessionEventBus, SessionEventListener } from './session-event-bus.interface.js';

/**
 * Session events when tenants live on several Redis deployments: each event goes through its
 * own tenant's deployment (an EU tenant's events never cross the US Redis, and an outage of one
 * deployment holds up only its tenants' events), and this instance listens on every one.
 */
export class PlacedSessionEventBus implements SessionEventBus {
  private readonly logger = new Logger('TenantSession');

  constructor(
    private readonly buses: ReadonlyMap<string, SessionEventBus>,
    private readonly deploymentOf: (tenant: string) => Promise<string>,
  ) {}

  async publish(event: SessionEvent): Promise<void> {
    let bus: SessionEventBus | undefined;
    try {
      bus = this.buses.get(await this.deploymentOf(event.tenant));
    } catch {
      bus = undefined;
    }
    if (!bus) {
      // Sockets still find out: they re-check their sessions against the store.
      this.logger.error(`A session event of tenant ${event.tenant} was not sent: no deployment`);
      return;
    }
    await bus.publish(event);
  }

  subscribe(listener: SessionEventListener): () => void {
    return this.onEach((bus) => bus.subscribe(listener));
  }

  onResubscribed(listener: () => void): () => void {
    return this.onEach((bus) => bus.onResubscribed(listener));
  }

  async close(): Promise<void> {
    await Promise.all([...this.buses.values()].map((bus) => bus.close()));
  }

  private onEach(subscribe: (bus: SessionEventBus) => () => void): () => void {
    const unsubscribes = [...this.buses.values()].map(subscribe);
    return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
  }
}
