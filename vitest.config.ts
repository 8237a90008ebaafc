import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores: ONNX sessions and itk-wasm are heavy, keep files sequential.
    fileParallelism: false,
  },
});
