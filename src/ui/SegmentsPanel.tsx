import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import type { Rgb } from '../core/segmentation/segments';
import { cancelInference, loadModel, setEncoderPrecision, switchBackend } from '../services/inference';
import { clearModelCache } from '../services/modelCache';
import { addSegment, deleteSegment, redo, undo, updateSegment } from '../services/segmentation';
import { MAX_PATCHES_RANGE, setMaxPatches, useInferenceStore } from '../state/inference';
import { useSegmentationStore } from '../state/segmentation';
import { exportDicomSeg, exportNifti, exportSegNrrd, importLabelmap } from '../services/segmentationFiles';
import { useVolumeStore } from '../state/volumeStore';
import { CheckpointControls } from './CheckpointControls';
import { RestorePrompt } from './RestorePrompt';
import { TOOL_NAMES, TOOLS } from './tools/registry';
import './segments.css';

const toHex = (color: Rgb) => `#${color.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
const fromHex = (hex: string): Rgb => [1, 3, 5].map((n) => parseInt(hex.slice(n, n + 2), 16)) as Rgb;

/** Files picked in a file input, which is then cleared so the same files can be picked again. */
function takeFiles(event: ChangeEvent<HTMLInputElement>): File[] {
  const files = [...(event.target.files ?? [])];
  event.target.value = '';
  return files;
}

function useUndoShortcuts(): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.target instanceof HTMLInputElement) return;
      const key = event.key.toLowerCase();
      if (key === 'z' && !event.shiftKey) undo();
      else if ((key === 'z' && event.shiftKey) || key === 'y') redo();
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}

function ModelSection() {
  const { modelStatus, modelName, modelVerified, backend, progress, message, maxPatches } = useInferenceStore();
  const [url, setUrl] = useState(`${import.meta.env.BASE_URL}models/`);

  const openFiles = (files: File[]) => {
    const find = (name: string) => files.find((f) => f.name.toLowerCase() === name);
    const encoder = find('encoder.onnx');
    const decoder = find('decoder.onnx');
    if (!encoder || !decoder) {
      useInferenceStore.setState({ message: 'Pick encoder.onnx and decoder.onnx (and model.json if you have it) together.' });
      return;
    }
    void loadModel({ kind: 'files', encoder, decoder, manifest: find('model.json'), encoderInt8: find('encoder_int8.onnx') });
  };

  return (
    <section className="panel" data-testid="model-panel">
      <h3>Model</h3>
      <div className="tool-group">
        <label className="button-like">
          Open model files
          <input type="file" multiple accept=".onnx,.json" hidden data-testid="model-files" onChange={(e) => openFiles(takeFiles(e))} />
        </label>
      </div>
      <CheckpointControls />
      <div className="tool-group">
        <input aria-label="Model URL" value={url} onChange={(e) => setUrl(e.target.value)} size={16} />
        <button type="button" disabled={modelStatus === 'loading'} onClick={() => void loadModel({ kind: 'url', url })}>
          Load from URL
        </button>
        <button
          type="button"
          title="Forget downloaded and converted models: the next load downloads again"
          onClick={() => void clearModelCache()}
        >
          Clear cache
        </button>
      </div>
      <p data-testid="model-status" data-status={modelStatus}>
        {modelStatus === 'ready'
          ? `${modelName} ready${modelVerified ? ' (verified)' : ''}`
          : modelStatus === 'loading'
            ? 'Loading…'
            : 'No model'}
      </p>
      {backend && (
        <div className="tool-group" title={backend.note}>
          <span data-testid="backend" data-backend={backend.backend}>
            Backend: {backend.backend === 'webgpu' ? 'WebGPU' : `WASM (${backend.threads} threads)`}
          </span>
          <select aria-label="Backend" value={backend.backend} onChange={(e) => void switchBackend(e.target.value as 'webgpu' | 'wasm')}>
            <option value="wasm">WASM</option>
            <option value="webgpu" disabled={!backend.webgpuUsable}>
              WebGPU
            </option>
          </select>
        </div>
      )}
      {backend && (
        <div className="tool-group">
          <span data-testid="encoder-precision" data-precision={backend.encoderPrecision}>
            Encoder: {backend.encoderPrecision}
          </span>
          {backend.int8Available && (
            <select
              aria-label="Encoder precision"
              title="int8: experimental, unvalidated on the real weights; runs on WASM only"
              value={backend.encoderPrecision}
              onChange={(e) => void setEncoderPrecision(e.target.value as 'fp32' | 'int8')}
            >
              <option value="fp32">fp32 (default)</option>
              <option value="int8">int8 (experimental)</option>
            </select>
          )}
        </div>
      )}
      <label className="tool-group" title="More patches segment large targets whole; fewer answer a click faster">
        Follow large targets across up to
        <input
          type="number"
          data-testid="max-patches"
          min={MAX_PATCHES_RANGE.min}
          max={MAX_PATCHES_RANGE.max}
          value={maxPatches}
          style={{ width: '3.5em' }}
          onChange={(e) => setMaxPatches(e.target.valueAsNumber)}
        />
        patches
      </label>
      {progress && (
        <div className="tool-group" data-testid="inference-progress">
          <span>{progress.text}</span>
          <progress value={progress.fraction ?? undefined} max={1} />
          <button type="button" onClick={cancelInference}>
            Cancel
          </button>
        </div>
      )}
      {message && (
        <p className="panel-message" data-testid="inference-message">
          {message}
        </p>
      )}
    </section>
  );
}

function SegmentList() {
  const segments = useSegmentationStore((s) => s.segments);
  const activeLabel = useSegmentationStore((s) => s.activeLabel);
  const setActiveLabel = useSegmentationStore((s) => s.setActiveLabel);
  const [editing, setEditing] = useState<{ label: number; name: string } | null>(null);

  const commitName = () => {
    if (editing && editing.name.trim()) updateSegment(editing.label, { name: editing.name.trim() });
    setEditing(null);
  };

  return (
    <ul className="segment-list" data-testid="segment-list">
      {segments.map((segment) => (
        <li
          key={segment.label}
          className={segment.label === activeLabel ? 'active' : undefined}
          data-testid={`segment-${segment.label}`}
          onClick={() => setActiveLabel(segment.label)}
        >
          <input
            type="color"
            aria-label={`Colour of ${segment.name}`}
            value={toHex(segment.color)}
            onChange={(e) => updateSegment(segment.label, { color: fromHex(e.target.value) })}
          />
          <input
            aria-label={`Name of segment ${segment.label}`}
            value={editing?.label === segment.label ? editing.name : segment.name}
            onFocus={() => setEditing({ label: segment.label, name: segment.name })}
            onChange={(e) => setEditing({ label: segment.label, name: e.target.value })}
            onBlur={commitName}
            onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()}
          />
          <span className="segment-volume" data-testid="segment-volume">
            {segment.volumeMl.toFixed(1)} mL
          </span>
          <label title="Show">
            <input
              type="checkbox"
              checked={segment.visible}
              onChange={(e) => updateSegment(segment.label, { visible: e.target.checked })}
            />
          </label>
          <input
            type="range"
            className="segment-opacity"
            min={0}
            max={1}
            step={0.05}
            value={segment.opacity ?? 1}
            aria-label={`Opacity of ${segment.name}`}
            title="Opacity in the slice views and the 3D view"
            data-testid={`segment-opacity-${segment.label}`}
            onChange={(e) => updateSegment(segment.label, { opacity: Number(e.target.value) })}
          />
          <button type="button" aria-label={`Delete ${segment.name}`} onClick={() => deleteSegment(segment.label)}>
            ✕
          </button>
        </li>
      ))}
    </ul>
  );
}

export function SegmentsPanel() {
  const volume = useVolumeStore((s) => s.current);
  const { tool, setTool, brushRadiusMm, brushShape, setBrush, canUndo, canRedo } = useSegmentationStore();
  const [fileError, setFileError] = useState<string | null>(null);
  const importInput = useRef<HTMLInputElement>(null);
  useUndoShortcuts();

  const run = (task: () => Promise<void> | void) => {
    setFileError(null);
    Promise.resolve()
      .then(task)
      .catch((error: unknown) => setFileError((error as Error).message));
  };

  return (
    <>
      <RestorePrompt />
      <ModelSection />
      <section className="panel" data-testid="segments-panel">
        <h3>Segments</h3>
        <div className="tool-group" role="toolbar" aria-label="Segmentation tools">
          {TOOL_NAMES.map((name) => (
            <button
              key={name}
              type="button"
              title={TOOLS[name].hint}
              className={tool === name ? 'active' : undefined}
              data-testid={`tool-${name}`}
              onClick={() => setTool(name)}
            >
              {TOOLS[name].title}
            </button>
          ))}
        </div>
        {(tool === 'brush' || tool === 'eraser') && (
          <div className="tool-group">
            <label>
              Size {brushRadiusMm} mm
              <input
                type="range"
                min={1}
                max={50}
                value={brushRadiusMm}
                data-testid="brush-radius"
                onChange={(e) => setBrush({ radiusMm: Number(e.target.value) })}
              />
            </label>
            <select aria-label="Brush shape" value={brushShape} onChange={(e) => setBrush({ shape: e.target.value as 'disc' | 'sphere' })}>
              <option value="disc">2D disc</option>
              <option value="sphere">3D sphere</option>
            </select>
          </div>
        )}
        <div className="tool-group">
          <button type="button" disabled={!volume} onClick={() => run(() => void addSegment())} data-testid="add-segment">
            Add segment
          </button>
          <button type="button" disabled={!canUndo} onClick={undo} data-testid="undo" title="Ctrl+Z">
            Undo
          </button>
          <button type="button" disabled={!canRedo} onClick={redo} data-testid="redo" title="Ctrl+Shift+Z">
            Redo
          </button>
        </div>
        <SegmentList />
        <div className="tool-group">
          <button type="button" disabled={!volume} onClick={() => run(exportNifti)} data-testid="export-nifti">
            Export NIfTI
          </button>
          <button type="button" disabled={!volume} onClick={() => run(exportSegNrrd)} data-testid="export-seg-nrrd">
            Export seg.nrrd
          </button>
          <button
            type="button"
            disabled={!volume?.fromDicom}
            title={volume?.fromDicom ? undefined : 'Only for scans opened from DICOM files'}
            onClick={() => run(exportDicomSeg)}
            data-testid="export-dicom-seg"
          >
            Export DICOM SEG
          </button>
          <button type="button" disabled={!volume} onClick={() => importInput.current?.click()}>
            Import labelmap
          </button>
          <input
            ref={importInput}
            type="file"
            hidden
            accept=".nii,.gz,.nrrd,.mha,.dcm"
            data-testid="import-labelmap"
            onChange={(e) => {
              const [file] = takeFiles(e);
              if (file) run(() => importLabelmap(file));
            }}
          />
        </div>
        {fileError && (
          <p className="panel-message" data-testid="segmentation-error">
            {fileError}
          </p>
        )}
      </section>
    </>
  );
}
