import { chooseSeries } from '../services/load';
import { useLoadStore } from '../state/loadStore';

/** Modal list of the DICOM series found in a folder. */
export function SeriesChooser() {
  const options = useLoadStore((s) => s.seriesChoice);
  if (!options) return null;
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="series-title" data-testid="series-chooser">
        <h2 id="series-title">Choose a series</h2>
        <p>This folder holds {options.length} DICOM series.</p>
        <table className="series-table">
          <thead>
            <tr>
              <th>Description</th>
              <th>Modality</th>
              <th>Size</th>
            </tr>
          </thead>
          <tbody>
            {options.map((s) => (
              <tr
                key={s.uid}
                onClick={() => void chooseSeries(s.uid)}
                tabIndex={0}
                onKeyDown={(e) => e.key === 'Enter' && void chooseSeries(s.uid)}
              >
                <td>{s.description}</td>
                <td>{s.modality || '—'}</td>
                <td>{s.size}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="modal-actions">
          <button type="button" onClick={() => void chooseSeries(null)}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
