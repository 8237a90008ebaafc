/**
 * The brush and eraser tools: a left drag paints (or erases) the active segment along the
 * pointer's path, one undo step per stroke. The dab: core/segmentation/brush.ts; the path:
 * core/tools/brushStroke.ts; the stroke: the segmentation state.
 */
import { strokeCenters } from '../../core/tools/brushStroke';
import { beginBrushStroke, brushDab, endBrushStroke } from '../../services/segmentation';
import { CLICK, type ViewTool } from './tool';

function strokeTool(title: string, hint: string): ViewTool {
  return {
    title,
    hint,
    press(pointer, view) {
      if (pointer.command || pointer.button !== 0) return null;
      let last = view.voxelAt(pointer.x, pointer.y);
      if (!last) return null;
      if (!beginBrushStroke()) return CLICK;
      const normalAxis = view.viewport.layout.normalAxis;
      brushDab(last, normalAxis);
      return {
        move(moved, movedView) {
          const index = movedView.voxelAt(moved.x, moved.y);
          if (!index) return;
          for (const center of strokeCenters(last!, index)) brushDab(center, normalAxis);
          last = index;
        },
        end: endBrushStroke,
      };
    },
  };
}

export const brushTool = strokeTool('Brush', 'Drag to paint the active segment');
export const eraserTool = strokeTool('Eraser', 'Drag to erase the active segment');
