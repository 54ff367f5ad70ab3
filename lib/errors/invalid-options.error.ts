/** Thrown at start-up when TenantSessionModule options are unusable (missing or weak secret, ...). */
export class InvalidTenantSessionOptionsError extends Error {
  override readonly name = 'InvalidTenantSessionOptionsError';
}
