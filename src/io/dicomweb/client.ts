/**
 * A DICOMweb server (QIDO-RS search, WADO-RS retrieve, STOW-RS store) through dicomweb-client,
 * which does the requests and the multipart encoding and decoding. The credential lives only in
 * this object's request headers: never in a URL, storage or any message.
 */
import { api } from 'dicomweb-client';
import {
  instanceSummaries,
  seriesSummary,
  studyQueryParams,
  studySummary,
  TAG,
  type DicomJson,
  type InstanceSummary,
  type SeriesSummary,
  type StudyQuery,
  type StudySummary,
} from './dicom-json';

export type Credential = { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic'; user: string; password: string };

export type DicomwebErrorKind = 'unreachable' | 'unauthorized' | 'not-found' | 'refused' | 'cancelled' | 'failed';

/** A request that failed, with a message for the user (no URL with UIDs or credential in it). */
export class DicomwebError extends Error {
  constructor(
    readonly kind: DicomwebErrorKind,
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'DicomwebError';
  }
}

/** The shape of dicomweb-client's rejections: the XMLHttpRequest that failed. */
interface RequestFailure {
  status?: number;
  request?: XMLHttpRequest;
  response?: unknown;
}

function bodyText(response: unknown): string {
  if (response instanceof ArrayBuffer) return new TextDecoder().decode(response);
  return typeof response === 'string' ? response : '';
}

/** The reason a STOW-RS answer gives for its first failed instance (FailedSOPSequence), if any. */
function stowFailure(response: unknown): string | null {
  try {
    const failed = (JSON.parse(bodyText(response)) as DicomJson)['00081198']?.Value?.[0] as DicomJson | undefined;
    return failed ? `failure reason ${String(failed['00081197']?.Value?.[0] ?? 'not given')}` : null;
  } catch {
    return null;
  }
}

/** The server's own words: an Orthanc-style JSON message, a STOW failure reason, or short text. */
function serverReason(response: unknown): string {
  const body = bodyText(response);
  if (!body.trim()) return '';
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const message = [json.Message, json.Details].filter((part) => typeof part === 'string' && part).join(': ');
    if (message) return message;
  } catch {
    // Not JSON: plain text below.
  }
  return stowFailure(response) ?? body.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** `storing`: a 403 refuses the object, not the credential. */
function requestError(error: unknown, action: string, { cancelled = false, storing = false } = {}): DicomwebError {
  if (error instanceof DicomwebError) return error;
  if (cancelled) return new DicomwebError('cancelled', `${action}: cancelled.`);
  const failure = (error ?? {}) as RequestFailure;
  const status = failure.status ?? failure.request?.status ?? 0;
  const statusText = failure.request?.statusText ?? '';
  const reason = serverReason(failure.response);
  const said = [`${status}${statusText ? ` ${statusText}` : ''}`, reason].filter(Boolean).join(': ');
  if (status === 0 || status === 502 || status === 503 || status === 504) {
    return new DicomwebError(
      'unreachable',
      `${action}: the PACS cannot be reached${status ? ` (${said})` : ''}. Check the address and that the server is running.`,
      status,
    );
  }
  if (storing && status !== 401) return new DicomwebError('refused', `${action}: the PACS refused it (${said}).`, status);
  if (status === 401 || status === 403) {
    return new DicomwebError('unauthorized', `${action}: the PACS refused the credential (${said}). Enter it again.`, status);
  }
  if (status === 404) return new DicomwebError('not-found', `${action}: not found on the PACS (${said}).`, status);
  return new DicomwebError('failed', `${action}: the PACS answered ${said}.`, status);
}

function authorizationHeader(credential: Credential): Record<string, string> {
  if (credential.kind === 'bearer') return { Authorization: `Bearer ${credential.token}` };
  if (credential.kind === 'basic') {
    const bytes = new TextEncoder().encode(`${credential.user}:${credential.password}`);
    return { Authorization: `Basic ${btoa(String.fromCharCode(...bytes))}` };
  }
  return {};
}

/**
 * The DICOMweb root as an absolute URL without a trailing slash; a relative one ("/pacs") is on
 * the app's own origin. A credential written into the URL is refused: it would end up in logs.
 */
export function normalizeRoot(root: string, base: string = globalThis.location.href): string {
  let url: URL;
  try {
    url = new URL(root.trim(), base);
  } catch {
    throw new DicomwebError('failed', 'The DICOMweb address is not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DicomwebError('failed', 'The DICOMweb address must start with http:// or https://.');
  if (url.username || url.password) {
    throw new DicomwebError('failed', 'Put the user name and password in the credential fields, not in the address.');
  }
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

export interface RetrieveProgress {
  instancesDone: number;
  instancesTotal: number;
  bytes: number;
}

export interface RetrievedSeries {
  /** The image instances as Part 10 files, in instance-number order. */
  files: File[];
  /** Instances without an image (reports, plans, ...) that were not retrieved. */
  skipped: number;
}

/**
 * The part of dicomweb-client we use, typed as its code behaves: its generated .d.ts marks
 * optional options (singlepart, mediaTypes) as required.
 */
interface ClientApi {
  searchForStudies(options: { queryParams: Record<string, string> }): Promise<unknown>;
  searchForSeries(options: { studyInstanceUID: string; queryParams: Record<string, string> }): Promise<unknown>;
  searchForInstances(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    queryParams: Record<string, string>;
  }): Promise<unknown>;
  retrieveInstance(options: {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
    request: { instance: XMLHttpRequest; progressCallback: (event: ProgressEvent) => void };
  }): Promise<unknown>;
  storeInstances(options: { datasets: ArrayBuffer[] }): Promise<unknown>;
}

/** Several requests in flight: browsers allow 6 connections per HTTP/1.1 origin. */
const PARALLEL_REQUESTS = 6;

export class DicomwebServer {
  readonly root: string;
  readonly origin: string;
  private readonly client: ClientApi;

  constructor(root: string, credential: Credential) {
    this.root = normalizeRoot(root);
    this.origin = new URL(this.root).origin;
    // verbose off: its console output would hold the failed requests.
    const options = { url: this.root, headers: authorizationHeader(credential), verbose: false, singlepart: false };
    this.client = new api.DICOMwebClient(options) as unknown as ClientApi;
  }

  async searchStudies(query: StudyQuery): Promise<StudySummary[]> {
    try {
      const results = (await this.client.searchForStudies({ queryParams: studyQueryParams(query) })) as DicomJson[];
      return results.map(studySummary);
    } catch (error) {
      throw requestError(error, 'Study search');
    }
  }

  async listSeries(studyInstanceUid: string): Promise<SeriesSummary[]> {
    try {
      const results = (await this.client.searchForSeries({
        studyInstanceUID: studyInstanceUid,
        queryParams: { includefield: TAG.seriesRelatedInstances },
      })) as DicomJson[];
      if (results.length === 0) throw new DicomwebError('not-found', 'The study was not found on the PACS (no series).', 404);
      return results.map(seriesSummary).sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
    } catch (error) {
      throw requestError(error, 'Listing the series');
    }
  }

  async listInstances(studyInstanceUid: string, seriesInstanceUid: string): Promise<InstanceSummary[]> {
    try {
      const results = (await this.client.searchForInstances({
        studyInstanceUID: studyInstanceUid,
        seriesInstanceUID: seriesInstanceUid,
        queryParams: { includefield: TAG.rows },
      })) as DicomJson[];
      if (results.length === 0) throw new DicomwebError('not-found', 'The series was not found on the PACS (no instances).', 404);
      return instanceSummaries(results);
    } catch (error) {
      throw requestError(error, 'Listing the instances');
    }
  }

  /**
   * Retrieves the image instances of a series (WADO-RS, PARALLEL_REQUESTS at a time) with
   * progress in bytes and instances; `signal` cancels the requests in flight. `allObjects`
   * retrieves the objects without an image too (a SEG series).
   */
  async retrieveSeries(
    studyInstanceUid: string,
    seriesInstanceUid: string,
    {
      onProgress,
      signal,
      allObjects = false,
    }: { onProgress?: (progress: RetrieveProgress) => void; signal?: AbortSignal; allObjects?: boolean } = {},
  ): Promise<RetrievedSeries> {
    const instances = await this.listInstances(studyInstanceUid, seriesInstanceUid);
    const images = allObjects ? instances : instances.filter((instance) => instance.isImage);
    const files: File[] = new Array<File>(images.length);
    const loaded = new Array<number>(images.length).fill(0);
    let done = 0;
    // Byte progress arrives many times a second per request: reported at most every 100 ms.
    let reportedAt = 0;
    const report = (force = false) => {
      const now = performance.now();
      if (!onProgress || (!force && now - reportedAt < 100)) return;
      reportedAt = now;
      onProgress({ instancesDone: done, instancesTotal: images.length, bytes: loaded.reduce((a, b) => a + b, 0) });
    };
    const inFlight = new Set<XMLHttpRequest>();
    const abort = () => inFlight.forEach((request) => request.abort());
    signal?.addEventListener('abort', abort);
    let next = 0;
    const worker = async () => {
      while (next < images.length && !signal?.aborted) {
        const index = next++;
        const instance = new XMLHttpRequest();
        inFlight.add(instance);
        try {
          const buffer = (await this.client.retrieveInstance({
            studyInstanceUID: studyInstanceUid,
            seriesInstanceUID: seriesInstanceUid,
            sopInstanceUID: images[index].sopInstanceUid,
            request: {
              instance,
              progressCallback: (event: ProgressEvent) => {
                loaded[index] = event.loaded;
                report();
              },
            },
          })) as ArrayBuffer;
          loaded[index] = buffer.byteLength;
          files[index] = new File([buffer], `${String(index + 1).padStart(5, '0')}.dcm`, { type: 'application/dicom' });
          done++;
          report(done === images.length);
        } finally {
          inFlight.delete(instance);
        }
      }
    };
    try {
      report(true);
      await Promise.all(Array.from({ length: Math.min(PARALLEL_REQUESTS, images.length) }, worker));
      if (signal?.aborted) throw new DicomwebError('cancelled', 'Retrieving the series: cancelled.');
    } catch (error) {
      abort();
      throw requestError(error, 'Retrieving the series', { cancelled: signal?.aborted });
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    return { files, skipped: instances.length - images.length };
  }

  /** Stores one Part 10 object (STOW-RS); a refusal carries the server's status and reason. */
  async store(bytes: Uint8Array): Promise<void> {
    let response: unknown;
    try {
      const copy = bytes.slice().buffer;
      response = await this.client.storeInstances({ datasets: [copy] });
    } catch (error) {
      throw requestError(error, 'Storing to the PACS', { storing: true });
    }
    // A 200 or 202 can still list the instance under FailedSOPSequence.
    const failure = stowFailure(response);
    if (failure) throw new DicomwebError('refused', `Storing to the PACS: the PACS refused it (${failure}).`);
  }
}
