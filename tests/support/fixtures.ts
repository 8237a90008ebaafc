/** The shared fidelity fixtures live beside the repository (../shared), in CI as here. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const FIXTURE_A_DIR = path.resolve(REPO_ROOT, '../shared/fixtures/sam-med3d/fixture-a');
export const FIXTURE_A_CHECKPOINT = path.join(FIXTURE_A_DIR, 'checkpoint.pth');
