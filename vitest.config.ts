import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// swc keeps decorator metadata, which Nest's dependency injection needs; vitest's default
// transform (esbuild) drops it.
const plugins = [swc.vite({ module: { type: 'es6' } })];
// Tests run the TypeScript sources: `#lib/*` and `#contracts/*` resolve to libs/ instead of the
// dist/ files that package.json's `imports` names for Node.
const here = fileURLToPath(new URL('.', import.meta.url));
const resolve = {
  alias: [
    { find: /^#lib\/(.+)$/, replacement: `${here}libs/$1/src/index.ts` },
    { find: /^#contracts\/(.+)$/, replacement: `${here}libs/contracts/src/$1/index.ts` },
  ],
};

export default defineConfig({
  plugins,
  resolve,
  test: {
    pool: 'forks',
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' },
    projects: [
      {
        plugins,
        resolve,
              test: { name: 'unit', include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts'], testTimeout: 10_000 },
      },
      {
        plugins,
        resolve,
              test: {
          name: 'integration',
          include: ['test/integration/**/*.int.spec.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        plugins,
        resolve,
              test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.spec.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // End-to-end files start whole platforms and agent processes; two cores run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
