"""The SAM-Med3D configuration, read from a checkpoint's tensor shapes."""
import re
from dataclasses import asdict, dataclass, field
from typing import Dict, List

import torch

from .layout import CheckpointMismatch

# Not visible in tensor shapes: fixed in the official code.
DECODER_NUM_HEADS = 8


@dataclass(frozen=True)
class SamMed3DConfig:
    img_size: int = 128
    patch_size: int = 16
    encoder_embed_dim: int = 768
    encoder_depth: int = 12
    encoder_num_heads: int = 12
    encoder_mlp_dim: int = 3072
    encoder_global_attn_indexes: List[int] = field(default_factory=lambda: [2, 5, 8, 11])
    window_size: int = 14
    prompt_embed_dim: int = 384
    mask_in_chans: int = 16
    decoder_depth: int = 2
    decoder_num_heads: int = DECODER_NUM_HEADS
    decoder_mlp_dim: int = 2048
    decoder_attention_dim: int = 192
    num_mask_tokens: int = 4
    iou_head_hidden_dim: int = 256

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size

    @property
    def mask_size(self) -> int:
        return self.grid * 4

    def to_json(self) -> Dict[str, object]:
        return asdict(self)


def _shape(state_dict: Dict[str, torch.Tensor], name: str, rank: int) -> List[int]:
    if name not in state_dict:
        raise CheckpointMismatch(f"checkpoint does not match SAM-Med3D: missing tensors: {name}")
    shape = list(state_dict[name].shape)
    if len(shape) != rank:
        raise CheckpointMismatch(
            f"checkpoint does not match SAM-Med3D: mis-shaped tensors: {name} {tuple(shape)} (expected rank {rank})")
    return shape


def _count(state_dict: Dict[str, torch.Tensor], pattern: str) -> int:
    indexes = {int(m.group(1)) for k in state_dict for m in [re.match(pattern, k)] if m}
    return max(indexes) + 1 if indexes else 0


def infer_config(state_dict: Dict[str, torch.Tensor]) -> SamMed3DConfig:
    """Every size of the model from tensor shapes; `load_state_dict` then checks all tensors."""
    embed_dim, _, patch, _, _ = _shape(state_dict, "image_encoder.patch_embed.proj.weight", 5)
    grid = _shape(state_dict, "image_encoder.pos_embed", 5)[1]
    depth = _count(state_dict, r"image_encoder\.blocks\.(\d+)\.")
    if depth == 0:
        raise CheckpointMismatch("checkpoint does not match SAM-Med3D: missing tensors: image_encoder.blocks.*")
    head_dim = _shape(state_dict, "image_encoder.blocks.0.attn.rel_pos_d", 2)[1]
    global_blocks, windows = [], set()
    for i in range(depth):
        table = _shape(state_dict, f"image_encoder.blocks.{i}.attn.rel_pos_d", 2)[0]
        if table == 2 * grid - 1:
            global_blocks.append(i)
        else:
            windows.add((table + 1) // 2)
    if len(windows) > 1 or any(w < grid for w in windows):
        raise CheckpointMismatch(
            "checkpoint does not match SAM-Med3D: relative position tables of windowed blocks "
            f"imply windows {sorted(windows)}; one window of at least the {grid}^3 token grid is supported")
    prompt_dim = _shape(state_dict, "image_encoder.neck.0.weight", 5)[0]
    return SamMed3DConfig(
        img_size=grid * patch,
        patch_size=patch,
        encoder_embed_dim=embed_dim,
        encoder_depth=depth,
        encoder_num_heads=embed_dim // head_dim,
        encoder_mlp_dim=_shape(state_dict, "image_encoder.blocks.0.mlp.lin1.weight", 2)[0],
        encoder_global_attn_indexes=global_blocks,
        window_size=windows.pop() if windows else grid,
        prompt_embed_dim=prompt_dim,
        mask_in_chans=_shape(state_dict, "prompt_encoder.mask_downscaling.3.weight", 5)[0],
        decoder_depth=_count(state_dict, r"mask_decoder\.transformer\.layers\.(\d+)\."),
        decoder_mlp_dim=_shape(state_dict, "mask_decoder.transformer.layers.0.mlp.lin1.weight", 2)[0],
        decoder_attention_dim=_shape(
            state_dict, "mask_decoder.transformer.final_attn_token_to_image.q_proj.weight", 2)[0],
        num_mask_tokens=_shape(state_dict, "mask_decoder.mask_tokens.weight", 2)[0],
        iou_head_hidden_dim=_shape(state_dict, "mask_decoder.iou_prediction_head.layers.0.weight", 2)[0],
    )
