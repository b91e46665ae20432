// Mutation testing (`npm run mutate`, not part of `npm test`): Stryker changes
// src/protocol/, the SSE encoder and the SSE client one mutant at a time and
// runs the specs that cover each mutant; a mutant no spec notices survives.
// The score and the survivors that remain (each equivalent: no user could
// tell) are listed in README's Development section.
//
// Only specs that import src/ can see a mutant: the child-process specs run
// the built package, and the browser and package specs are slow and prove
// other things. Each spec file is one Stryker "test" (the tap runner).
//
// @see https://stryker-mutator.io/docs/stryker-js/configuration/

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // The protocol folder, the SSE encoder, and the SSE client's parser wiring:
  // close(), the response checks, the parser, dispatch, reconnection and failure.
  mutate: [
    'src/protocol/**/*.ts',
    '!src/protocol/**/*.d.ts',
    'src/sse/encode.ts',
    'src/sse/client.ts:220-229',
    'src/sse/client.ts:404-552',
  ],
  testRunner: 'tap',
  tap: {
    testFiles: [
      'spec/unit/protocol/*.test.ts',
      'spec/unit/sse/*.test.ts',
      'spec/unit/websocket/base.test.ts',
      'spec/unit/net/*.test.ts',
      'spec/integration/event-source-client.test.ts',
    ],
    nodeArgs: ['--import=tsx'],
  },
  coverageAnalysis: 'perTest',
  checkers: [],
  concurrency: 2,
  timeoutMS: 5000,
  // A static mutant (a module-level constant) would rerun every spec file:
  // skipped and reported as ignored; the constants are pinned by exact
  // assertions (MAX_EVENT_SIZE, MAX_REDIRECTS, DEFAULT_MAX_LENGTH...).
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['dist', 'coverage', '.tap', 'reports', 'node_modules', 'examples', 'bench', 'docs'],
};
