import { HttpException } from '@nestjs/common';

/**
 * The request names no tenant this deployment serves (or an id that is not a valid one): JSON
 * with code UNKNOWN_TENANT, 404 unless the `unknownTenantStatus` option says otherwise.
 */
export class UnknownTenantException extends HttpException {
  readonly code = 'UNKNOWN_TENANT';

  constructor(status = 404) {
    super(
      {
        statusCode: status,
        error: 'Unknown Tenant',
        code: 'UNKNOWN_TENANT',
        message: 'Unknown tenant',
      },
      status,
    );
  }
}
