import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Many tests drive real CLI processes on the embedded database (each opens PGlite, a WebAssembly
    // PostgreSQL): on two shared cores they can take a minute; a hang still fails, just later.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Test files start their own relays and databases; two cores, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
