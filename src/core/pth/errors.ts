/** A checkpoint that cannot (or must not) be read: malformed, hostile or unsupported. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}
