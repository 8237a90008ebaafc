import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { itkWasmPipelines } from './scripts/vite-plugin-itk-wasm.ts';

// Cross-origin isolation: SharedArrayBuffer for multi-threaded WASM inference.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * PACS_URL (e.g. http://127.0.0.1:8042/dicom-web) is served as /pacs on our own origin, so the
 * DICOMweb root "/pacs" needs no CORS. The PACS's Basic challenge is dropped: the app asks for
 * the credential itself instead of the browser's login dialog.
 */
const pacsUrl = process.env.PACS_URL;
const pacsProxy = pacsUrl
  ? {
      '/pacs': {
        target: pacsUrl,
        changeOrigin: true,
        rewrite: (path: string) => path.replace(/^\/pacs/, ''),
        configure: (proxy: { on: (event: 'proxyRes', listener: (response: { headers: Record<string, unknown> }) => void) => void }) =>
          proxy.on('proxyRes', (response) => delete response.headers['www-authenticate']),
      },
    }
  : undefined;

export default defineConfig({
  plugins: [react(), itkWasmPipelines()],
  // Builds and test outputs under .cache/ or test-results/ must not reload open dev pages.
  server: { headers: isolationHeaders, proxy: pacsProxy, watch: { ignored: ['**/.cache/**', '**/test-results/**', '**/dist/**'] } },
  preview: { headers: isolationHeaders, proxy: pacsProxy },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web', 'itk-wasm', '@itk-wasm/image-io', '@itk-wasm/dicom'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    // selftest.html: the model self-test page (e2e/model-fidelity.spec.ts, scripts/bench-model.mjs).
    rollupOptions: { input: { main: 'index.html', selftest: 'selftest.html' } },
  },
});
