/**
 * The PACS workflow: connect to a DICOMweb server, search studies, list a study's series, open
 * a series (retrieved, then decoded by the same path as a local DICOM folder), import a SEG
 * series onto the open scan, and store the segmentation back as a DICOM SEG.
 * The server object (which holds the credential) stays in this module, out of reactive state.
 */
import { DicomwebError, DicomwebServer, type Credential, type RetrieveProgress } from '../io/dicomweb/client';
import { parseDeepLink, type SeriesSummary, type StudyQuery } from '../io/dicomweb/dicom-json';
import { readDicomSeries } from '../io/browser';
import { useLoadStore } from '../state/loadStore';
import { usePacsStore } from '../state/pacs';
import { useVolumeStore } from '../state/volumeStore';
import { progressReporter, runLoad } from './load';
import { dicomSegOfCurrentScan, importLabelmap } from './segmentationFiles';

let server: DicomwebServer | null = null;
let retrievalAbort: AbortController | null = null;
let deepLinkOpened = false;

/** A failed request: its message in the panel; a refused credential asks for it again. */
function showError(error: unknown): void {
  const text = error instanceof Error ? error.message : String(error);
  const refused = error instanceof DicomwebError && error.kind === 'unauthorized';
  usePacsStore.setState({ message: { kind: 'error', text }, credentialRefused: refused });
  if (refused) usePacsStore.setState({ connected: false });
}

function requireServer(): DicomwebServer {
  if (!server) throw new Error('Connect to a PACS first.');
  return server;
}

/** Connects (the credential is kept only inside the server object) and lists the matching studies. */
export async function connect(root: string, credential: Credential, query: StudyQuery = {}): Promise<boolean> {
  usePacsStore.setState({ message: null, study: null, studies: [], credentialRefused: false });
  try {
    server = new DicomwebServer(root, credential);
  } catch (error) {
    server = null;
    showError(error);
    return false;
  }
  usePacsStore.setState({ root: server.root });
  const found = await searchStudies(query);
  usePacsStore.setState({ connected: found });
  return found;
}

export async function searchStudies(query: StudyQuery): Promise<boolean> {
  try {
    const studies = await requireServer().searchStudies(query);
    usePacsStore.setState({
      studies,
      connected: true,
      message: { kind: 'info', text: `${studies.length} ${studies.length === 1 ? 'study' : 'studies'} found.` },
    });
    return true;
  } catch (error) {
    showError(error);
    return false;
  }
}

export async function openStudy(studyInstanceUid: string): Promise<boolean> {
  try {
    const series = await requireServer().listSeries(studyInstanceUid);
    usePacsStore.setState({ study: { studyInstanceUid, series }, message: null });
    return true;
  } catch (error) {
    showError(error);
    return false;
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e3)} kB`;
}

/** Text of the retrieval progress, e.g. "12 / 40 instances, 3.2 MB". */
export function retrievalText(progress: RetrieveProgress): string {
  return `${progress.instancesDone} / ${progress.instancesTotal} instances, ${formatBytes(progress.bytes)}`;
}

/** Opens a series of the listed study: an image series becomes the scan; a SEG series is imported onto it. */
export async function openSeries(series: SeriesSummary): Promise<void> {
  const study = usePacsStore.getState().study;
  if (!study) return;
  if (series.isSegmentation) {
    await importSegSeries(study.studyInstanceUid, series);
    return;
  }
  const description = series.description || `Series ${series.number ?? ''}`.trim();
  const abort = new AbortController();
  retrievalAbort = abort;
  const before = useVolumeStore.getState().current?.id;
  let skipped = 0;
  await runLoad(`Retrieving ${description}`, async () => {
    try {
      const retrieved = await requireServer().retrieveSeries(study.studyInstanceUid, series.seriesInstanceUid, {
        onProgress: (progress) => {
          usePacsStore.setState({ retrieval: { ...progress, description } });
          const fraction = progress.instancesDone / Math.max(1, progress.instancesTotal);
          useLoadStore.getState().setProgress(fraction, `Retrieving ${description}: ${retrievalText(progress)}`);
        },
        signal: abort.signal,
      });
      skipped = retrieved.skipped;
      if (retrieved.files.length === 0) throw new DicomwebError('failed', `${description} holds no images (${skipped} other objects).`);
      usePacsStore.setState({ retrieval: null });
      return await readDicomSeries(retrieved.files, progressReporter(description));
    } catch (error) {
      if (error instanceof DicomwebError) showError(error);
      throw error;
    } finally {
      usePacsStore.setState({ retrieval: null });
      retrievalAbort = null;
    }
  });
  const current = useVolumeStore.getState().current;
  if (!current || current.id === before) return;
  usePacsStore.setState({
    openedFromPacs: { volumeId: current.id, studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid },
    storeResult: null,
    message: {
      kind: 'info',
      text: `Opened ${description}${skipped ? `; ${skipped} instance${skipped === 1 ? '' : 's'} without an image skipped` : ''}.`,
    },
  });
}

export function cancelRetrieval(): void {
  retrievalAbort?.abort();
}

async function importSegSeries(studyInstanceUid: string, series: SeriesSummary): Promise<void> {
  if (!useVolumeStore.getState().current) {
    usePacsStore.setState({ message: { kind: 'error', text: 'Open the scan this segmentation belongs to first, then the SEG series.' } });
    return;
  }
  try {
    const { files } = await requireServer().retrieveSeries(studyInstanceUid, series.seriesInstanceUid, { allObjects: true });
    if (files.length !== 1) throw new Error(`The SEG series holds ${files.length} objects; one was expected.`);
    await importLabelmap(files[0]);
    usePacsStore.setState({ message: { kind: 'info', text: `Imported the segments of ${series.description || 'the SEG series'}.` } });
  } catch (error) {
    showError(error);
  }
}

/** Stores the segmentation as a DICOM SEG; a failure keeps everything, and the button retries. */
export async function storeSegmentation(): Promise<void> {
  usePacsStore.setState({ storing: true, storeResult: null });
  try {
    const { bytes } = await dicomSegOfCurrentScan();
    await requireServer().store(bytes);
    usePacsStore.setState({ storeResult: { kind: 'info', text: 'Stored the segmentation to the PACS.' } });
    const study = usePacsStore.getState().study;
    if (study) await openStudy(study.studyInstanceUid);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    usePacsStore.setState({ storeResult: { kind: 'error', text } });
    if (error instanceof DicomwebError && error.kind === 'unauthorized') usePacsStore.setState({ credentialRefused: true });
  } finally {
    usePacsStore.setState({ storing: false });
  }
}

/**
 * An OHIF-style deep link (?dicomweb=ROOT&StudyInstanceUIDs=UID[&SeriesInstanceUIDs=UID]):
 * connects without a credential, lists the study's series and opens the series when given.
 */
export async function openDeepLink(search: string = globalThis.location.search): Promise<void> {
  const link = parseDeepLink(search);
  // Once per page: React's StrictMode runs the app's effects twice in development.
  if (!link || deepLinkOpened) return;
  deepLinkOpened = true;
  usePacsStore.setState({ panelOpen: true });
  try {
    server = new DicomwebServer(link.root, { kind: 'none' });
  } catch (error) {
    showError(error);
    return;
  }
  usePacsStore.setState({ root: server.root, connected: true });
  if (!(await openStudy(link.studyInstanceUid))) return;
  if (!link.seriesInstanceUid) return;
  const series = usePacsStore.getState().study?.series.find((s) => s.seriesInstanceUid === link.seriesInstanceUid);
  if (!series) {
    usePacsStore.setState({ message: { kind: 'error', text: 'The series of the link was not found in its study on the PACS.' } });
    return;
  }
  await openSeries(series);
}
