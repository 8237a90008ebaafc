"""PyTorch eager latency of SAM-Med3D (used by scripts/bench-model.mjs).

    python3 models/bench_torch.py --checkpoint PATH --graph plain|optimized --runs 3 --threads 2

`plain`: the encoder as the official code computes it (OfficialEagerEncoder) and our plain
decoder; `optimized`: our optimized modules. Prints one JSON line:
{"encoderMs": [...], "decoderMs": [...], "blas": [...]} (a warm-up run of each is not timed).

Debian's torch is built against the generic libblas.so.3, so its matmul speed is that of
whichever BLAS the system provides: the netlib reference libblas3 makes every matmul 5-10x
slower than OpenBLAS (`apt-get install libopenblas0-pthread`). `blas` names the one loaded.
"""
import argparse
import json
import os
import sys
import time
from typing import Dict, List

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sammed3d import ops  # noqa: E402
from sammed3d.checkpoint import build_model, read_state_dict  # noqa: E402
from sammed3d.config import SamMed3DConfig  # noqa: E402
from sammed3d.model import ENCODER_LN_EPS, DecoderGraph, EncoderGraph  # noqa: E402


class OfficialEagerEncoder(torch.nn.Module):
    """The image encoder with the official code's op choices, on the checkpoint's own tensors.

    F.conv3d patch embedding and neck, window padding of a [1, D, H, W, C] grid, nn.Linear on
    all window tokens, q @ k^T, einsum relative-position terms broadcast-added onto the 7D
    logits, softmax, @ v: the PyTorch baseline our graphs are compared with. One window covers
    the whole grid (config.infer_config refuses anything else), so partitioning is padding only.
    """

    def __init__(self, state_dict: Dict[str, torch.Tensor], config: SamMed3DConfig) -> None:
        super().__init__()
        self.config = config
        prefix = "image_encoder."
        self.weights = {name[len(prefix):]: t for name, t in state_dict.items() if name.startswith(prefix)}

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        w = self.weights
        x = F.conv3d(image, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"], stride=self.config.patch_size)
        x = x.permute(0, 2, 3, 4, 1) + w["pos_embed"]
        for i in range(self.config.encoder_depth):
            x = self._block(x, i)
        x = self._channel_norm(F.conv3d(x.permute(0, 4, 1, 2, 3), w["neck.0.weight"]), "neck.1")
        return self._channel_norm(F.conv3d(x, w["neck.2.weight"], padding=1), "neck.3")

    def _channel_norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        """The official LayerNorm3d: normalizes the channel axis of [1, C, D, H, W]."""
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        x = (x - mean) / torch.sqrt(var + ENCODER_LN_EPS)
        weight, bias = (self.weights[f"{name}.{kind}"][:, None, None, None] for kind in ("weight", "bias"))
        return weight * x + bias

    def _block(self, x: torch.Tensor, i: int) -> torch.Tensor:
        p = f"blocks.{i}."
        w, dim, grid = self.weights, self.config.encoder_embed_dim, x.shape[1]
        window = grid if i in self.config.encoder_global_attn_indexes else self.config.window_size
        y = F.layer_norm(x, (dim,), w[p + "norm1.weight"], w[p + "norm1.bias"], ENCODER_LN_EPS)
        pad = window - grid
        y = self._attention(F.pad(y, (0, 0, 0, pad, 0, pad, 0, pad)), p)[:, :grid, :grid, :grid]
        x = x + y
        y = F.layer_norm(x, (dim,), w[p + "norm2.weight"], w[p + "norm2.bias"], ENCODER_LN_EPS)
        y = F.gelu(F.linear(y, w[p + "mlp.lin1.weight"], w[p + "mlp.lin1.bias"]))
        return x + F.linear(y, w[p + "mlp.lin2.weight"], w[p + "mlp.lin2.bias"])

    def _attention(self, x: torch.Tensor, p: str) -> torch.Tensor:
        """Global attention over the [1, S, S, S, dim] tokens with decomposed relative positions."""
        w, heads = self.weights, self.config.encoder_num_heads
        s = x.shape[1]
        n = s ** 3
        qkv = F.linear(x, w[p + "attn.qkv.weight"], w[p + "attn.qkv.bias"]).reshape(n, 3, heads, -1)
        q, k, v = qkv.permute(1, 2, 0, 3).unbind(0)  # [heads, n, head_dim] each
        logits = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
        grid_q = q.reshape(heads, s, s, s, -1)
        index = ops.rel_pos_index(s, s)
        rel_d = torch.einsum("ndhwc,dkc->ndhwk", grid_q, w[p + "attn.rel_pos_d"][index])
        rel_h = torch.einsum("ndhwc,hkc->ndhwk", grid_q, w[p + "attn.rel_pos_h"][index])
        rel_w = torch.einsum("ndhwc,wkc->ndhwk", grid_q, w[p + "attn.rel_pos_w"][index])
        # Official broadcasting (see ops.rel_pos_terms): every term lands on the key's w axis.
        logits = (logits.view(heads, s, s, s, s, s, s) + rel_d[:, :, :, :, None, None]
                  + rel_h[:, :, :, None, :, None] + rel_w[:, :, :, None, None, :]).view(heads, n, n)
        out = logits.softmax(dim=-1) @ v
        out = out.view(heads, s, s, s, -1).permute(1, 2, 3, 0, 4).reshape(1, s, s, s, -1)
        return F.linear(out, w[p + "attn.proj.weight"], w[p + "attn.proj.bias"])


def loaded_blas() -> List[str]:
    """The BLAS libraries mapped into this process (Linux), e.g. .../blas/libblas.so.3.11.0 (netlib)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return []
    return sorted({os.path.realpath(path) for path in paths})


def timed(fn, runs: int) -> list:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--graph", choices=["optimized", "plain"], default="optimized")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    state_dict = read_state_dict(args.checkpoint)
    model = build_model(state_dict, optimized=args.graph == "optimized")
    encoder = OfficialEagerEncoder(state_dict, model.config) if args.graph == "plain" else EncoderGraph(model)
    decoder = DecoderGraph(model)
    blas = loaded_blas()
    print(f"bench_torch: PyTorch {torch.__version__}, BLAS {', '.join(blas) or 'built in'}", file=sys.stderr)
    image = torch.randn(1, 1, 128, 128, 128)
    with torch.no_grad():
        embeddings = encoder(image)
        points, labels = torch.tensor([[[64.0, 60.0, 70.0], [40.0, 64.0, 64.0]]]), torch.tensor([[1.0, 0.0]])
        mask = torch.zeros(1, 1, 32, 32, 32)
        decoder(embeddings, points, labels, mask)  # warm-up (the encoder's was computing `embeddings`)
        result = {"encoderMs": timed(lambda: encoder(image), args.runs),
                  "decoderMs": timed(lambda: decoder(embeddings, points, labels, mask), args.runs * 5),
                  "blas": blas}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
