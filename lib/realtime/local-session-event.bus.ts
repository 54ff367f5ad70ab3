import { Logger } from '@nestjs/common';
import type { SessionEvent } from './session-event.js';
import type { SessionEventBus, SessionEventListener } from './session-event-bus.interface.js';

/**
 * Events within this process only: the bus beside the embedded store, whose sessions no other
 * process can see anyway. The Redis bus builds on it for its local deliveries.
 */
export class LocalSessionEventBus implements SessionEventBus {
  protected readonly logger = new Logger('TenantSession');
  private readonly listeners = new Set<SessionEventListener>();
  private readonly resubscribedListeners = new Set<() => void>();

  async publish(event: SessionEvent): Promise<void> {
    this.deliver(event, false);
  }

  subscribe(listener: SessionEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResubscribed(listener: () => void): () => void {
    this.resubscribedListeners.add(listener);
    return () => this.resubscribedListeners.delete(listener);
  }

  async close(): Promise<void> {}

  protected deliver(event: SessionEvent, remote: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(event, remote);
      } catch (error) {
        this.logger.error(`A session event listener failed: ${(error as Error)?.message ?? error}`);
      }
    }
  }

  protected resubscribed(): void {
    for (const listener of this.resubscribedListeners) listener();
  }
}
