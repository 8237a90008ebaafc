/**
 * Wires the app's services together, once, at start-up (called from main.tsx): no module does
 * this by being imported.
 *
 * - a new volume gets a new labelmap;
 * - a new labelmap sends its volume to the inference worker and is watched by autosave;
 * - segments that leave the table (deleted, or undone) are forgotten by the worker.
 */
import { useVolumeStore } from '../state/volumeStore';
import { watchForAutosave } from './autosave';
import { forgetObjects, sendVolume } from './inference';
import { onSegmentationReplaced, replaceSegmentation } from './segmentation';

let started = false;

export function startServices(): void {
  if (started) return;
  started = true;
  onSegmentationReplaced((segmentation) => {
    void sendVolume();
    void watchForAutosave(segmentation);
    segmentation?.subscribe((change) => {
      if (change.removed.length > 0) forgetObjects(change.removed);
    });
  });
  useVolumeStore.subscribe((state, previous) => {
    if (state.current?.id !== previous.current?.id) replaceSegmentation(state.current);
  });
}
