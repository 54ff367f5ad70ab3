import { ServiceUnavailableException } from '@nestjs/common';

/**
 * The session store could not do what the request needed (unreachable, too slow, out of memory,
 * too few replicas, ...): the request fails fast with 503 JSON (code SESSION_STORE_UNAVAILABLE)
 * and nothing is acknowledged. `reason` says which, for logs; it never contains session data,
 * ids or keys, and is not part of the answer.
 */
export class SessionStoreUnavailableException extends ServiceUnavailableException {
  readonly code = 'SESSION_STORE_UNAVAILABLE';

  constructor(readonly reason = 'unavailable') {
    super({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SESSION_STORE_UNAVAILABLE',
      message: 'Session store unavailable',
    });
  }
}
