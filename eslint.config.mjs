import tseslint from 'typescript-eslint';

/**
 * lib/ is layered; a folder may import only from the folders before it, never from a later one
 * (and never from the module files at the root of lib/):
 * errors ← tenancy ← options ← store ← user-index ← session ← revocation ← identity ← http ← root.
 */
const LAYERS = [
  'errors',
  'tenancy',
  'options',
  'store',
  'user-index',
  'session',
  'revocation',
  'identity',
  'http',
];

const layerRules = LAYERS.map((layer, i) => ({
  files: [`lib/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: [...LAYERS.slice(i + 1).map((higher) => `../${higher}/*`), '../*.js'],
            message: `lib/${layer} sits below that folder: import only from ${LAYERS.slice(0, i).join(', ') || 'no other folder'} (see eslint.config.mjs)`,
          },
        ],
      },
    ],
  },
}));

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
);
