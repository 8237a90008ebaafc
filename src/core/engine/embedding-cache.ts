/** Least-recently-used cache of patch embeddings with a byte budget. */
export class EmbeddingCache {
  private readonly entries = new Map<string, Float32Array>();
  private bytes = 0;

  constructor(readonly budgetBytes = 256 * 1024 * 1024) {}

  static key(volumeId: string, patchOffset: readonly number[]): string {
    return `${volumeId}@${patchOffset.join(',')}`;
  }

  get(key: string): Float32Array | undefined {
    const value = this.entries.get(key);
    if (value) {
      // Re-insert: a Map iterates in insertion order, so the first entry is the least recent.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Whether the key is cached, without making it more recent. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: Float32Array): void {
    this.delete(key);
    this.entries.set(key, value);
    this.bytes += value.byteLength;
    for (const [oldKey, oldValue] of this.entries) {
      if (this.bytes <= this.budgetBytes || oldKey === key) break;
      this.entries.delete(oldKey);
      this.bytes -= oldValue.byteLength;
    }
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (!value) return;
    this.entries.delete(key);
    this.bytes -= value.byteLength;
  }

  /** Forgets every embedding (another encoder now runs). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }
}
