/** The PACS panel's state: connection, search results, the open study, retrieval and store progress. */
import { create } from 'zustand';
import type { RetrieveProgress } from '../io/dicomweb/client';
import type { SeriesSummary, StudySummary } from '../io/dicomweb/dicom-json';

export type StudySortKey = 'patientName' | 'date' | 'description' | 'modalities' | 'seriesCount';

interface PacsMessage {
  kind: 'error' | 'info';
  text: string;
}

interface PacsState {
  panelOpen: boolean;
  root: string;
  connected: boolean;
  /** The server refused the credential: the panel asks for it again. */
  credentialRefused: boolean;
  message: PacsMessage | null;
  studies: StudySummary[];
  sort: { key: StudySortKey; ascending: boolean };
  study: { studyInstanceUid: string; series: SeriesSummary[] } | null;
  retrieval: (RetrieveProgress & { description: string }) | null;
  storing: boolean;
  storeResult: PacsMessage | null;
  /** The open scan, when it came from this server: the SEG store references it. */
  openedFromPacs: { volumeId: string; studyInstanceUid: string; seriesInstanceUid: string } | null;
}

export const usePacsStore = create<PacsState>()(() => ({
  panelOpen: false,
  root: '',
  connected: false,
  credentialRefused: false,
  message: null,
  studies: [],
  sort: { key: 'date', ascending: false },
  study: null,
  retrieval: null,
  storing: false,
  storeResult: null,
  openedFromPacs: null,
}));

export function setPacsPanelOpen(panelOpen: boolean): void {
  usePacsStore.setState({ panelOpen });
}

export function sortStudies(key: StudySortKey): void {
  const { sort } = usePacsStore.getState();
  usePacsStore.setState({ sort: { key, ascending: sort.key === key ? !sort.ascending : true } });
}
