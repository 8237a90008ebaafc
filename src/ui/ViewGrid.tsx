import { useEffect, useRef, type ReactNode } from 'react';
import { useLayoutStore, type ViewId, type ViewLayout } from '../state/layoutStore';
import { VIEW_NAMES } from '../state/viewStore';
import { SliceViewPanel } from './SliceViewPanel';
import { View3DPanel } from './View3DPanel';

const LAYOUTS: { layout: ViewLayout; title: string }[] = [
  { layout: '2x2', title: '2 x 2' },
  { layout: '1x3', title: '3 slices + large 3D' },
];

/**
 * The four views in the chosen layout, or one of them maximised (double-click a view's title, or
 * press M with the pointer over a view; again to restore). Hidden views stay mounted but idle.
 */
export function ViewGrid() {
  const { layout, maximized, setLayout, toggleMaximized } = useLayoutStore();
  const hovered = useRef<ViewId | null>(null);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key.toLowerCase() !== 'm' || event.ctrlKey || event.metaKey || event.altKey) return;
      // Not while typing (a segment's name, a number).
      const target = event.target;
      if (
        target instanceof HTMLTextAreaElement ||
        (target instanceof HTMLInputElement && !['checkbox', 'radio', 'range', 'color'].includes(target.type))
      )
        return;
      const view = maximized ?? hovered.current;
      if (!view) return;
      event.preventDefault();
      toggleMaximized(view);
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [maximized, toggleMaximized]);

  const cell = (view: ViewId, content: ReactNode) => (
    <div
      key={view}
      className={`view-cell cell-${view}`}
      hidden={maximized !== null && maximized !== view}
      onPointerEnter={() => (hovered.current = view)}
      onPointerLeave={() => (hovered.current = hovered.current === view ? null : hovered.current)}
    >
      {content}
      {/* Over the view's title, outside the view itself: a double-click here never reaches the view's tools. */}
      <div
        className="title-handle"
        data-testid={`title-${view}`}
        title="Double-click (or press M over a view) to maximise; again to restore"
        onDoubleClick={() => toggleMaximized(view)}
      />
    </div>
  );

  return (
    <div className="view-area">
      <div className="layout-switch" role="group" aria-label="Layout">
        {LAYOUTS.map(({ layout: l, title }) => (
          <button key={l} type="button" data-testid={`layout-${l}`} aria-pressed={layout === l && !maximized} onClick={() => setLayout(l)}>
            {title}
          </button>
        ))}
      </div>
      <div
        className={`view-grid layout-${layout}${maximized ? ' maximized' : ''}`}
        data-testid="view-grid"
        data-layout={maximized ? `max-${maximized}` : layout}
      >
        {VIEW_NAMES.map((view) => cell(view, <SliceViewPanel view={view} />))}
        {cell('3d', <View3DPanel active={maximized === null || maximized === '3d'} />)}
      </div>
    </div>
  );
}
