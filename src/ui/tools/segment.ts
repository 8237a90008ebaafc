/**
 * The segment tool: a click is a positive point, Shift+click or a right click a negative one (the
 * engine does the rest, through the inference state). Resting the pointer pre-encodes the patch
 * under it, so the next click only runs the decoder.
 */
import { addPoint, preEncode } from '../../services/inference';
import { CLICK, type ViewTool } from './tool';

const PRE_ENCODE_DELAY_MS = 400;

let restTimer = 0;

export const segmentTool: ViewTool = {
  title: 'Segment',
  hint: 'Click: positive point; Shift+click or right click: negative point',
  press(pointer, view) {
    if (pointer.command || (pointer.button !== 0 && pointer.button !== 2)) return null;
    const index = view.voxelAt(pointer.x, pointer.y);
    if (!index) return null;
    void addPoint(index, pointer.button === 0 && !pointer.shift);
    return CLICK;
  },
  hover(pointer, view) {
    window.clearTimeout(restTimer);
    const index = view.voxelAt(pointer.x, pointer.y);
    if (index) restTimer = window.setTimeout(() => preEncode(index), PRE_ENCODE_DELAY_MS);
  },
  release() {
    window.clearTimeout(restTimer);
  },
};
