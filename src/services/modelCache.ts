/** "Clear cache": every downloaded or converted model is forgotten; the next load fetches again. */
import { clearModelStore } from '../inference/model-store';
import { useInferenceStore } from '../state/inference';

export async function clearModelCache(): Promise<void> {
  await clearModelStore();
  useInferenceStore.setState({ message: 'Model cache cleared.' });
}
