/**
 * The one place models are kept between visits: downloaded exported graphs and converted
 * checkpoints alike, as files under relative paths ("checkpoints/key/encoder.onnx"), in the
 * origin private file system (OPFS) when the browser has it, else in Cache Storage. Where there
 * is neither (Node), nothing is kept: reads find nothing and writes fail, and models still load.
 */

/** Files under relative paths. */
export interface ModelStore {
  read(path: string): Promise<Uint8Array | null>;
  /** A stored file as a Blob (its bytes are read only when asked for), or null when it is absent. */
  file(path: string): Promise<Blob | null>;
  readJson<T>(path: string): Promise<T | null>;
  write(path: string, data: Uint8Array): Promise<void>;
  /** A writer of the `size`-byte file `path`, piece by piece, or null where this store cannot write that way. */
  openWriter(path: string, size: number): Promise<PieceWriter | null>;
}

/** Writes a file's pieces at their offsets; the first failed write (storage full...) makes close() throw. */
export interface PieceWriter {
  write(offset: number, bytes: Uint8Array): void;
  close(): Promise<void>;
}

const STORE_NAME = 'sam-med3d-models-v2';
/** Where earlier versions kept models (an OPFS folder, Cache Storage caches): cleared with the rest. */
const FORMER_STORES = ['sam-med3d-checkpoints-v1', 'sam-med3d-models-v1'];
const WRITE_SLICE_BYTES = 16 << 20;

export async function openModelStore(): Promise<ModelStore> {
  const root = await globalThis.navigator?.storage?.getDirectory?.().catch(() => undefined);
  const store = root ? opfsStore(root) : typeof caches !== 'undefined' ? cacheStore() : absentStore();
  return {
    ...store,
    async readJson<T>(path: string) {
      const bytes = await store.read(path);
      return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : null;
    },
  };
}

/** Forgets every stored model (the next load downloads or converts again). */
export async function clearModelStore(): Promise<void> {
  const root = await globalThis.navigator?.storage?.getDirectory?.().catch(() => undefined);
  for (const name of [STORE_NAME, ...FORMER_STORES]) {
    await root?.removeEntry(name, { recursive: true }).catch(() => undefined);
    if (typeof caches !== 'undefined') await caches.delete(name);
  }
}

/**
 * A stored weights file as onnxruntime-web's external data. In a worker, a view that reads the
 * file range by range: onnxruntime-web 1.30 copies external data into the WASM heap with one
 * `subarray(begin, end)` per initializer (after checking `byteLength`), so the weights are never
 * whole in JS memory next to the heap's copy. Elsewhere (no synchronous reads), the whole file.
 */
export async function externalData(file: Blob): Promise<Uint8Array> {
  const { FileReaderSync } = globalThis as { FileReaderSync?: FileReaderSyncClass };
  return FileReaderSync ? new BlobBytes(file, new FileReaderSync()) : new Uint8Array(await file.arrayBuffer());
}

/** Worker-only APIs, declared here because this file also compiles against lib.dom alone. */
type FileReaderSyncClass = new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer };
interface SyncAccessHandle {
  write(data: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

class BlobBytes extends Uint8Array {
  constructor(
    private readonly blob: Blob,
    private readonly reader: InstanceType<FileReaderSyncClass>,
  ) {
    super(0);
    Object.defineProperty(this, 'byteLength', { value: blob.size });
  }

  override subarray(begin = 0, end = this.blob.size): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.reader.readAsArrayBuffer(this.blob.slice(begin, end)));
  }
}

type Backend = Omit<ModelStore, 'readJson'>;

function opfsStore(root: FileSystemDirectoryHandle): Backend {
  const folder = async (path: string, create: boolean): Promise<[FileSystemDirectoryHandle, string]> => {
    const parts = [STORE_NAME, ...path.split('/')];
    let dir = root;
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part, { create });
    return [dir, parts[parts.length - 1]];
  };
  const stored = async (path: string): Promise<File | null> => {
    try {
      const [dir, name] = await folder(path, false);
      return await (await dir.getFileHandle(name)).getFile();
    } catch {
      return null; // NotFoundError: not stored
    }
  };
  return {
    async read(path) {
      const file = await stored(path);
      return file ? new Uint8Array(await file.arrayBuffer()) : null;
    },
    file: stored,
    async write(path, data) {
      const [dir, name] = await folder(path, true);
      const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
      // In slices: each write is copied to the browser process, a whole weights file at once would double it there.
      for (let offset = 0; offset < data.byteLength; offset += WRITE_SLICE_BYTES) {
        await writable.write(data.subarray(offset, offset + WRITE_SLICE_BYTES) as Uint8Array<ArrayBuffer>);
      }
      await writable.close();
    },
    async openWriter(path, size) {
      // Synchronous access handles (dedicated workers) write to the file itself, with no copy
      // buffered in the browser process as createWritable() makes.
      if (!('createSyncAccessHandle' in FileSystemFileHandle.prototype)) return null;
      const [dir, name] = await folder(path, true);
      const file = (await dir.getFileHandle(name, { create: true })) as FileSystemFileHandle & {
        createSyncAccessHandle(): Promise<SyncAccessHandle>;
      };
      const handle = await file.createSyncAccessHandle();
      handle.truncate(size);
      let failure: unknown;
      return {
        write(offset, bytes) {
          if (failure !== undefined) return;
          try {
            if (handle.write(bytes, { at: offset }) !== bytes.byteLength) throw new Error('the disk is full');
          } catch (error) {
            failure = error;
          }
        },
        async close() {
          handle.flush();
          handle.close();
          if (failure !== undefined) throw failure;
        },
      };
    },
  };
}

function cacheStore(): Backend {
  // Cache Storage keys are URLs: the paths live under a made-up folder of this origin.
  const url = (path: string) => new URL(`/${STORE_NAME}/${path}`, globalThis.location.href).href;
  const match = async (path: string) => (await caches.open(STORE_NAME)).match(url(path));
  return {
    async read(path) {
      const response = await match(path);
      return response ? new Uint8Array(await response.arrayBuffer()) : null;
    },
    async file(path) {
      const response = await match(path);
      return response ? await response.blob() : null;
    },
    async write(path, data) {
      await (await caches.open(STORE_NAME)).put(url(path), new Response(data as Uint8Array<ArrayBuffer>));
    },
    openWriter: () => Promise.resolve(null),
  };
}

function absentStore(): Backend {
  return {
    read: () => Promise.resolve(null),
    file: () => Promise.resolve(null),
    write: () => Promise.reject(new Error('this environment has no storage for models')),
    openWriter: () => Promise.resolve(null),
  };
}
