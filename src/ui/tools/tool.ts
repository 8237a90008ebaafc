/**
 * What a view tool is: the interaction adapter of one tool (navigate, segment, brush, eraser),
 * which turns presses and moves on a slice view into calls of the tool's algorithm (src/core/tools,
 * the engine, the segmentation's brush). useViewTools dispatches a view's events to the active one.
 */
import type { Vec3 } from '../../core/types';
import type { ViewName } from '../../state/viewStore';
import type { VolumeInfo } from '../../state/volumeStore';
import type { PlaneViewport } from '../../viewer/planeViewport';

/** A pointer on a view, in CSS pixels from the view's top-left corner. */
export interface ToolPointer {
  x: number;
  y: number;
  /** The button pressed (0 left, 1 middle, 2 right); moves keep the press's. */
  button: number;
  shift: boolean;
  /** Ctrl, or Cmd on a Mac. */
  command: boolean;
}

/** The view a tool acts on. */
export interface ToolView {
  view: ViewName;
  volume: VolumeInfo;
  viewport: PlaneViewport;
  /** The voxel under a view position on the view's current slice, or null outside the image. */
  voxelAt(x: number, y: number): Vec3 | null;
}

/** What a press does until its pointer is released. */
export interface Gesture {
  move(pointer: ToolPointer, view: ToolView): void;
  end(): void;
}

export interface ViewTool {
  title: string;
  /** How to use it, for the tool's button. */
  hint: string;
  /** Starts what a press does, or null to leave the press to navigation (a button the tool does not use). */
  press(pointer: ToolPointer, view: ToolView): Gesture | null;
  /** The pointer moved with no press of this view's under way. */
  hover?(pointer: ToolPointer, view: ToolView): void;
  /** The view stops listening (it goes away, or its volume changed). */
  release?(): void;
}

/** A press the tool takes and that does nothing more while the pointer moves. */
export const CLICK: Gesture = { move: () => undefined, end: () => undefined };
