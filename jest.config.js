/**
 * Unit tests live beside the code (*.test.ts); integration scenarios on real servers live in tests/.
 * npm test runs jest with --experimental-vm-modules because PGlite loads its parts with dynamic import().
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/subgraphs', '<rootDir>/gateway', '<rootDir>/scripts', '<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  // Workspace packages export their TypeScript sources under the "source" condition.
  testEnvironmentOptions: { customExportConditions: ['source', 'node', 'require', 'default'] },
  // @urql/core's exports map a "source" condition to sources it does not ship.
  moduleNameMapper: { '^@urql/core$': '<rootDir>/node_modules/@urql/core/dist/urql-core.js' },
  setupFiles: ['<rootDir>/tests/support/env.ts'],
  // Generous: starting a platform seeds three PGlite databases, which takes far longer on a loaded machine.
  testTimeout: 120000,
  // Keep-alive sockets of fetch() and Apollo's standalone test servers can outlive a suite by seconds; never let CI hang on them.
  forceExit: true,
};
