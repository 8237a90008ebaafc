"""A full-size (ViT-B, "vit_b_ori") SAM-Med3D checkpoint with random weights, for benchmarks.

usage: /usr/bin/python3 tests/support/pth-make-vit-b.py FIXTURE_CHECKPOINT OUT.pth

Takes fixture A's tensor names and shapes and widens the image encoder to 768 dims, 12 heads
(head dim 64) and 12 blocks (2, 5, 8, 11 global); prompt encoder and mask decoder are already
full size. Saved as torch.save({'model_state_dict': ...}) like sam_med3d_turbo.pth.
"""
import re
import sys

import torch

WIDTH, HEAD_DIM, DEPTH, GLOBAL = 768, 64, 12, {2, 5, 8, 11}


def widen(shape):
    # Fixture A's encoder: dim 192, mlp 768, qkv 576, head dim 48.
    table = {192: WIDTH, 768: 4 * WIDTH, 576: 3 * WIDTH, 48: HEAD_DIM}
    return [table.get(extent, extent) for extent in shape]


def main():
    fixture, out = sys.argv[1], sys.argv[2]
    source = torch.load(fixture, map_location="cpu")["model_state_dict"]
    g = torch.Generator().manual_seed(3)
    state = {}
    for name, tensor in source.items():
        match = re.match(r"image_encoder\.blocks\.(\d+)\.(.*)", name)
        if match is None:
            shape = widen(tensor.shape) if name.startswith("image_encoder.") else list(tensor.shape)
            state[name] = torch.randn(shape, generator=g) * 0.02
            continue
        if match.group(1) != "0":
            continue
        for block in range(DEPTH):
            shape = widen(tensor.shape)
            if "rel_pos" in match.group(2):
                shape[0] = 15 if block in GLOBAL else 27
            state[f"image_encoder.blocks.{block}.{match.group(2)}"] = torch.randn(shape, generator=g) * 0.02
    torch.save({"model_state_dict": state}, out)
    print(f"{out}: {sum(t.numel() for t in state.values()) * 4 / 1e6:.1f} MB of float32 weights")


if __name__ == "__main__":
    main()
