import { SessionStoreUnavailableException } from './session-store-unavailable.exception.js';
import { UnknownTenantException } from './unknown-tenant.exception.js';

/** What a refused socket.io client gets in `connect_error`: `err.message` and this as `err.data`. */
export interface HandshakeRefusal {
  status: number;
  code: 'UNKNOWN_TENANT' | 'ORIGIN_NOT_ALLOWED' | 'SESSION_STORE_UNAVAILABLE' | 'INTERNAL_ERROR';
}

/**
 * A socket handshake the module refused: an unknown tenant, a page of another origin, or a
 * session store that cannot answer. socket.io sends the message and `data` to the client as
 * its `connect_error`.
 */
export class HandshakeRefusedError extends Error {
  override readonly name = 'HandshakeRefusedError';

  constructor(
    message: string,
    readonly data: HandshakeRefusal,
  ) {
    super(message);
  }

  static originNotAllowed(): HandshakeRefusedError {
    return new HandshakeRefusedError('Origin not allowed', {
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
    });
  }

  /** The refusal for what the handshake failed with; undefined for an unexpected error. */
  static for(error: unknown): HandshakeRefusedError | undefined {
    if (error instanceof HandshakeRefusedError) return error;
    if (error instanceof UnknownTenantException) {
      return new HandshakeRefusedError('Unknown tenant', {
        status: error.getStatus(),
        code: 'UNKNOWN_TENANT',
      });
    }
    if (error instanceof SessionStoreUnavailableException) {
      return new HandshakeRefusedError('Session store unavailable', {
        status: 503,
        code: 'SESSION_STORE_UNAVAILABLE',
      });
    }
    return undefined;
  }

  /** For anything else (logged on the server, never described to the client). */
  static internal(): HandshakeRefusedError {
    return new HandshakeRefusedError('Internal server error', {
      status: 500,
      code: 'INTERNAL_ERROR',
    });
  }
}
