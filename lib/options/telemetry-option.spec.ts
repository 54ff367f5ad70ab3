import { InvalidTenantSessionOptionsError } from '../errors/invalid-options.error.js';
import { checkTelemetry } from './telemetry-option.js';

describe('the telemetry option', () => {
  it('puts the tenant on metrics and spans unless told not to', () => {
    expect(checkTelemetry(undefined)).toEqual({ tenantAttribute: true });
    expect(checkTelemetry({})).toEqual({ tenantAttribute: true });
    expect(checkTelemetry({ tenantAttribute: false })).toEqual({ tenantAttribute: false });
  });

  it.each([[null], [true], [[]], [{ tenantAttribute: 'no' }]])(
    'refuses %j with InvalidTenantSessionOptionsError',
    (telemetry) => {
      expect(() => checkTelemetry(telemetry)).toThrow(InvalidTenantSessionOptionsError);
    },
  );
});
