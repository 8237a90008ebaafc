import { useRef } from 'react';
import { loadDemo, openFiles } from '../services/load';
import { useLoadStore } from '../state/loadStore';
import { setPacsPanelOpen, usePacsStore } from '../state/pacs';
import { useViewStore } from '../state/viewStore';
import { useVolumeStore } from '../state/volumeStore';
import { AUTO_PRESET_NAME, autoWindow, CT_PRESETS } from '../viewer/windowLevel';

/** Picked files as an array, then the input is cleared so the same file can be picked again. */
function takeFiles(input: HTMLInputElement): File[] {
  const files = [...(input.files ?? [])];
  input.value = '';
  return files;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) || Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

export function Toolbar() {
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const busy = useLoadStore((s) => s.busy);
  const pacsOpen = usePacsStore((s) => s.panelOpen);
  const volume = useVolumeStore((s) => s.current);
  const windowLevel = useViewStore((s) => s.windowLevel);
  const preset = useViewStore((s) => s.windowPreset);
  const setWindowLevel = useViewStore((s) => s.setWindowLevel);
  const resetTransforms = useViewStore((s) => s.resetTransforms);

  const presets = [...CT_PRESETS.map((p) => p.name), AUTO_PRESET_NAME];
  const applyPreset = (name: string) => {
    if (!volume) return;
    const ct = CT_PRESETS.find((p) => p.name === name);
    setWindowLevel(ct ? ct.windowLevel : autoWindow({ percentiles: volume.percentiles }), name);
  };

  return (
    <header className="toolbar">
      <div className="brand">
        SAM-Med3D <span>Web</span>
      </div>
      <div className="tool-group">
        <button type="button" onClick={() => fileInput.current?.click()} disabled={busy}>
          Open file(s)
        </button>
        <button type="button" onClick={() => folderInput.current?.click()} disabled={busy}>
          Open folder
        </button>
        <button type="button" onClick={() => void loadDemo()} disabled={busy} data-testid="load-demo">
          Load demo
        </button>
        <button
          type="button"
          className={pacsOpen ? 'active' : undefined}
          onClick={() => setPacsPanelOpen(!pacsOpen)}
          data-testid="open-pacs"
        >
          PACS
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="open-files-input"
          onChange={(e) => void openFiles(takeFiles(e.currentTarget))}
        />
        <input
          ref={folderInput}
          type="file"
          hidden
          data-testid="open-folder-input"
          {...{ webkitdirectory: '' }}
          onChange={(e) => void openFiles(takeFiles(e.currentTarget))}
        />
      </div>
      <div className="tool-group" role="group" aria-label="Window presets">
        <span className="tool-label">Window</span>
        {presets.map((name) => (
          <button
            key={name}
            type="button"
            className={preset === name ? 'active' : undefined}
            disabled={!volume}
            onClick={() => applyPreset(name)}
            data-testid={`preset-${name}`}
          >
            {name}
          </button>
        ))}
        <span className="wl-readout" data-testid="wl-readout">
          W {formatNumber(windowLevel.width)} / L {formatNumber(windowLevel.center)}
        </span>
      </div>
      <div className="tool-group">
        <button type="button" onClick={resetTransforms} disabled={!volume} title="Fit all views (zoom and pan)">
          Reset view
        </button>
      </div>
    </header>
  );
}
