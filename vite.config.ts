import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation: SharedArrayBuffer for multi-threaded WASM inference.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web', 'itk-wasm', '@itk-wasm/image-io', '@itk-wasm/dicom'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
