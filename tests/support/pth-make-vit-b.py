"""A full-size (ViT-B, "vit_b_ori") SAM-Med3D checkpoint with random weights, for benchmarks.

usage: /usr/bin/python3 tests/support/pth-make-vit-b.py FIXTURE_META_JSON OUT.pth

Takes the tensor names and shapes the official builder makes for "vit_b_ori" (the released
sam_med3d_turbo configuration), recorded by models/make_fixture.py in the in-repo fixture's
meta.json (`official_vit_b_ori_tensors`), and fills them with N(0, 0.02). Saved as
torch.save({'model_state_dict': ...}) like sam_med3d_turbo.pth.
"""
import json
import sys

import torch


def main():
    meta, out = sys.argv[1], sys.argv[2]
    with open(meta) as f:
        shapes = json.load(f)["official_vit_b_ori_tensors"]
    g = torch.Generator().manual_seed(3)
    state = {name: torch.randn(shape, generator=g) * 0.02 for name, shape in shapes.items()}
    torch.save({"model_state_dict": state}, out)
    print(f"{out}: {sum(t.numel() for t in state.values()) * 4 / 1e6:.1f} MB of float32 weights")


if __name__ == "__main__":
    main()
