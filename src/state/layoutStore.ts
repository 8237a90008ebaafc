/** Which views the workspace shows and how; remembered in localStorage across visits. */
import { create } from 'zustand';
import type { ViewName } from './viewStore';

export type ViewId = ViewName | '3d';
export type ViewLayout = '2x2' | '1x3';

interface LayoutState {
  layout: ViewLayout;
  /** The one view shown full size, or null for the layout. */
  maximized: ViewId | null;
  setLayout: (layout: ViewLayout) => void;
  /** Maximises the view, or restores the layout when it is the maximised one. */
  toggleMaximized: (view: ViewId) => void;
}

const STORAGE_KEY = 'sam-med3d.layout';
const LAYOUTS: readonly ViewLayout[] = ['2x2', '1x3'];
const VIEWS: readonly ViewId[] = ['axial', 'coronal', 'sagittal', '3d'];

function remembered(): Pick<LayoutState, 'layout' | 'maximized'> {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<LayoutState>;
    return {
      layout: LAYOUTS.includes(saved.layout as ViewLayout) ? (saved.layout as ViewLayout) : '2x2',
      maximized: VIEWS.includes(saved.maximized as ViewId) ? (saved.maximized as ViewId) : null,
    };
  } catch {
    return { layout: '2x2', maximized: null };
  }
}

function remember(state: Pick<LayoutState, 'layout' | 'maximized'>): Pick<LayoutState, 'layout' | 'maximized'> {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
  } catch {
    // Storage full or disabled: the layout is simply not remembered.
  }
  return state;
}

export const useLayoutStore = create<LayoutState>()((set) => ({
  ...remembered(),
  setLayout: (layout) => set(remember({ layout, maximized: null })),
  toggleMaximized: (view) => set((s) => remember({ layout: s.layout, maximized: s.maximized === view ? null : view })),
}));
