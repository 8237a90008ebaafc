/**
 * The PACS tests' real server: an Orthanc started for each test on PACS_PORT (the port the app
 * server proxies /pacs to, see playwright.config.ts) and stopped after it, with our own DICOM
 * series uploaded through its REST API.
 */
import { expect, test as base, type Page } from '@playwright/test';
import type { ImageGeometry } from '../src/core/types';
import { encodeDicomSeries, type DicomSeriesOptions } from '../tests/support/dicom-writer';
// @ts-expect-error: a plain JavaScript module shared with bench:pacs.
import { startOrthanc } from '../scripts/orthanc.mjs';

export interface Orthanc {
  url: string;
  dicomwebRoot: string;
  rest: (method: string, route: string, body?: unknown) => Promise<Record<string, unknown>>;
  upload: (files: Uint8Array[]) => Promise<{ ParentSeries: string; ParentStudy: string }[]>;
  stop: () => Promise<void>;
}

export interface OrthancOptions {
  users?: Record<string, string>;
  refuseStores?: boolean;
}

export const PACS_ROOT = '/pacs';

export function startTestOrthanc(options: OrthancOptions = {}): Promise<Orthanc> {
  return startOrthanc({ port: Number(process.env.PACS_PORT), ...options }) as Promise<Orthanc>;
}

/** `orthanc`: a fresh server for the test (`orthancOptions` per describe block), stopped after it. */
export const test = base.extend<{ orthancOptions: OrthancOptions; orthanc: Orthanc }>({
  orthancOptions: [{}, { option: true }],
  orthanc: async ({ orthancOptions }, provide) => {
    const orthanc = await startTestOrthanc(orthancOptions);
    await provide(orthanc);
    await orthanc.stop();
  },
});

/** Uploads a series encoded by our DICOM writer; returns Orthanc's id of the series. */
export async function uploadSeries(orthanc: Orthanc, g: ImageGeometry, data: Int16Array, options: DicomSeriesOptions): Promise<string> {
  const results = await orthanc.upload(encodeDicomSeries(g, data, options));
  return results[0].ParentSeries;
}

/** Opens the PACS panel and connects to the DICOMweb root (optionally with user and password). */
export async function connectPacs(page: Page, credential?: { user: string; password: string }): Promise<void> {
  if (!(await page.getByTestId('pacs-panel').isVisible())) await page.getByTestId('open-pacs').click();
  await page.getByTestId('pacs-root').fill(PACS_ROOT);
  if (credential) {
    await page.getByTestId('pacs-credential-kind').selectOption('basic');
    await page.getByTestId('pacs-user').fill(credential.user);
    await page.getByTestId('pacs-secret').fill(credential.password);
  }
  await page.getByTestId('pacs-connect').click();
}

export function studyRow(page: Page, patient: string) {
  return page.getByTestId('pacs-studies').locator('tbody tr', { hasText: patient });
}

export function seriesRow(page: Page, description: string) {
  return page.getByTestId('pacs-series').locator('tbody tr:not([data-segmentation])', { hasText: description });
}

export { expect };
