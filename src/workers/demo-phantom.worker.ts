/** Generates the demo phantom off the main thread (it takes about half a second). */
import { makeDemoPhantom } from '../core/phantom';

self.onmessage = () => {
  const { volume } = makeDemoPhantom();
  self.postMessage(volume, { transfer: [volume.data.buffer] });
};
