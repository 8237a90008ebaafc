import { defineConfig } from '@playwright/test';

// APP_PORT lets several checkouts run their suites side by side.
const port = Number(process.env.APP_PORT ?? 4173);
// The PACS tests start Orthanc on this loopback port (e2e/pacs-support.ts); the app server
// proxies /pacs to it (vite.config.ts), so the tests use the DICOMweb root "/pacs".
const pacsPort = Number(process.env.PACS_PORT ?? port + 10000);
process.env.PACS_PORT = String(pacsPort);
process.env.PACS_URL ??= `http://127.0.0.1:${pacsPort}/dicom-web`;
// Both serve a test build (--mode test: the app's read-only test hooks, which production builds
// leave out). CI builds and serves it like production (proves the build is self-contained);
// locally the dev server is reused.
const testDist = '.cache/e2e-dist';
const server = process.env.CI
  ? `npx vite build --mode test --logLevel warn --outDir ${testDist} --emptyOutDir && npx vite preview --outDir ${testDist} --port ${port} --strictPort`
  : `npx vite --mode test --port ${port} --strictPort`;

export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${port}`,
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--enable-unsafe-webgpu',
      ],
    },
  },
  webServer: { command: server, url: `http://localhost:${port}`, reuseExistingServer: !process.env.CI, timeout: 600_000 },
});
