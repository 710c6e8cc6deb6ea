import path from 'node:path';
import { defineConfig } from 'vitest/config';

/** The tests against the built container image (`npm run test:container`; test/container/run.sh builds it first). */
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../..'),
  test: {
    include: ['test/container/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
