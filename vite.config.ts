import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { itkWasmPipelines } from './scripts/vite-plugin-itk-wasm.ts';

// Cross-origin isolation: SharedArrayBuffer for multi-threaded WASM inference.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react(), itkWasmPipelines()],
  // Builds and test outputs under .cache/ or test-results/ must not reload open dev pages.
  server: { headers: isolationHeaders, watch: { ignored: ['**/.cache/**', '**/test-results/**', '**/dist/**'] } },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web', 'itk-wasm', '@itk-wasm/image-io', '@itk-wasm/dicom'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    // selftest.html: the model self-test page (e2e/model-fidelity.spec.ts, scripts/bench-model.mjs).
    rollupOptions: { input: { main: 'index.html', selftest: 'selftest.html' } },
  },
});
