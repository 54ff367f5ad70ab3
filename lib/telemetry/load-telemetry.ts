import type { ResolvedOptions } from '../options/resolved-options.js';
import { SessionTelemetry, type OpenTelemetryApi } from './session-telemetry.js';

/**
 * The module's telemetry, through the app's `@opentelemetry/api` when it has one (an optional
 * peer: loaded here only, by a dynamic import, so an app without it starts all the same and
 * records nothing). Loaded at start, after the app registered its SDK, as OpenTelemetry asks.
 */
export async function loadTelemetry(options: ResolvedOptions): Promise<SessionTelemetry> {
  const api = await import('@opentelemetry/api').then(
    (loaded: OpenTelemetryApi) => loaded,
    (error: NodeJS.ErrnoException) => {
      if (error?.code === 'ERR_MODULE_NOT_FOUND' || error?.code === 'MODULE_NOT_FOUND') {
        return undefined;
      }
      throw error;
    },
  );
  return api ? new SessionTelemetry(api, options.telemetry) : SessionTelemetry.off;
}
