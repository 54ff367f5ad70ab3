import tseslint from 'typescript-eslint';

/**
 * lib/ is layered; a folder may import only from the folders before it, never from a later one
 * (and never from the module files at the root of lib/):
 * errors ← util ← tenancy ← options ← telemetry ← store ← user-index ← session ← revocation ←
 * identity ← realtime ← http ← express ← health ← socket-io ← connect-redis ← root ← cli.
 * lib/health (the terminus indicator) and lib/socket-io (the socket.io adapter) are entry points
 * of their own: they load optional peers, which nothing reachable from lib/index.ts may import.
 * `@opentelemetry/api`, an optional peer too, is loaded by lib/telemetry alone, with import()
 * (load-telemetry.ts): a static import of it, anywhere, is an error; lib/telemetry may import
 * its types. lib/connect-redis is an entry point for plain services, which load no Nest.
 * lib/cli (the operators' command) sits above the root: it uses the module through
 * lib/index.ts, and nothing imports it.
 */
const LAYERS = [
  'errors',
  'util',
  'tenancy',
  'options',
  'telemetry',
  'store',
  'user-index',
  'session',
  'revocation',
  'identity',
  'realtime',
  'http',
  'express',
  'fastify',
  'health',
  'socket-io',
  'connect-redis',
  'cli',
];

/** Layers above the module files at lib/'s root, which they may import (lib/index.ts). */
const ABOVE_ROOT = ['cli'];

/** Optional peer dependencies, by the entry point (lib/<folder>) that alone may load them. */
const OPTIONAL_PEERS = {
  health: ['@nestjs/terminus'],
  'socket-io': ['@nestjs/websockets', '@nestjs/platform-socket.io', 'socket.io'],
};

/** An optional peer the core loads by import() only, when the app has it (load-telemetry.ts). */
const DYNAMIC_PEER = {
  name: '@opentelemetry/api',
  message:
    '@opentelemetry/api is an optional peer: lib/telemetry/load-telemetry.ts loads it with ' +
    'import(); elsewhere in lib/telemetry import its types only',
};

/**
 * Fastify's packages, optional peers that nothing may load: lib/fastify binds to an app's Fastify
 * instance through their types only, so an Express app runs without them.
 */
const FASTIFY_TYPES_ONLY = ['fastify', '@nestjs/platform-fastify'].map((name) => ({
  name,
  allowTypeImports: true,
  message: `${name} is an optional peer: import its types only (lib/fastify binds to the instance)`,
}));

/**
 * The optional peers a folder may not import: all but its own (a root file: all), and the
 * dynamically loaded one but in lib/telemetry (where its types may be imported, see below).
 */
const optionalPeersOutside = (folder) => [
  ...Object.entries(OPTIONAL_PEERS).flatMap(([entry, names]) =>
    entry === folder
      ? []
      : names.map((name) => ({
          name,
          message: `${name} is an optional peer: only the lib/${entry} entry point may load it`,
        })),
  ),
  ...(folder === 'telemetry' ? [] : [DYNAMIC_PEER]),
];

/**
 * A layer's rule for its files at `depth` below lib/<layer> (0: directly in it, 1: in a subfolder,
 * as lib/store/redis): no import from a later layer, nor from the module files at lib/'s root; a
 * layer above the root imports the lib through lib/index.ts only.
 */
const layerRule = (layer, i, depth) => {
  const up = '../'.repeat(depth + 1);
  const pattern = ABOVE_ROOT.includes(layer)
    ? {
        group: [
          ...LAYERS.slice(0, i).map((lower) => `${up}${lower}/*`),
          `${up}*.js`,
          `!${up}index.js`,
        ],
        message: `lib/${layer} sits above the module: it uses the lib through lib/index.ts only`,
      }
    : {
        group: [...LAYERS.slice(i + 1).map((higher) => `${up}${higher}/*`), `${up}*.js`],
        message: `lib/${layer} sits below that folder: import only from ${LAYERS.slice(0, i).join(', ') || 'no other folder'} (see eslint.config.mjs)`,
      };
  return {
    files: [depth === 0 ? `lib/${layer}/*.ts` : `lib/${layer}/*/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: optionalPeersOutside(layer), patterns: [pattern] },
      ],
    },
  };
};

const layerRules = LAYERS.flatMap((layer, i) => [layerRule(layer, i, 0), layerRule(layer, i, 1)]);

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'dist-check',
      'dist-sample',
      'dist-bench',
      'coverage',
      'test-artifacts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  {
    files: ['lib/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: FASTIFY_TYPES_ONLY }],
    },
  },
  {
    files: ['lib/telemetry/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ ...DYNAMIC_PEER, allowTypeImports: true }, ...FASTIFY_TYPES_ONLY] },
      ],
    },
  },
  {
    // CommonJS files, where Jest asks for one (test/support/jest-resolver.cjs).
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['lib/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: optionalPeersOutside(undefined),
          patterns: [
            ...Object.keys(OPTIONAL_PEERS).map((entry) => ({
              group: [`./${entry}/*`],
              message: `lib/${entry} loads optional peers: only its own entry point may import it`,
            })),
            ...ABOVE_ROOT.map((layer) => ({
              group: [`./${layer}/*`],
              message: `lib/${layer} sits above the module files: they may not import it`,
            })),
          ],
        },
      ],
    },
  },
);
