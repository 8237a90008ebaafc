"""PyTorch eager latency of our SAM-Med3D modules (used by scripts/bench-model.mjs).

    python3 models/bench_torch.py --checkpoint PATH --graph plain|optimized --runs 3 --threads 2

Prints one JSON line: {"encoderMs": [...], "decoderMs": [...]} (a warm-up run of each is not timed).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sammed3d.checkpoint import build_model, read_state_dict  # noqa: E402
from sammed3d.model import DecoderGraph, EncoderGraph  # noqa: E402


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
    model = build_model(read_state_dict(args.checkpoint), optimized=args.graph == "optimized")
    encoder, decoder = EncoderGraph(model), DecoderGraph(model)
    image = torch.randn(1, 1, 128, 128, 128)
    with torch.no_grad():
        embeddings = encoder(image)
        points, labels = torch.tensor([[[64.0, 60.0, 70.0], [40.0, 64.0, 64.0]]]), torch.tensor([[1.0, 0.0]])
        mask = torch.zeros(1, 1, 32, 32, 32)
        decoder(embeddings, points, labels, mask)  # warm-up (the encoder's was computing `embeddings`)
        result = {"encoderMs": timed(lambda: encoder(image), args.runs),
                  "decoderMs": timed(lambda: decoder(embeddings, points, labels, mask), args.runs * 5)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
