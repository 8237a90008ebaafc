/**
 * What the UI shows of the segmentation of the current volume: segment table, volumes, undo/redo
 * availability, tool. State and setters only: the labelmap and its history live in a
 * `Segmentation` object outside reactive state (src/services/segmentation.ts), which updates
 * this store on each change.
 */
import { create } from 'zustand';
import type { Segment } from '../core/segmentation/segments';

export type SegmentationTool = 'navigate' | 'segment' | 'brush' | 'eraser';

export interface SegmentRow extends Segment {
  volumeMl: number;
}

interface SegmentationState {
  /** Volume id the segmentation belongs to (null: no volume). */
  volumeId: string | null;
  segments: SegmentRow[];
  activeLabel: number | null;
  canUndo: boolean;
  canRedo: boolean;
  tool: SegmentationTool;
  brushRadiusMm: number;
  brushShape: 'disc' | 'sphere';
  setTool: (tool: SegmentationTool) => void;
  setBrush: (brush: { radiusMm?: number; shape?: 'disc' | 'sphere' }) => void;
  setActiveLabel: (label: number | null) => void;
}

export const useSegmentationStore = create<SegmentationState>()((set) => ({
  volumeId: null,
  segments: [],
  activeLabel: null,
  canUndo: false,
  canRedo: false,
  tool: 'segment',
  brushRadiusMm: 5,
  brushShape: 'disc',
  setTool: (tool) => set({ tool }),
  setBrush: ({ radiusMm, shape }) => set((s) => ({ brushRadiusMm: radiusMm ?? s.brushRadiusMm, brushShape: shape ?? s.brushShape })),
  setActiveLabel: (activeLabel) => set({ activeLabel }),
}));
