/**
 * Unit tests sit beside the code in lib/, end-to-end tests live in test/.
 * NestJS 12 ships ES modules only, so tests run as ES modules (`--experimental-vm-modules`,
 * set by `npm test`).
 *
 * Two projects: every suite runs on Express, and the contract suites (the module's behaviour,
 * not Express's) run on Fastify too, the same files with `TEST_PLATFORM=fastify`, which
 * the test apps start on (test/support/on-fastify.mjs, testing-app.ts), and so do the sample's
 * main suites, whose sample then runs with `HTTP_PLATFORM=fastify` (test/support/sample.ts).
 * docs/fastify.md says which suites stay on Express, and why.
 */
const CONTRACT_SUITES = [
  'test/module/module-options',
  'test/module/tenant-sessions',
  'test/observability/telemetry',
  'test/redis-topology/redis-outage',
  'test/redis-topology/store-failures',
  'test/revocation/listing-devices',
  'test/revocation/not-before',
  'test/revocation/revocation',
  'test/revocation/session-cap',
  'test/security/absolute-lifetime',
  'test/security/cache-control',
  'test/security/corrupt-stored-cookie',
  'test/security/csrf',
  'test/security/duplicate-cookies',
  'test/security/error-answer-cookies',
  'test/security/identity',
  'test/security/known-tenants',
  'test/security/recent-login',
  'test/security/request-target',
  'test/security/stored-session-fuzz',
  'test/compat/passport',
  'test/compat/passport-first-class',
];

/**
 * The sample's HTTP contract (every route), its hardening, its passport login and its live
 * sign-out; the browser, devices and reader suites stay on Express (chromium and a second
 * service cost time and test no platform-specific code).
 */
const SAMPLE_SUITES = [
  'test/sample/sample',
  'test/sample/sample-hardening',
  'test/sample/sample-passport',
  'test/sample/sample-live-signout',
];

const project = {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: {
    '^nestjs-tenant-session$': '<rootDir>/lib/index.ts',
    '^nestjs-tenant-session/health$': '<rootDir>/lib/health/index.ts',
    '^nestjs-tenant-session/socket\\.io$': '<rootDir>/lib/socket-io/index.ts',
    '^nestjs-tenant-session/connect-redis$': '<rootDir>/lib/connect-redis/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // An ES module required by a CommonJS package reaches Jest as CommonJS (see the file).
  resolver: '<rootDir>/test/support/jest-resolver.cjs',
};

export default {
  projects: [
    {
      ...project,
      displayName: 'express',
      roots: ['<rootDir>/lib', '<rootDir>/test'],
      testRegex: '\\.(spec|e2e-spec)\\.ts$',
    },
    {
      ...project,
      displayName: 'fastify',
      roots: ['<rootDir>/test'],
      testRegex: `/(${[...CONTRACT_SUITES, ...SAMPLE_SUITES].map((suite) => suite.replace(/^test\//, '')).join('|')})\\.e2e-spec\\.ts$`,
      setupFilesAfterEnv: ['<rootDir>/test/support/on-fastify.mjs'],
    },
  ],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 30000,
  // Most suites wait on Redis, sentinels, browsers and timers, not on a CPU: three workers keep
  // two cores busy (measured: 2 m 48 s against 4 m 2 s with two, on this 2-core machine).
  maxWorkers: 3,
};
