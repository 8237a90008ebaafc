/**
 * The tools of the slice views, by name: the segmentation state holds the active one's name
 * (`tool`), the panel lists them, and useViewTools sends each view's presses to it. A new tool is
 * an algorithm (src/core/tools) and an adapter (a ViewTool) added here.
 */
import type { SegmentationTool } from '../../state/segmentation';
import { brushTool, eraserTool } from './brush';
import { navigateTool } from './navigate';
import { segmentTool } from './segment';
import type { ViewTool } from './tool';

export const TOOLS: Record<SegmentationTool, ViewTool> = {
  navigate: navigateTool,
  segment: segmentTool,
  brush: brushTool,
  eraser: eraserTool,
};

export const TOOL_NAMES = Object.keys(TOOLS) as SegmentationTool[];
