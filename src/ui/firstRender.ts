/**
 * A performance mark for the first frame each view draws of each volume: the timing benchmarks
 * (bench:load, bench:segment) and tests read, with no test hook in the app.
 */
import type { ViewName } from '../state/viewStore';

export const FIRST_RENDER_MARK = 'sam:first-render';

export interface FirstRenderDetail {
  view: ViewName;
  volumeId: string;
}

const marked = new Set<string>();

export function markFirstRender(view: ViewName, volumeId: string): void {
  const key = `${view}@${volumeId}`;
  if (marked.has(key)) return;
  marked.add(key);
  performance.mark(FIRST_RENDER_MARK, { detail: { view, volumeId } satisfies FirstRenderDetail });
}
