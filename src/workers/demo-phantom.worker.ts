/** Generates the demo phantom off the main thread (it takes about half a second). */
import { makeDemoPhantom } from '../core/phantom';
import { isShared, shareVoxels } from '../core/shared-voxels';

self.onmessage = () => {
  const { volume } = makeDemoPhantom();
  // Shared memory reaches the page without a copy there (see sharedArray).
  const data = shareVoxels(volume.data);
  self.postMessage({ ...volume, data }, { transfer: isShared(data) ? [] : [data.buffer as ArrayBuffer] });
};
