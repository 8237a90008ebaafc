/**
 * Self-hosts the itk-wasm files the app uses (src/io/browser.ts), so no pipeline or worker is
 * fetched from a CDN: served from node_modules by the dev server, emitted under itk/ by the build.
 * Only the pipelines we call are shipped (about 5 MB instead of 50 MB).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'vite';

const IMAGE_IO_PIPELINES = [
  'nifti-read-image',
  'nifti-write-image',
  'nrrd-read-image',
  'nrrd-write-image',
  'meta-read-image',
  'meta-write-image',
];
const DICOM_PIPELINES = ['read-dicom-tags', 'read-image-dicom-file-series', 'read-segmentation', 'write-segmentation'];

/** Output directory of the assets, relative to the app's base (src/io/browser.ts: ITK_WASM_ASSET_DIR). */
const ASSET_DIR = 'itk';

function packageDist(name: string): string {
  const require = createRequire(import.meta.url);
  // The packages' "exports" hide package.json; resolve the Node entry point and go up to dist/.
  return path.dirname(require.resolve(name));
}

/** Map from the asset path (under ASSET_DIR) to the file in node_modules. */
function itkWasmAssets(): Map<string, string> {
  const assets = new Map<string, string>();
  const addPipelines = (packageName: string, names: string[]) => {
    const dir = path.join(packageDist(packageName), 'pipelines');
    for (const name of names) {
      for (const ext of ['.js', '.wasm.zst']) assets.set(`pipelines/${name}${ext}`, path.join(dir, name + ext));
    }
  };
  addPipelines('@itk-wasm/image-io', IMAGE_IO_PIPELINES);
  addPipelines('@itk-wasm/dicom', DICOM_PIPELINES);
  assets.set(
    'itk-wasm-pipeline.worker.js',
    path.join(packageDist('itk-wasm'), 'pipeline/web-workers/bundles/itk-wasm-pipeline.min.worker.js'),
  );
  return assets;
}

export function itkWasmPipelines(): Plugin {
  const assets = itkWasmAssets();
  let base = '/';
  return {
    name: 'itk-wasm-pipelines',
    configResolved(config) {
      base = config.base;
    },
    configureServer(server) {
      const headers = server.config.server.headers ?? {};
      const prefix = `${base}${ASSET_DIR}/`;
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0];
        const file = url.startsWith(prefix) ? assets.get(url.slice(prefix.length)) : undefined;
        if (!file) return next();
        for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
        res.setHeader('Content-Type', file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream');
        createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      for (const [asset, file] of assets) {
        this.emitFile({ type: 'asset', fileName: `${ASSET_DIR}/${asset}`, source: readFileSync(file) });
      }
    },
  };
}
