"""Write a random-weight SAM-Med3D checkpoint in the official layout (for tests and benchmarks).

    python3 models/make_random_checkpoint.py --preset vit_b --out .cache/checkpoints/vit_b_random.pth

Presets: vit_b (the released sam_med3d_turbo size, vit_b_ori), tiny (a small encoder); any
size with --embed-dim/--depth/--heads/--global-blocks. Tensor names and shapes are those the
official code builds, so the exporter reads the file exactly like the real checkpoint.
"""
import argparse
import dataclasses
import os
import sys
from typing import Dict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sammed3d.config import SamMed3DConfig  # noqa: E402
from sammed3d.layout import iter_layouts  # noqa: E402
from sammed3d.model import Norm, SamMed3D  # noqa: E402

PRESETS = {
    "vit_b": SamMed3DConfig(),
    "tiny": SamMed3DConfig(encoder_embed_dim=96, encoder_depth=2, encoder_num_heads=2, encoder_mlp_dim=384,
                           encoder_global_attn_indexes=[1]),
}


def random_state_dict(config: SamMed3DConfig, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Normal(0, 0.02) weights; LayerNorm scales around 1 so activations keep a sensible range."""
    generator = torch.Generator().manual_seed(seed)
    model = SamMed3D(config)
    norm_scales = {f"{prefix}.weight" for prefix, module in model.named_modules() if isinstance(module, Norm)}
    state_dict = {}
    for name, shape, _ in iter_layouts(model):
        tensor = torch.randn(shape, generator=generator) * 0.02
        state_dict[name] = tensor + 1 if name in norm_scales else tensor
    return state_dict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="vit_b")
    parser.add_argument("--embed-dim", type=int)
    parser.add_argument("--depth", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--global-blocks", type=lambda s: [int(i) for i in s.split(",") if i])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    config = PRESETS[args.preset]
    overrides = {"encoder_embed_dim": args.embed_dim, "encoder_depth": args.depth, "encoder_num_heads": args.heads,
                 "encoder_global_attn_indexes": args.global_blocks}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "encoder_embed_dim" in overrides:
        overrides["encoder_mlp_dim"] = 4 * overrides["encoder_embed_dim"]
    config = dataclasses.replace(config, **overrides)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({"model_state_dict": random_state_dict(config, args.seed)}, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
