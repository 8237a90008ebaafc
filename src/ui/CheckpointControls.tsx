/**
 * The model from the official PyTorch checkpoint, with no conversion step for the user: a local
 * sam_med3d_turbo.pth, or a download from its Hugging Face location (configurable). The worker
 * converts it and caches the result (src/inference/checkpoint-model.ts).
 */
import { useState } from 'react';
import { OFFICIAL_CHECKPOINT_URL, type CheckpointInput } from '../inference/checkpoint-model';
import { loadModel } from '../services/inference';
import { useInferenceStore } from '../state/inference';

/** The template sets the app ships (public/models/templates.json). */
const templateIndexUrl = () => new URL(`${import.meta.env.BASE_URL}models/templates.json`, location.href).href;

export function CheckpointControls() {
  const loading = useInferenceStore((state) => state.modelStatus === 'loading');
  const [url, setUrl] = useState(OFFICIAL_CHECKPOINT_URL);
  const load = (checkpoint: CheckpointInput) => void loadModel({ kind: 'checkpoint', checkpoint, templateIndexUrl: templateIndexUrl() });

  return (
    <>
      <div className="tool-group">
        <label className="button-like" title="The official sam_med3d_turbo.pth, as downloaded: no Python needed">
          Open checkpoint (.pth)
          <input
            type="file"
            accept=".pth"
            hidden
            disabled={loading}
            data-testid="checkpoint-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) load({ file });
            }}
          />
        </label>
      </div>
      <div className="tool-group">
        <input aria-label="Checkpoint URL" value={url} onChange={(e) => setUrl(e.target.value)} size={16} />
        <button type="button" disabled={loading} onClick={() => load({ url })}>
          Download official model
        </button>
      </div>
    </>
  );
}
