/**
 * `nestjs-tenant-session/connect-redis`: what a plain express-session + connect-redis service
 * sharing the module's sessions needs, without Nest (docs/recipes/sharing-sessions.md).
 */
export {
  connectRedisOptions,
  type ConnectRedisSessionOptions,
  type PlainServiceSettings,
} from './connect-redis-options.js';
