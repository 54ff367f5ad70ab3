import { Logger } from '@nestjs/common';
import type { SessionRevokedEvent } from '../options/session-revoked.event.js';

export type RevocationListener = (event: SessionRevokedEvent) => void | Promise<void>;

/**
 * Who hears of revocations: the `onRevoked` option, listeners the app subscribes with
 * `SessionRevocationService.onRevoked`, and the event relay (lib/realtime), which also hands
 * revocations made by the app's other instances in here, marked `remote: true`. A listener that
 * throws is logged and does not keep the others from hearing.
 */
export class RevocationEvents {
  private readonly logger = new Logger('TenantSession');
  private readonly listeners = new Set<RevocationListener>();

  /** Subscribes; returns the unsubscribe function. */
  listen(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async notify(event: SessionRevokedEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (error) {
        this.logger.error(`onRevoked listener failed: ${(error as Error).message ?? error}`);
      }
    }
  }
}
