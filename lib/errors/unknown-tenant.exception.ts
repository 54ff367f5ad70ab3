import { HttpException } from '@nestjs/common';

/** The request names no tenant this deployment serves (or an id that is not a valid one). */
export class UnknownTenantException extends HttpException {
  constructor(status = 404) {
    super({ statusCode: status, error: 'Unknown Tenant', message: 'Unknown tenant' }, status);
  }
}
