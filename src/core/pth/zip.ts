/**
 * Minimal zip reader for PyTorch checkpoints: parses the (ZIP64) end of central directory and
 * the central directory, then reads single entries by their local header. Only "stored"
 * (uncompressed) entries are supported, which is what torch.save writes. Every offset and
 * size is checked against the file before use, so a corrupt or hostile archive fails with a
 * message instead of a huge allocation.
 */
import type { ByteSource } from './byte-source';
import { CheckpointError } from './errors';

export interface ZipEntry {
  name: string;
  /** Compression method: 0 = stored. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;
/** Upper bounds far above a checkpoint's (a few hundred entries, a few kB each). */
const MAX_CENTRAL_DIRECTORY_BYTES = 64 << 20;
const MAX_ENTRIES = 1_000_000;
/** Slack read after a local header's name for its extra field (torch pads data to 64 bytes). */
const LOCAL_EXTRA_SLACK = 256;
/** Entries at most this far apart share one read: cheaper than another HTTP round trip. */
const RUN_MAX_GAP = 1 << 20;
const RUN_MAX_BYTES = 64 << 20;

export class ZipArchive {
  private constructor(
    readonly source: ByteSource,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    /**
     * SHA-256 (hex) of the central directory, which lists every entry's name, size, offset and
     * CRC-32: a cheap content key for the archive (caches of converted weights use it).
     */
    readonly fingerprint: string,
  ) {}

  static async open(source: ByteSource): Promise<ZipArchive> {
    const centralDirectory = await locateCentralDirectory(source);
    const bytes = await source.read(centralDirectory.offset, centralDirectory.size);
    const entries = parseCentralDirectory(bytes, centralDirectory.count, source.size);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes.slice()));
    return new ZipArchive(source, entries, Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join(''));
  }

  entry(name: string): ZipEntry | undefined {
    return this.entries.get(name);
  }

  /** Reads one entry's bytes. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    let bytes: Uint8Array = new Uint8Array(0);
    await this.readEach([entry], (_, data) => {
      bytes = data;
    });
    return bytes;
  }

  /**
   * Reads several entries with few source reads (what remote files need: one request per
   * run, not two per entry): entries close together in the file are read as one run, local
   * headers included. `visit` sees the entries in file order; their bytes are views into the run.
   */
  async readEach(
    entries: readonly ZipEntry[],
    visit: (entry: ZipEntry, bytes: Uint8Array) => void | Promise<void>,
    { maxGap = RUN_MAX_GAP, maxRun = RUN_MAX_BYTES } = {},
  ): Promise<void> {
    for (const entry of entries) {
      if (entry.method !== 0) {
        throw new CheckpointError(
          `zip entry ${entry.name} uses compression method ${entry.method}; only stored (uncompressed) entries are supported, as torch.save writes them`,
        );
      }
    }
    const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
    // With a guessed header length, an entry spans [localHeaderOffset, end).
    const end = (entry: ZipEntry): number =>
      Math.min(this.source.size, entry.localHeaderOffset + LOCAL_HEADER_SIZE + 3 * entry.name.length + LOCAL_EXTRA_SLACK + entry.size);
    for (let first = 0; first < sorted.length;) {
      // torch aligns data to 64 bytes in the file: starting runs on that grid keeps it aligned in memory.
      const start = sorted[first].localHeaderOffset - (sorted[first].localHeaderOffset % 64);
      let stop = end(sorted[first]);
      let last = first + 1;
      while (last < sorted.length && sorted[last].localHeaderOffset - stop <= maxGap && end(sorted[last]) - start <= maxRun) {
        stop = Math.max(stop, end(sorted[last]));
        last++;
      }
      const run = await this.source.read(start, stop - start);
      for (const entry of sorted.slice(first, last)) await visit(entry, await this.entryData(entry, run, start));
      first = last;
    }
  }

  /** An entry's data inside `run` (read from `runStart`), or read on its own if the run is short. */
  private async entryData(entry: ZipEntry, run: Uint8Array, runStart: number): Promise<Uint8Array> {
    const header = entry.localHeaderOffset - runStart;
    if (header + LOCAL_HEADER_SIZE > run.byteLength || readU32(run, header) !== LOCAL_HEADER_SIGNATURE) {
      throw new CheckpointError(`zip entry ${entry.name}: no local header at offset ${entry.localHeaderOffset} (corrupt archive)`);
    }
    const dataStart = header + LOCAL_HEADER_SIZE + readU16(run, header + 26) + readU16(run, header + 28);
    const dataOffset = runStart + dataStart;
    if (dataOffset + entry.size > this.source.size) {
      throw new CheckpointError(`zip entry ${entry.name} extends past the end of the file (truncated archive)`);
    }
    if (dataStart + entry.size <= run.byteLength) return run.subarray(dataStart, dataStart + entry.size);
    return this.source.read(dataOffset, entry.size);
  }
}

interface CentralDirectoryLocation {
  offset: number;
  size: number;
  count: number;
}

async function locateCentralDirectory(source: ByteSource): Promise<CentralDirectoryLocation> {
  if (source.size < EOCD_SIZE)
    throw new CheckpointError('not a zip archive (file too small); a PyTorch checkpoint saved by torch.save is a zip');
  const tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  let eocd = -1;
  for (let i = tail.byteLength - EOCD_SIZE; i >= 0; i--) {
    if (tail[i] === 0x50 && readU32(tail, i) === EOCD_SIGNATURE && i + EOCD_SIZE + readU16(tail, i + 20) === tail.byteLength) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new CheckpointError(
      'not a zip archive, or a truncated download (no end of central directory record); legacy non-zip torch checkpoints are not supported',
    );
  }
  let count = readU16(tail, eocd + 10);
  let size = readU32(tail, eocd + 12);
  let offset = readU32(tail, eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = eocd - ZIP64_LOCATOR_SIZE;
    if (locator < 0 || readU32(tail, locator) !== ZIP64_LOCATOR_SIGNATURE) {
      throw new CheckpointError('corrupt zip archive: ZIP64 sizes announced but no ZIP64 locator');
    }
    const zip64Offset = readU64(tail, locator + 8);
    if (zip64Offset + ZIP64_EOCD_SIZE > source.size) throw new CheckpointError('corrupt zip archive: ZIP64 record outside the file');
    const record = await source.read(zip64Offset, ZIP64_EOCD_SIZE);
    if (readU32(record, 0) !== ZIP64_EOCD_SIGNATURE) throw new CheckpointError('corrupt zip archive: bad ZIP64 end of central directory');
    count = readU64(record, 32);
    size = readU64(record, 40);
    offset = readU64(record, 48);
  }
  if (count > MAX_ENTRIES || size > MAX_CENTRAL_DIRECTORY_BYTES || size < count * CENTRAL_HEADER_SIZE) {
    throw new CheckpointError(`corrupt zip archive: implausible central directory (${count} entries in ${size} bytes)`);
  }
  if (offset + size > source.size) {
    throw new CheckpointError('truncated or corrupt zip archive: the central directory lies outside the file');
  }
  return { offset, size, count };
}

function parseCentralDirectory(bytes: Uint8Array, count: number, fileSize: number): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let at = 0;
  for (let index = 0; index < count; index++) {
    if (at + CENTRAL_HEADER_SIZE > bytes.byteLength || readU32(bytes, at) !== CENTRAL_HEADER_SIGNATURE) {
      throw new CheckpointError(`corrupt zip central directory (entry ${index})`);
    }
    const flags = readU16(bytes, at + 8);
    const method = readU16(bytes, at + 10);
    let compressedSize = readU32(bytes, at + 20);
    let size = readU32(bytes, at + 24);
    const nameLength = readU16(bytes, at + 28);
    const extraLength = readU16(bytes, at + 30);
    const commentLength = readU16(bytes, at + 32);
    let localHeaderOffset = readU32(bytes, at + 42);
    const nameStart = at + CENTRAL_HEADER_SIZE;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > bytes.byteLength) throw new CheckpointError(`corrupt zip central directory (entry ${index} overruns it)`);
    if (flags & 1) throw new CheckpointError('encrypted zip entries are not supported');
    const name = decoder.decode(bytes.subarray(nameStart, extraStart));

    // ZIP64 extra field: 64-bit values, present only for the fields saturated above.
    const zip64 = findExtraField(bytes.subarray(extraStart, extraStart + extraLength), 0x0001);
    if (zip64) {
      let field = 0;
      const take = (): number => {
        if (field + 8 > zip64.byteLength) throw new CheckpointError(`corrupt ZIP64 extra field in ${name}`);
        const value = readU64(zip64, field);
        field += 8;
        return value;
      };
      if (size === 0xffffffff) size = take();
      if (compressedSize === 0xffffffff) compressedSize = take();
      if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
    }
    if (localHeaderOffset + LOCAL_HEADER_SIZE + compressedSize > fileSize) {
      throw new CheckpointError(`zip entry ${name} points past the end of the file (truncated or corrupt archive)`);
    }
    if (method === 0 && compressedSize !== size) throw new CheckpointError(`corrupt zip entry ${name}: stored sizes disagree`);
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    at = next;
  }
  return entries;
}

function findExtraField(extra: Uint8Array, id: number): Uint8Array | undefined {
  for (let at = 0; at + 4 <= extra.byteLength;) {
    const length = readU16(extra, at + 2);
    if (readU16(extra, at) === id) return extra.subarray(at + 4, Math.min(extra.byteLength, at + 4 + length));
    at += 4 + length;
  }
  return undefined;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function readU16(bytes: Uint8Array, at: number): number {
  return view(bytes).getUint16(at, true);
}

function readU32(bytes: Uint8Array, at: number): number {
  return view(bytes).getUint32(at, true);
}

/** 64-bit little-endian value; anything beyond 2^53 cannot be a real offset in a file. */
function readU64(bytes: Uint8Array, at: number): number {
  const value = view(bytes).getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError('corrupt zip archive: 64-bit size or offset out of range');
  return Number(value);
}
