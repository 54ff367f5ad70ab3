import type { SessionEvent } from './session-event.js';

export type SessionEventListener = (event: SessionEvent, remote: boolean) => void;

/**
 * How session events reach every instance of the app: through Redis pub/sub (sharded pub/sub on
 * a Cluster) beside a Redis backend, in-process beside the embedded one.
 */
export interface SessionEventBus {
  /**
   * Hands the event to this instance's listeners (`remote` false), then sends it to the other
   * instances (`remote` true there). Never throws: an event that cannot be sent now is kept and
   * sent again until it goes through (bounded).
   */
  publish(event: SessionEvent): Promise<void>;
  /** Listens to every event, this instance's and the others'; returns the unsubscribe function. */
  subscribe(listener: SessionEventListener): () => void;
  /**
   * Called each time the subscription is (re)established. Events published while it was down
   * never arrive: whoever depends on them re-checks the store then.
   */
  onResubscribed(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Injection token of the module's event bus. */
export const SessionEventBus = Symbol('SessionEventBus');
