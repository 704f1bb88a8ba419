// @ts-check
/**
 * Lint for CareBridge: typescript-eslint's strict type-checked rules, the house rules of
 * CONVENTIONS.md (explicit return types on exports, no floating promises, type-only imports,
 * exhaustive switches) and the folder boundaries of ARCHITECTURE.md as `no-restricted-imports`.
 *
 * `no-restricted-imports` takes one option set per file (a later block replaces an earlier one,
 * it does not merge), so each folder's block lists every restriction that applies to it.
 */
const { defineConfig, globalIgnores } = require('eslint/config');
const eslint = require('@eslint/js');
const tseslint = require('typescript-eslint');

// ── Folder boundaries ──────────────────────────────────────────────────────────────────────────
// Import specifiers are matched as written (no module resolution), so a folder is matched as a
// whole path segment: '../gateway/store/engine', '../../gateway', 'gateway/x' all match.

/** ARCHITECTURE.md: "Nothing imports gateway/" (gateway/ itself, tests/ and bench/ excepted). */
const noGateway = {
  regex: '(^|/)gateway(/|$)',
  message: 'gateway/ is the composition root: nothing outside it (but tests/ and bench/) imports it. Have gateway/ pass what you need in.',
};

/** adapters/ parse and acknowledge; they know no FHIR mapping. */
const noMappings = {
  regex: '(^|/)mappings(/|$)',
  message: 'adapters/ know no FHIR mapping: mappings/ depend on adapter types, not the other way round.',
};

/** mappings/ and consent/ are pure: no file system, network, database, HTTP server or queue. */
const noIo = [
  {
    regex: '^(node:)?(fs|fs/promises|net|tls|http|https|http2|dgram|dns|child_process|cluster|worker_threads)$',
    message: 'mappings/ and consent/ do no I/O (CONVENTIONS.md "Pure core, thin edges"): take values, return values; gateway/ hands I/O in.',
  },
  {
    regex: '^(pg|@electric-sql/pglite|express|ioredis|bullmq)(/.*)?$',
    message: 'mappings/ and consent/ do no I/O: no database, HTTP server or queue client here; that lives in gateway/.',
  },
];

/** @param {...{ regex: string, message: string }} patterns */
const restrictImports = (...patterns) => ['error', { patterns }];

// No clock and no randomness in the pure core: "ids are derived from source identifiers",
// "no clock (pass `now`)". Parsing a given date (`new Date(value)`) stays allowed.
const pureCoreRules = {
  'no-restricted-imports': restrictImports(noGateway, ...noIo),
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'No clock in the pure core: take `now` as an argument.' },
    { object: 'Math', property: 'random', message: 'No randomness in the pure core: derive ids from source identifiers (UUID v5).' },
    { object: 'crypto', property: 'randomUUID', message: 'No randomness in the pure core: derive ids from source identifiers (UUID v5).' },
    { object: 'performance', property: 'now', message: 'No clock in the pure core: take `now` as an argument.' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'No clock in the pure core: take `now` as an argument.' },
    { selector: "CallExpression[callee.name='Date']", message: 'No clock in the pure core: take `now` as an argument.' },
    { selector: "ImportDeclaration[source.value=/^(node:)?crypto$/] > ImportSpecifier[imported.name=/^random/]", message: 'No randomness in the pure core: derive ids from source identifiers (UUID v5).' },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'fetch', message: 'mappings/ and consent/ do no I/O.' },
    { name: 'process', message: 'mappings/ and consent/ read no environment: configuration is passed in by gateway/.' },
  ],
};

const testFiles = ['**/*.test.ts', 'tests/**/*.ts', 'bench/**/*.ts'];

module.exports = defineConfig([
  globalIgnores([
    '**/dist/',
    '**/node_modules/',
    'data/',
    '.tmp/',
    'coverage/',
    'bin/',
    '**/*.config.js',
    '**/*.config.cjs',
    '**/*.config.mjs',
  ]),

  {
    name: 'carebridge/typescript',
    files: ['**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.strictTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: __dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // CONVENTIONS.md "Types": explicit return types on exports, no floating promises, type-only imports.
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: true },
      ],
      // Fixed sets are `as const` objects and a switch over them is exhaustive.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],

      // Sane defaults so well-written code passes.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: false, allowAny: false, allowNullish: false, allowRegExp: false, allowNever: false },
      ],
      // `() => void doThing()` and `onClose(() => server.close())` are fine as arrow shorthands.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidOperator: true }],

      'no-restricted-imports': restrictImports(noGateway),
    },
  },

  // ── Folder boundaries (ARCHITECTURE.md "Folders") ─────────────────────────────────────────────
  {
    name: 'carebridge/boundaries/gateway-tests-bench',
    files: ['gateway/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    name: 'carebridge/boundaries/adapters',
    files: ['adapters/**/*.ts'],
    rules: { 'no-restricted-imports': restrictImports(noGateway, noMappings) },
  },
  {
    name: 'carebridge/boundaries/pure-core',
    files: ['mappings/**/*.ts', 'consent/**/*.ts'],
    rules: pureCoreRules,
  },
  // A unit test beside a pure module may read fixtures from disk and use the clock; it still may
  // not reach into gateway/ (cross-module tests belong in tests/).
  {
    name: 'carebridge/boundaries/pure-core-tests',
    files: ['mappings/**/*.test.ts', 'consent/**/*.test.ts'],
    rules: {
      'no-restricted-imports': restrictImports(noGateway),
      'no-restricted-properties': 'off',
      'no-restricted-syntax': 'off',
      'no-restricted-globals': 'off',
    },
  },
  {
    name: 'carebridge/boundaries/adapters-tests',
    files: ['adapters/**/*.test.ts'],
    rules: { 'no-restricted-imports': restrictImports(noGateway, noMappings) },
  },

  // ── Tests and benchmarks ─────────────────────────────────────────────────────────────────────
  {
    name: 'carebridge/tests',
    files: testFiles,
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/no-unsafe-type-assertion': 'off',
      // `expect(repo.read).toHaveBeenCalled()` passes a method unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // Test helpers and bench scenarios are not module boundaries.
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      // `body<Bundle>(res)` says at the call what a test expects back, even when Bundle is the
      // helper's default; a JSON-parsing helper `body<T>(): T` is a deliberate cast in a test.
      '@typescript-eslint/no-unnecessary-type-arguments': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
    },
  },

  // Plain JavaScript (none linted today: bin/ and *.config.js are ignored) gets no type-aware rules.
  {
    name: 'carebridge/javascript',
    files: ['**/*.{js,cjs,mjs}'],
    extends: [eslint.configs.recommended, tseslint.configs.disableTypeChecked],
  },
]);
