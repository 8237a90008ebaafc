import { useLoadStore } from '../state/loadStore';
import { useViewStore } from '../state/viewStore';

const HINT =
  'Wheel, ↑↓, PgUp/PgDn: slice · Ctrl+wheel: zoom · Shift/middle drag: pan · Navigate tool: click sets the crosshair, right drag the window';

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(5);
}

export function StatusBar() {
  const cursor = useViewStore((s) => s.cursor);
  const busy = useLoadStore((s) => s.busy);
  const activity = useLoadStore((s) => s.activity);
  const progress = useLoadStore((s) => s.progress);

  return (
    <footer className="status-bar">
      <div className="readout" data-testid="readout">
        {cursor ? (
          <>
            <span>
              Voxel <b>{cursor.index.join(', ')}</b>
            </span>
            <span>
              LPS <b>{cursor.world.map((v) => v.toFixed(1)).join(', ')}</b> mm
            </span>
            <span>
              Value <b>{formatValue(cursor.value)}</b>
            </span>
          </>
        ) : (
          <span className="hint">{HINT}</span>
        )}
      </div>
      {busy && (
        <div className="progress" role="status" data-testid="progress">
          <span>{activity}…</span>
          <div className={`progress-track${progress === null ? ' indeterminate' : ''}`}>
            <div className="progress-fill" style={progress === null ? undefined : { width: `${progress * 100}%` }} />
          </div>
        </div>
      )}
    </footer>
  );
}
