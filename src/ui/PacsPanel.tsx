import { useState, type FormEvent } from 'react';
import type { Credential } from '../io/dicomweb/client';
import type { StudyQuery, StudySummary } from '../io/dicomweb/dicom-json';
import { useLoadStore } from '../state/loadStore';
import { cancelRetrieval, connect, openSeries, openStudy, retrievalText, searchStudies, storeSegmentation } from '../services/pacs';
import { setPacsPanelOpen, sortStudies, usePacsStore, type StudySortKey } from '../state/pacs';
import { useVolumeStore } from '../state/volumeStore';

type CredentialKind = Credential['kind'];

const STUDY_COLUMNS: { key: StudySortKey; title: string }[] = [
  { key: 'patientName', title: 'Patient' },
  { key: 'date', title: 'Date' },
  { key: 'description', title: 'Description' },
  { key: 'modalities', title: 'Modalities' },
  { key: 'seriesCount', title: 'Series' },
];

function compareStudies(a: StudySummary, b: StudySummary, key: StudySortKey): number {
  const x = a[key] ?? '';
  const y = b[key] ?? '';
  return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
}

/** YYYYMMDD as yyyy-mm-dd. */
function formatDate(date: string): string {
  return /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : date;
}

/** The PACS drawer: connection, study search, a study's series, retrieval progress and SEG store. */
export function PacsPanel() {
  const state = usePacsStore();
  const busy = useLoadStore((s) => s.busy);
  const volume = useVolumeStore((s) => s.current);
  // Form fields, credential included, live only in this component's memory.
  const [root, setRoot] = useState(state.root || '/pacs');
  const [kind, setKind] = useState<CredentialKind>('none');
  const [user, setUser] = useState('');
  const [secret, setSecret] = useState('');
  const [query, setQuery] = useState<StudyQuery>({});
  if (!state.panelOpen) return null;

  const credential = (): Credential =>
    kind === 'bearer' ? { kind, token: secret } : kind === 'basic' ? { kind, user, password: secret } : { kind: 'none' };
  const onConnect = (event: FormEvent) => {
    event.preventDefault();
    void connect(root, credential(), query);
  };
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    void searchStudies(query);
  };
  const field = (key: keyof StudyQuery, label: string, type = 'text') => (
    <label>
      {label}
      <input
        type={type}
        value={query[key] ?? ''}
        onChange={(e) => setQuery({ ...query, [key]: e.target.value })}
        data-testid={`pacs-${key}`}
      />
    </label>
  );

  const { key: sortKey, ascending } = state.sort;
  const studies = [...state.studies].sort((a, b) => (ascending ? 1 : -1) * compareStudies(a, b, sortKey));
  const canStore = Boolean(state.connected && volume && state.openedFromPacs?.volumeId === volume.id);

  return (
    <section className="pacs-panel" aria-label="PACS" data-testid="pacs-panel">
      <header>
        <h2>PACS (DICOMweb)</h2>
        <button type="button" onClick={() => setPacsPanelOpen(false)} aria-label="Close the PACS panel">
          ×
        </button>
      </header>
      <form className="pacs-connect" onSubmit={onConnect}>
        <label>
          DICOMweb root
          <input
            value={root}
            onChange={(e) => setRoot(e.target.value)}
            placeholder="/pacs or https://pacs.example/dicom-web"
            data-testid="pacs-root"
          />
        </label>
        <label>
          Credential
          <select value={kind} onChange={(e) => setKind(e.target.value as CredentialKind)} data-testid="pacs-credential-kind">
            <option value="none">None</option>
            <option value="basic">User and password</option>
            <option value="bearer">Bearer token</option>
          </select>
        </label>
        {kind === 'basic' && (
          <label>
            User
            <input value={user} onChange={(e) => setUser(e.target.value)} autoComplete="off" data-testid="pacs-user" />
          </label>
        )}
        {kind !== 'none' && (
          <label>
            {kind === 'basic' ? 'Password' : 'Token'}
            <input
              type="password"
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              autoComplete="off"
              data-testid="pacs-secret"
            />
          </label>
        )}
        <button type="submit" data-testid="pacs-connect">
          Connect
        </button>
        {state.credentialRefused && (
          <p className="pacs-ask" role="alert" data-testid="pacs-ask-credential">
            The PACS needs a valid credential: enter it and connect again.
          </p>
        )}
      </form>
      {state.message && (
        <p
          className={`pacs-message ${state.message.kind}`}
          role={state.message.kind === 'error' ? 'alert' : 'status'}
          data-testid="pacs-message"
        >
          {state.message.text}
        </p>
      )}
      {state.connected && (
        <form className="pacs-search" onSubmit={onSearch}>
          {field('patientName', 'Patient name')}
          {field('patientId', 'Patient ID')}
          {field('dateFrom', 'From', 'date')}
          {field('dateTo', 'To', 'date')}
          {field('modality', 'Modality')}
          {field('accession', 'Accession')}
          <button type="submit" data-testid="pacs-search">
            Search
          </button>
        </form>
      )}
      {state.connected && studies.length > 0 && (
        <table className="series-table" data-testid="pacs-studies">
          <thead>
            <tr>
              {STUDY_COLUMNS.map((column) => (
                <th key={column.key} aria-sort={sortKey === column.key ? (ascending ? 'ascending' : 'descending') : undefined}>
                  <button type="button" onClick={() => sortStudies(column.key)}>
                    {column.title}
                    {sortKey === column.key ? (ascending ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {studies.map((study) => (
              <tr
                key={study.studyInstanceUid}
                className={state.study?.studyInstanceUid === study.studyInstanceUid ? 'selected' : undefined}
                onClick={() => void openStudy(study.studyInstanceUid)}
                tabIndex={0}
                onKeyDown={(e) => e.key === 'Enter' && void openStudy(study.studyInstanceUid)}
              >
                <td>{study.patientName || study.patientId}</td>
                <td>{formatDate(study.date)}</td>
                <td>{study.description}</td>
                <td>{study.modalities}</td>
                <td>{study.seriesCount ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {state.study && (
        <table className="series-table" data-testid="pacs-series">
          <thead>
            <tr>
              <th>#</th>
              <th>Series</th>
              <th>Modality</th>
              <th>Instances</th>
            </tr>
          </thead>
          <tbody>
            {state.study.series.map((series) => (
              <tr
                key={series.seriesInstanceUid}
                onClick={() => !busy && void openSeries(series)}
                tabIndex={0}
                onKeyDown={(e) => e.key === 'Enter' && !busy && void openSeries(series)}
                data-segmentation={series.isSegmentation || undefined}
              >
                <td>{series.number ?? ''}</td>
                <td>
                  {series.description}
                  {series.isSegmentation && <span className="pacs-tag"> segmentation</span>}
                </td>
                <td>{series.modality}</td>
                <td>{series.instances ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {state.retrieval && (
        <div className="pacs-progress" role="status" data-testid="pacs-progress">
          <span>
            {state.retrieval.description}: {retrievalText(state.retrieval)}
          </span>
          <progress value={state.retrieval.instancesDone} max={Math.max(1, state.retrieval.instancesTotal)} />
          <button type="button" onClick={cancelRetrieval} data-testid="pacs-cancel">
            Cancel
          </button>
        </div>
      )}
      {state.connected && (
        <div className="pacs-store">
          <button type="button" onClick={() => void storeSegmentation()} disabled={!canStore || state.storing} data-testid="store-seg">
            {state.storing ? 'Storing…' : state.storeResult?.kind === 'error' ? 'Retry: Store to PACS' : 'Store to PACS'}
          </button>
          {state.storeResult && (
            <p
              className={`pacs-message ${state.storeResult.kind}`}
              role={state.storeResult.kind === 'error' ? 'alert' : 'status'}
              data-testid="store-result"
            >
              {state.storeResult.text}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
