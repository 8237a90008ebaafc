// The templates the app and the CLI ship for sam_med3d_turbo.pth (public/models/sam-med3d-turbo/
// templates, written by scripts/build-templates.sh) must expect exactly the official ViT-B
// ("vit_b_ori") tensors, and must be what the current exporter writes for that configuration.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TURBO_TEMPLATES_DIR } from '../src/cli/model-source';
import { parseTemplateManifest } from '../src/core/pth/template-weights';
import { prepareVitB } from './support/vit-b-checkpoint';
import { MINI } from './support/fixtures';

/**
 * The official image encoder's tensors (docs/sam-med3d-model.md): dim 768, 12 blocks, head dim 64,
 * relative position tables of 2*14-1 rows in windowed blocks and 2*8-1 in the global ones.
 */
function officialEncoderTensors(): Record<string, number[]> {
  const dim = 768;
  const tensors: Record<string, number[]> = {
    'image_encoder.pos_embed': [1, 8, 8, 8, dim],
    'image_encoder.patch_embed.proj.weight': [dim, 1, 16, 16, 16],
    'image_encoder.patch_embed.proj.bias': [dim],
    'image_encoder.neck.0.weight': [384, dim, 1, 1, 1],
    'image_encoder.neck.1.weight': [384],
    'image_encoder.neck.1.bias': [384],
    'image_encoder.neck.2.weight': [384, 384, 3, 3, 3],
    'image_encoder.neck.3.weight': [384],
    'image_encoder.neck.3.bias': [384],
  };
  for (let block = 0; block < 12; block++) {
    const prefix = `image_encoder.blocks.${block}.`;
    const relPosRows = [2, 5, 8, 11].includes(block) ? 15 : 27;
    Object.assign(tensors, {
      [`${prefix}norm1.weight`]: [dim],
      [`${prefix}norm1.bias`]: [dim],
      [`${prefix}attn.rel_pos_d`]: [relPosRows, 64],
      [`${prefix}attn.rel_pos_h`]: [relPosRows, 64],
      [`${prefix}attn.rel_pos_w`]: [relPosRows, 64],
      [`${prefix}attn.qkv.weight`]: [3 * dim, dim],
      [`${prefix}attn.qkv.bias`]: [3 * dim],
      [`${prefix}attn.proj.weight`]: [dim, dim],
      [`${prefix}attn.proj.bias`]: [dim],
      [`${prefix}norm2.weight`]: [dim],
      [`${prefix}norm2.bias`]: [dim],
      [`${prefix}mlp.lin1.weight`]: [4 * dim, dim],
      [`${prefix}mlp.lin1.bias`]: [4 * dim],
      [`${prefix}mlp.lin2.weight`]: [dim, 4 * dim],
      [`${prefix}mlp.lin2.bias`]: [dim],
    });
  }
  return tensors;
}

/** Prompt encoder and mask decoder: as the official builder makes them (recorded by models/make_fixture.py). */
function officialPromptAndDecoderTensors(): Record<string, number[]> {
  const meta = JSON.parse(readFileSync(join(MINI.dir, 'meta.json'), 'utf8')) as { official_vit_b_ori_tensors: Record<string, number[]> };
  return Object.fromEntries(Object.entries(meta.official_vit_b_ori_tensors).filter(([name]) => !name.startsWith('image_encoder.')));
}

const shipped = (file: string) => readFileSync(join(TURBO_TEMPLATES_DIR, file));

describe('shipped sam_med3d_turbo templates', () => {
  it('expect the official ViT-B tensor names and shapes under model_state_dict', () => {
    const manifest = parseTemplateManifest(JSON.parse(shipped('manifest.json').toString('utf8')));
    expect(manifest.checkpoint.stateDictKey).toBe('model_state_dict');
    const expected = { ...officialEncoderTensors(), ...officialPromptAndDecoderTensors() };
    expect(Object.keys(expected).length).toBeGreaterThan(200);
    const sorted = (tensors: Record<string, number[]>) =>
      Object.fromEntries(Object.entries(tensors).sort(([a], [b]) => a.localeCompare(b)));
    expect(sorted(manifest.checkpoint.tensors)).toEqual(sorted(expected));
  });

  describe('equal what the current exporter writes for a ViT-B checkpoint', () => {
    let exported: string;
    beforeAll(() => {
      exported = join(prepareVitB().exportDir, 'templates');
    }, 600_000);
    // A mismatch means models/ changed: run `npm run build-templates` and commit the result.
    it.each(['manifest.json', 'encoder.onnx', 'decoder.onnx'])('%s', (file) => {
      expect(shipped(file).equals(readFileSync(join(exported, file))), `${file} is stale: npm run build-templates`).toBe(true);
    });
  });
});
