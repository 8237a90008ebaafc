/** What the UI asks of segments that involves both the segmentation and the inference worker. */
import { forgetObject } from './inference';
import { deleteSegment } from './segmentation';

/** Deletes a segment (one undo step) and frees the worker's patches and mask of it; an undo replays it from its points. */
export function removeSegment(label: number): void {
  deleteSegment(label);
  forgetObject(label);
}
