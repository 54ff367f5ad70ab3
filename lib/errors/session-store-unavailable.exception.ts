import { ServiceUnavailableException } from '@nestjs/common';

/**
 * The session store could not do what the request needed (unreachable, too slow, out of memory,
 * too few replicas, ...): the request fails fast with 503 and nothing is acknowledged. `reason`
 * says which, for logs; it never contains session data, ids or keys.
 */
export class SessionStoreUnavailableException extends ServiceUnavailableException {
  constructor(readonly reason = 'unavailable') {
    super('Session store unavailable', { description: 'Service Unavailable' });
  }
}
