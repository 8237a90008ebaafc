import { discardSession, restoreSession } from '../services/autosave';
import { useAutosaveStore } from '../state/autosave';

/** Offers to restore the autosaved segmentation of the scan just opened. */
export function RestorePrompt() {
  const offer = useAutosaveStore((s) => s.offer);
  const error = useAutosaveStore((s) => s.error);
  if (!offer && !error) return null;
  return (
    <section className="panel restore-prompt" data-testid="restore-prompt">
      {offer && (
        <>
          <p>
            This scan has a saved segmentation ({offer.segmentCount} segment{offer.segmentCount === 1 ? '' : 's'},{' '}
            {new Date(offer.savedAt).toLocaleString()}).
          </p>
          <div className="tool-group">
            <button type="button" className="active" data-testid="restore-session" onClick={() => void restoreSession()}>
              Restore
            </button>
            <button type="button" data-testid="discard-session" onClick={() => void discardSession()}>
              Discard
            </button>
          </div>
        </>
      )}
      {error && <p className="panel-message">{error}</p>}
    </section>
  );
}
