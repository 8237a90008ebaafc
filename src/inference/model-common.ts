/** What both model sources (exported-model.ts, checkpoint-model.ts) share. */

export const GRAPHS = ['encoder', 'decoder'] as const;
export type GraphName = (typeof GRAPHS)[number];

/** Error with a message meant for the user. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A response, or a ModelLoadError naming `what` and why it could not be downloaded from `url`. */
export async function fetchOk(url: string, what: string, signal?: AbortSignal): Promise<Response> {
  const response = await fetch(url, { signal }).catch((error: unknown) => {
    throw new ModelLoadError(`Could not download ${what}: ${(error as Error).message}`);
  });
  if (!response.ok) throw new ModelLoadError(`Could not download ${what}: HTTP ${response.status}.`);
  return response;
}
