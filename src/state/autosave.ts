/** What the UI shows of autosave (state only; src/services/autosave.ts saves and restores). */
import { create } from 'zustand';

interface AutosaveState {
  /** A saved session for the scan just opened, waiting for the user's answer. */
  offer: { savedAt: number; segmentCount: number } | null;
  lastSavedAt: number | null;
  error: string | null;
}

export const useAutosaveStore = create<AutosaveState>()(() => ({ offer: null, lastSavedAt: null, error: null }));
