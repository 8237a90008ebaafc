"""Write the in-repo fidelity fixture: a small SAM-Med3D run by the OFFICIAL code on random weights.

    /usr/bin/python3 models/make_fixture.py --official PATH [--official-commit SHA] [--out DIR]

PATH is a checkout (or `git archive`) of uni-medical/SAM-Med3D; only its model classes
(`segment_anything/modeling`) are imported, nothing of it is copied. The model is a small
configuration of the official classes (encoder width 96, depth 2, 2 heads, block 1 global,
window 14; prompt/decoder width 96), so the fixture stays a few MB:
- checkpoint.pth: {'model_state_dict': ...} with the official names, stored as float16 (the
  official code runs on exactly these values in float32) to halve the size.
- roi_image.npy.gz: the normalized input [1, 1, 128, 128, 128] as uint8 q; the model input is (q - offset) * scale
  (meta.json `roi_image`), exact in float32, and the official encoder ran on exactly those values.
- embeddings.npy, then for clicks k = 1, 2, 3 (positive, negative, positive; the previous logits
  as the mask prompt, zeros at first, as the official interactive loop does): points_k.npy,
  labels_k.npy, logits_k.npy, iou_k.npy.
- mask_3.npy.gz: uint8 128^3, trilinear upsampling of logits_3 (align_corners false) > 0.
- meta.json: official commit, seeds, configuration, initialisation, file hashes, and the tensor shapes
  the official builder makes for the released model ("vit_b_ori"), for the tests of turbo-sized paths.
The same inputs give the same bytes (gzip without timestamps).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

CONFIG = {
    "img_size": 128,
    "patch_size": 16,
    "window_size": 14,
    "prompt_embed_dim": 96,
    "mask_in_chans": 16,
    "encoder_embed_dim": 96,
    "encoder_depth": 2,
    "encoder_num_heads": 2,
    "encoder_global_attn_indexes": [1],
}
# Parameters the official constructors leave at zero (or at N(0, 1) for embeddings): drawn as N(0, 0.02)
# so that positions, relative positions and prompt tokens matter, as in fixture A.
RANDOMIZED = ("pos_embed", "rel_pos", "point_embeddings", "not_a_point_embed", "no_mask_embed", "iou_token",
              "mask_tokens")


def official_modeling(path):
    """The official model classes, without running `segment_anything/__init__.py` (it imports extra tools)."""
    package = types.ModuleType("segment_anything")
    package.__path__ = [os.path.join(path, "segment_anything")]
    sys.modules["segment_anything"] = package
    from segment_anything import modeling
    return modeling


def official_commit(path, given):
    if given:
        return given
    try:
        return subprocess.check_output(["git", "-C", path, "rev-parse", "HEAD"], text=True).strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        sys.exit(f"{path} is not a git checkout: pass --official-commit SHA")


def build_official(modeling, seed):
    """Sam3D from the official classes, as `_build_sam3D_ori` builds it but with the small sizes."""
    from functools import partial
    c = CONFIG
    grid = c["img_size"] // c["patch_size"]
    torch.manual_seed(seed)
    sam = modeling.Sam3D(
        image_encoder=modeling.ImageEncoderViT3D(
            depth=c["encoder_depth"], embed_dim=c["encoder_embed_dim"], img_size=c["img_size"], mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=c["encoder_num_heads"],
            patch_size=c["patch_size"], qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=c["encoder_global_attn_indexes"], window_size=c["window_size"],
            out_chans=c["prompt_embed_dim"]),
        prompt_encoder=modeling.PromptEncoder3D(
            embed_dim=c["prompt_embed_dim"], image_embedding_size=(grid, grid, grid),
            input_image_size=(c["img_size"],) * 3, mask_in_chans=c["mask_in_chans"]),
        mask_decoder=modeling.MaskDecoder3D(
            num_multimask_outputs=3, transformer_dim=c["prompt_embed_dim"], iou_head_depth=3,
            iou_head_hidden_dim=256),
    ).eval()
    g = torch.Generator().manual_seed(seed)
    randomized = []
    with torch.no_grad():
        for name, p in sam.named_parameters():
            if any(key in name for key in RANDOMIZED):
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
                randomized.append(name)
        for tensor in sam.state_dict().values():  # parameters and buffers (the positional gaussian matrix)
            tensor.copy_(tensor.half().float())  # the checkpoint stores float16: run on exactly its values
    return sam, randomized


def make_volume(seed):
    """A body (ellipsoid) holding bright Gaussian blobs, with noise; 128^3 float32, zero outside."""
    rng = np.random.default_rng(seed)
    n = CONFIG["img_size"]
    axes = np.arange(n, dtype=np.float64)
    z, y, x = np.meshgrid(axes, axes, axes, indexing="ij")
    centre = rng.uniform(60, 68, 3)
    semi = rng.uniform(48, 56, 3)
    inside = ((z - centre[0]) / semi[0]) ** 2 + ((y - centre[1]) / semi[1]) ** 2 + ((x - centre[2]) / semi[2]) ** 2 <= 1
    volume = np.full((n, n, n), 0.2)
    blobs = []
    for amplitude in (1.0, rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6)):
        c = rng.uniform(40, 70, 3)
        sigma = rng.uniform(8, 11)
        volume += amplitude * np.exp(-((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) / (2 * sigma ** 2))
        blobs.append({"center": c.tolist(), "sigma": sigma, "amplitude": amplitude})
    volume += rng.normal(0, 0.01, volume.shape)
    volume = np.where(inside, np.maximum(volume, 0.001), 0.0).astype(np.float32)
    return volume, {"seed": seed, "body_center": centre.tolist(), "body_semi_axes": semi.tolist(), "body_value": 0.2,
                    "blobs": blobs, "noise_std": 0.01, "inside_floor": 0.001}


def quantized_roi(raw):
    """z-normalize (mean and unbiased std of voxels > 0, as the official torchio ZNormalization), then
    quantize to uint8 with a power-of-two step so that (q - offset) * scale is exact in float32."""
    t = torch.from_numpy(raw)
    body = t[t > 0]
    mean, std = body.mean(), body.std()
    roi = ((t - mean) / std).numpy()
    low, high = float(roi.min()), float(roi.max())
    scale = float(2.0 ** np.ceil(np.log2((high - low) / 255)))
    offset = int(np.ceil(-low / scale))
    q = np.clip(np.round(roi / scale) + offset, 0, 255).astype(np.uint8)
    exact = ((q.astype(np.float32) - offset) * np.float32(scale)).astype(np.float32)
    return q, exact, {"dtype": "uint8", "scale": scale, "offset": offset, "formula": "(q - offset) * scale",
                      "znorm": {"masking": "x > 0", "mean": float(mean), "std_unbiased": float(std)}}


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write(out, name, data, files):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def mask_stats(mask, points):
    return {"voxels": int(mask.sum()), "fraction": float(mask.mean()),
            "contains_points": [bool(mask[tuple(p)]) for p in points]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official", required=True, help="checkout of uni-medical/SAM-Med3D")
    parser.add_argument("--official-commit", help="its commit, when PATH is not a git checkout")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                      "tests", "fixtures", "sam-med3d-mini"))
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--volume-seed", type=int, default=2024)
    args = parser.parse_args()
    commit = official_commit(args.official, args.official_commit)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    sam, randomized = build_official(official_modeling(args.official), args.seed)
    raw, volume_meta = make_volume(args.volume_seed)
    q, roi, roi_meta = quantized_roi(raw)

    # Clicks: the brightest blob's centre (positive), a point 19 voxels away on the first axis
    # (negative), the second blob's centre (positive); tensor-axis (2, 3, 4) voxel indices.
    centres = [np.round(b["center"]).astype(int).tolist() for b in volume_meta["blobs"]]
    points = [centres[0], [centres[0][0] + 19, centres[0][1], centres[0][2]], centres[1]]
    labels = [1.0, 0.0, 1.0]

    os.makedirs(args.out, exist_ok=True)
    files = {}
    state = {name: tensor.half() for name, tensor in sam.state_dict().items()}
    buffer = io.BytesIO()
    torch.save({"model_state_dict": state}, buffer)
    write(args.out, "checkpoint.pth", buffer.getvalue(), files)
    write(args.out, "roi_image.npy.gz", gzip.compress(npy_bytes(q.reshape(1, 1, *q.shape)), mtime=0), files)

    clicks = {}
    with torch.no_grad():
        image = torch.from_numpy(roi).reshape(1, 1, *roi.shape)
        embeddings = sam.image_encoder(image)
        write(args.out, "embeddings.npy", npy_bytes(embeddings.numpy()), files)
        low_res = CONFIG["img_size"] // CONFIG["patch_size"] * 4  # the decoder's mask side, 32
        previous = torch.zeros(1, 1, low_res, low_res, low_res)
        for k in (1, 2, 3):
            coords = torch.tensor([points[:k]], dtype=torch.float32)
            click_labels = torch.tensor([labels[:k]], dtype=torch.float32)
            sparse, dense = sam.prompt_encoder(points=(coords, click_labels), boxes=None, masks=previous)
            logits, iou = sam.mask_decoder(image_embeddings=embeddings, image_pe=sam.prompt_encoder.get_dense_pe(),
                                           sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                           multimask_output=False)
            for name, value in (("points", coords), ("labels", click_labels), ("logits", logits), ("iou", iou)):
                write(args.out, f"{name}_{k}.npy", npy_bytes(value.numpy()), files)
            upsampled = F.interpolate(logits, size=roi.shape, mode="trilinear", align_corners=False)[0, 0]
            mask = (torch.sigmoid(upsampled) > 0.5).numpy().astype(np.uint8)
            clicks[str(k)] = {"points": points[:k], "labels": labels[:k],
                              "prev_mask": "zeros(1,1,32,32,32)" if k == 1 else f"logits_{k - 1}",
                              "iou": float(iou), "logits_min_max": [float(logits.min()), float(logits.max())],
                              "mask": mask_stats(mask, points)}
            previous = logits
    write(args.out, "mask_3.npy.gz", gzip.compress(npy_bytes(mask), mtime=0), files)
    near = {f"|upsampled logit|<{t:g}": int((upsampled.abs() < t).sum()) for t in (1e-6, 1e-5, 1e-4)}

    # The tensor names and shapes of the released model's configuration, as the official builder makes them:
    # tests check the shipped turbo templates and make turbo-sized random checkpoints from them.
    from segment_anything.build_sam3D import sam_model_registry3D
    turbo = {name: list(t.shape) for name, t in sam_model_registry3D["vit_b_ori"]().state_dict().items()}

    meta = {
        "generator": "models/make_fixture.py (the official SAM-Med3D model classes, random weights)",
        "official_repo": "https://github.com/uni-medical/SAM-Med3D",
        "official_repo_commit": commit,
        "config": CONFIG,
        "seed": args.seed,
        "init": "torch.manual_seed(seed); official classes with their default init; then with "
                "g=torch.Generator().manual_seed(seed), in named_parameters order, p.copy_(torch.randn(p.shape, "
                "generator=g)*0.02) for: " + ", ".join(randomized) + "; then every parameter rounded to float16",
        "checkpoint_dtype": "float16",
        "params": sum(p.numel() for p in sam.parameters()),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "volume": volume_meta,
        "roi_image": roi_meta,
        "points_zyx_index_order": "coords are ROI voxel indices in tensor dims (2,3,4) order",
        "points": points,
        "labels": labels,
        "clicks": clicks,
        "mask_3_near_threshold_voxels": near,
        "files": files,
        "official_vit_b_ori_tensors": turbo,
    }
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"{args.out}: {sum(f['bytes'] for f in files.values())} bytes; click masks "
          + ", ".join(f"{c['mask']['fraction']:.3f}" for c in clicks.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
