import { ServiceUnavailableException } from '@nestjs/common';

/** The session store did not answer in time (or is unreachable); the request fails fast with 503. */
export class SessionStoreUnavailableException extends ServiceUnavailableException {
  constructor(cause?: unknown) {
    super('Session store unavailable', { cause, description: 'Service Unavailable' });
  }
}
