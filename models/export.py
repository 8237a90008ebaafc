"""Export a SAM-Med3D checkpoint to ONNX.

    python3 models/export.py --checkpoint sam_med3d_turbo.pth --out DIR [--graph optimized|plain] [--int8]

Writes DIR/encoder.onnx, DIR/decoder.onnx, DIR/model.json and DIR/templates/ (models/TEMPLATES.md);
with --int8 also DIR/encoder_int8.onnx (sammed3d/quantize.py), listed in model.json.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sammed3d.checkpoint import build_model, read_state_dict  # noqa: E402
from sammed3d.layout import CheckpointMismatch  # noqa: E402
from sammed3d.onnx_export import export_graphs, write_model_json, write_templates  # noqa: E402
from sammed3d.quantize import write_int8_encoder  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="official .pth (weights under model_state_dict)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--graph", choices=["optimized", "plain"], default="optimized",
                        help="encoder windowed attention: closed-form padding (optimized) or the official padded window")
    parser.add_argument("--int8", action="store_true",
                        help="also write encoder_int8.onnx: the transformer blocks' MatMuls in int8 (experimental)")
    args = parser.parse_args()
    try:
        model = build_model(read_state_dict(args.checkpoint), optimized=args.graph == "optimized")
    except CheckpointMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    paths = export_graphs(model, args.out)
    write_templates(model, paths, os.path.join(args.out, "templates"), args.graph)
    if args.int8:
        paths["encoder_int8"] = os.path.join(args.out, "encoder_int8.onnx")
        write_int8_encoder(paths["encoder"], paths["encoder_int8"])
    print(write_model_json(model, paths, args.out, args.graph, args.checkpoint))
    return 0


if __name__ == "__main__":
    sys.exit(main())
