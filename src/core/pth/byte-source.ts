/**
 * Random access to a file's bytes, wherever the file lives: only the ranges a reader asks for
 * are loaded. The checkpoint reader uses it so that a remote or dropped file is never read whole.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset` (the range must lie inside the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Throws unless [offset, offset + length) is a valid range of a `size`-byte file. */
export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`byte range ${offset}+${length} is outside the file (${size} bytes)`);
  }
}

/** A file already in memory. Reads return views (no copy). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(offset, length) {
      checkRange(bytes.byteLength, offset, length);
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

/** A browser Blob or File (drag and drop, file input): each read is a slice, loaded on demand. */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      checkRange(blob.size, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** An HTTP(S) file read with Range requests; `bytesFetched` counts the body bytes received. */
export interface HttpByteSource extends ByteSource {
  readonly url: string;
  /** False when the server ignored Range and the whole file was downloaded into memory instead. */
  readonly rangesSupported: boolean;
  readonly bytesFetched: number;
}

export interface HttpSourceOptions {
  /** Defaults to the global fetch; injectable for tests and for custom headers. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * Opens a remote file. A first one-byte Range request learns the size from Content-Range.
 * A server that ignores Range (status 200) gets a clear fallback: the whole body is downloaded
 * once and served from memory, and `rangesSupported` says so.
 */
export async function openHttpSource(url: string, options: HttpSourceOptions = {}): Promise<HttpByteSource> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const { signal } = options;
  let bytesFetched = 0;

  const probe = await doFetch(url, { headers: { Range: 'bytes=0-0' }, signal });
  if (probe.status === 200) {
    const whole = new Uint8Array(await probe.arrayBuffer());
    const inMemory = bytesSource(whole);
    return { url, rangesSupported: false, size: whole.byteLength, bytesFetched: whole.byteLength, read: inMemory.read };
  }
  if (probe.status !== 206) throw new Error(`cannot fetch ${url}: HTTP ${probe.status} ${probe.statusText}`);
  const size = parseContentRangeTotal(probe.headers.get('Content-Range'));
  bytesFetched += (await probe.arrayBuffer()).byteLength;

  return {
    url,
    rangesSupported: true,
    size,
    get bytesFetched() {
      return bytesFetched;
    },
    async read(offset, length) {
      checkRange(size, offset, length);
      if (length === 0) return new Uint8Array(0);
      const response = await doFetch(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` }, signal });
      if (response.status !== 206) {
        throw new Error(`range request to ${url} answered HTTP ${response.status} instead of 206 (partial content)`);
      }
      const body = new Uint8Array(await response.arrayBuffer());
      bytesFetched += body.byteLength;
      if (body.byteLength !== length) {
        throw new Error(`range request to ${url} returned ${body.byteLength} bytes instead of ${length}`);
      }
      return body;
    },
  };
}

function parseContentRangeTotal(header: string | null): number {
  const match = header === null ? null : /^bytes \d+-\d+\/(\d+)$/.exec(header.trim());
  if (!match) {
    throw new Error(`the server did not report the file size (Content-Range: ${header ?? 'missing'}); is the header exposed to CORS?`);
  }
  return Number(match[1]);
}
