import { create } from 'zustand';

export interface Notice {
  id: number;
  /** Warnings (e.g. a scan shown resampled) stay, like errors, until dismissed. */
  kind: 'error' | 'warning' | 'info';
  text: string;
}

/** A DICOM series offered in the chooser when a folder holds several. */
export interface SeriesOption {
  uid: string;
  description: string;
  modality: string;
  /** e.g. "512 × 512 × 120". */
  size: string;
  fileCount: number;
}

interface LoadState {
  busy: boolean;
  /** What is being read, e.g. "Reading chest.nii.gz". */
  activity: string;
  /** 0..1, or null when the amount of work is unknown. */
  progress: number | null;
  notices: Notice[];
  seriesChoice: SeriesOption[] | null;
  startLoading: (activity: string) => void;
  setProgress: (progress: number | null, activity?: string) => void;
  finishLoading: () => void;
  notify: (kind: Notice['kind'], text: string) => void;
  dismiss: (id: number) => void;
  setSeriesChoice: (options: SeriesOption[] | null) => void;
}

let nextNoticeId = 1;

export const useLoadStore = create<LoadState>()((set) => ({
  busy: false,
  activity: '',
  progress: null,
  notices: [],
  seriesChoice: null,
  startLoading: (activity) => set({ busy: true, activity, progress: null }),
  setProgress: (progress, activity) => set((s) => ({ progress, activity: activity ?? s.activity })),
  finishLoading: () => set({ busy: false, activity: '', progress: null }),
  notify: (kind, text) => set((s) => ({ notices: [...s.notices, { id: nextNoticeId++, kind, text }] })),
  dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  setSeriesChoice: (seriesChoice) => set({ seriesChoice }),
}));
