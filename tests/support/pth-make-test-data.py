"""Test data for the TypeScript checkpoint reader (tests/pth-*.test.ts), made with real torch.

usage: /usr/bin/python3 tests/support/pth-make-test-data.py OUT_DIR FIXTURE_CHECKPOINT

Writes into OUT_DIR:
- fixture-stats.json: shape, float64 sum and first/last values of every model_state_dict tensor;
- mixed.pth / mixed.json: dtypes, strided views, storage offsets and shared storages, next to
  non-weight entries (optimizer state, argparse.Namespace, numbers) the reader must skip;
- with-optimizer.pth: the fixture checkpoint's state dict plus a 50 MB fake optimizer state;
- hostile/*.pth and hostile.json: malformed and malicious files with the message each must raise;
- template/: a tiny checkpoint, a weight-free ONNX template in the models/TEMPLATES.md format
  (transpose, reshape and slice transforms), and the same graph with its weights inside.
Skips the work when OUT_DIR/stamp matches this script's hash.
"""
import argparse
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch


def tensor_summary(t):
    flat = t.detach().reshape(-1).to(torch.float64)
    return {
        "shape": list(t.shape),
        "dtype": str(t.dtype).replace("torch.", ""),
        "sum": float(flat.sum()),
        "first": [float(v) for v in flat[:4]],
        "last": float(flat[-1]),
    }


def central_directory_sha256(path):
    """SHA-256 of a zip's central directory, located by its end record (no ZIP64 in the fixture)."""
    with open(path, "rb") as f:
        data = f.read()
    eocd = data.rfind(b"PK\x05\x06")
    size, offset = struct.unpack("<II", data[eocd + 12: eocd + 20])
    return hashlib.sha256(data[offset: offset + size]).hexdigest()


def fixture_stats(checkpoint, out_dir):
    state = torch.load(checkpoint, map_location="cpu")["model_state_dict"]
    stats = {name: tensor_summary(t) for name, t in state.items()}
    with open(os.path.join(out_dir, "fixture-stats.json"), "w") as f:
        json.dump(stats, f)
    with open(os.path.join(out_dir, "fixture-fingerprint.txt"), "w") as f:
        f.write(central_directory_sha256(checkpoint))
    return state


def mixed(out_dir):
    g = torch.Generator().manual_seed(0)
    base = torch.randn(6, 5, generator=g)
    shared = torch.randn(10, generator=g)
    state = {
        "float32": torch.randn(2, 3, 4, generator=g),
        "float16": torch.randn(3, 7, generator=g).half(),
        "bfloat16": torch.randn(9, generator=g).bfloat16(),
        "float64": torch.randn(4, generator=g).double(),
        "int64": torch.arange(-3, 5, dtype=torch.int64),
        "transposed": base.t(),  # strides (1, 5): not contiguous
        "sliced": base[2:5, 1:4],  # storage offset 11, row stride 5
        "shared_head": shared[:4],  # two views of one storage
        "shared_tail": shared[6:],
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        "param": torch.nn.Parameter(torch.randn(2, 2, generator=g)),
    }
    namespace = argparse.Namespace(lr=1e-4, name="run", sizes=[1, 2])
    checkpoint = {
        "epoch": 12,
        "model_state_dict": state,
        "optimizer_state_dict": {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(100, generator=g)}},
                                 "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0], "amsgrad": False}]},
        "args": namespace,
        "best_dice": 0.875,
        "big": 2**70,
        "note": None,
    }
    torch.save(checkpoint, os.path.join(out_dir, "mixed.pth"))
    expected = {name: {"shape": list(t.shape), "values": [float(v) for v in t.detach().reshape(-1).to(torch.float64)]}
                for name, t in state.items()}
    with open(os.path.join(out_dir, "mixed.json"), "w") as f:
        json.dump(expected, f)


def with_optimizer(state, out_dir):
    g = torch.Generator().manual_seed(1)
    fake_optimizer = {"state": {0: {"exp_avg": torch.randn(12_500_000, generator=g)}}, "param_groups": []}
    torch.save({"optimizer_state_dict": fake_optimizer, "model_state_dict": state},
               os.path.join(out_dir, "with-optimizer.pth"))


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)


def small_checkpoint_entries():
    buffer = io.BytesIO()
    torch.save({"model_state_dict": {"w": torch.arange(4, dtype=torch.float32)}}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        return {info.filename: z.read(info.filename) for info in z.infolist()}


def rename_archive(entries, name="archive"):
    return {name + "/" + key.split("/", 1)[1]: value for key, value in entries.items()}


class Reducing:
    """Pickles as a call of `func(*args)`: how a malicious pickle runs code."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def hostile(out_dir):
    folder = os.path.join(out_dir, "hostile")
    os.makedirs(folder, exist_ok=True)
    cases = {}
    valid = rename_archive(small_checkpoint_entries())
    pkl = valid["archive/data.pkl"]

    def add(name, expected, entries=None, raw=None, compression=zipfile.ZIP_STORED):
        path = os.path.join(folder, name + ".pth")
        if raw is not None:
            with open(path, "wb") as f:
                f.write(raw)
        else:
            write_zip(path, entries, compression)
        cases[name + ".pth"] = expected

    def with_pickle(data):
        return {**valid, "archive/data.pkl": data}

    import builtins
    import subprocess
    add("os-system", 'global "posix.system"' if os.name == "posix" else "os.system",
        with_pickle(pickle.dumps({"model_state_dict": Reducing(os.system, ("echo pwned",))}, protocol=2)))
    add("builtins-eval", 'global "__builtin__.eval"',  # protocol 2 spells builtins so
        with_pickle(pickle.dumps(Reducing(builtins.eval, ("1+1",)), protocol=2)))
    add("subprocess", 'global "subprocess.Popen"',
        with_pickle(pickle.dumps(Reducing(subprocess.Popen, (["true"],)), protocol=4)))  # STACK_GLOBAL
    # Protocol 0's INST opcode instantiates a class by name: not a state-dict opcode.
    add("inst-opcode", "unsupported pickle opcode 0x69", with_pickle(b"\x80\x02(ios\nsystem\n."))
    add("mark-bomb", "nesting deeper than", with_pickle(b"\x80\x02" + b"(" * 200_000 + b"."))
    add("stack-bomb", "stack deeper than", with_pickle(b"\x80\x02" + b"]" * 500_000 + b"."))
    # Billion laughs: 60 levels of lists, each holding the previous one 10 times (10^60 leaves
    # if expanded); placed as a state-dict entry, which must be a tensor.
    laughs = bytearray(b"\x80\x02}q\x00X\x10\x00\x00\x00model_state_dict}X\x01\x00\x00\x00x]q\x010")
    for level in range(1, 61):
        laughs += b"](" + (b"h" + bytes([level])) * 10 + b"eq" + bytes([level + 1]) + b"0"
    laughs += b"h\x3dss."
    add("billion-laughs", "state dict entry x is not a tensor", with_pickle(bytes(laughs)))
    add("big-appends", "not a checkpoint dict", with_pickle(b"\x80\x02](" + b"N" * 99_000 + b"e."))
    add("huge-string", "truncated pickle", with_pickle(b"\x80\x02X\xff\xff\xff\x7f" + b"a" * 16 + b"."))
    add("memo-before-write", "memo entry 7 read before it was written", with_pickle(b"\x80\x02h\x07."))
    # The first storage declares 2^40 elements; its entry holds 16 bytes.
    huge_pkl = pkl.replace(b"cpuq\x08K\x04t", b"cpuq\x08\x8a\x06\x00\x00\x00\x00\x00\x01t", 1)
    assert huge_pkl != pkl, "storage tuple pattern not found"
    add("huge-storage", "declares 4398046511104 bytes", with_pickle(huge_pkl))
    # A view past its storage: size (4,) -> (400,) in the tensor's size tuple (BININT1 4, TUPLE1).
    view_pkl = pkl.replace(b"K\x04\x85", b"M\x90\x01\x85", 1)
    assert view_pkl != pkl, "size tuple pattern not found"
    add("view-past-storage", "tensor view reaches element 399 of a storage of 4 elements", with_pickle(view_pkl))
    # Stride 0 makes 4 stored floats look like 4096.
    broadcast_pkl = pkl.replace(b"K\x04\x85", b"M\x00\x10\x85", 1).replace(b"K\x01\x85", b"K\x00\x85", 1)
    assert broadcast_pkl.count(b"M\x00\x10\x85") == 1 and b"K\x00\x85" in broadcast_pkl
    add("broadcast-view", "its 4096 elements repeat a storage of 4", with_pickle(broadcast_pkl))
    aliases = io.BytesIO()
    shared = torch.zeros(4)
    torch.save({"model_state_dict": {f"w{i}": shared for i in range(100)}}, aliases)
    with zipfile.ZipFile(io.BytesIO(aliases.getvalue())) as z:
        add("aliased-names", "its tensors hold 400 elements but their storages only 4",
            rename_archive({info.filename: z.read(info.filename) for info in z.infolist()}))
    add("no-data-pkl", "has no <name>/data.pkl", {k: v for k, v in valid.items() if not k.endswith("data.pkl")})
    add("deflated", "compression method 8", valid, compression=zipfile.ZIP_DEFLATED)
    add("not-a-zip", "not a zip archive", raw=b"\x80\x02}q\x00." + os.urandom(4096))
    add("empty-file", "not a zip archive", raw=b"")
    path = os.path.join(folder, "complete.pth")
    write_zip(path, valid)
    with open(path, "rb") as f:
        complete = f.read()
    os.remove(path)
    add("truncated", "not a zip archive, or a truncated", raw=complete[: len(complete) // 2])
    central = complete.rfind(b"PK\x01\x02")
    add("corrupt-central-directory", "corrupt zip central directory",
        raw=complete[:central] + b"XXXX" + complete[central + 4:])
    eocd = complete.rfind(b"PK\x05\x06")
    bad_offset = complete[: eocd + 16] + struct.pack("<I", len(complete) * 4) + complete[eocd + 20:]
    add("central-directory-outside", "central directory lies outside the file", raw=bad_offset)
    add("missing-storage", "storage 0 has no data/0 entry", {k: v for k, v in valid.items() if not k.endswith("data/0")})
    add("big-endian", 'byte order "big"', {**valid, "archive/byteorder": b"big"})
    add("no-state-dict", 'no state dict under "model_state_dict"',
        with_pickle(pickle.dumps({"state_dict": {}}, protocol=2)))

    with open(os.path.join(out_dir, "hostile.json"), "w") as f:
        json.dump(cases, f, indent=1)


def template(out_dir):
    """y = (x @ transpose(w)) * reshape(scale) + slice(bias): every transform of the vocabulary."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder = os.path.join(out_dir, "template")
    os.makedirs(folder, exist_ok=True)
    g = torch.Generator().manual_seed(2)
    state = {"layer.weight": torch.randn(3, 4, generator=g), "layer.scale": torch.randn(3, 1, generator=g).half(),
             "layer.bias": torch.randn(2, 5, generator=g)}
    torch.save({"model_state_dict": state, "epoch": 1}, os.path.join(folder, "checkpoint.pth"))
    arrays = {name: t.float().numpy() for name, t in state.items()}
    weights = {
        "W": (arrays["layer.weight"].T, [{"op": "transpose", "perm": [1, 0]}], "layer.weight"),
        "S": (arrays["layer.scale"].reshape(1, 3), [{"op": "reshape", "shape": [1, 3]}], "layer.scale"),
        "B": (arrays["layer.bias"][:, 1:4].reshape(2, 3)[1:2],
              [{"op": "slice", "axis": 1, "start": 1, "end": 4}, {"op": "slice", "axis": 0, "start": 1, "end": 2}],
              "layer.bias"),
    }
    nodes = [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Mul", ["xw", "S"], ["xs"]),
             helper.make_node("Add", ["xs", "B"], ["y"])]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])]

    def graph(initializers):
        return helper.make_model(helper.make_graph(nodes, "tiny", inputs, outputs, initializers),
                                 opset_imports=[helper.make_opsetid("", 17)], ir_version=8)

    onnx.save(graph([numpy_helper.from_array(np.ascontiguousarray(a, np.float32), name) for name, (a, _, _) in weights.items()]),
              os.path.join(folder, "reference.onnx"))
    entries, initializers, offset = [], [], 0
    for name, (array, transforms, source) in weights.items():
        tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(array.shape))
        length = 4 * array.size
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "tiny.weights.bin"), ("offset", str(offset)), ("length", str(length))):
            tensor.external_data.add(key=key, value=value)
        initializers.append(tensor)
        entries.append({"name": name, "source": source, "transforms": transforms, "shape": list(array.shape),
                        "dtype": "float32", "offset": offset, "length": length})
        offset += (length + 63) // 64 * 64
    onnx.save(graph(initializers), os.path.join(folder, "tiny.onnx"))
    manifest = {"format": "sam-med3d-onnx-template", "version": 1, "graph": "plain", "config": {},
                "checkpoint": {"stateDictKey": "model_state_dict", "tensors": {n: list(t.shape) for n, t in state.items()}},
                "graphs": {"tiny": {"model": "tiny.onnx", "weightsFile": "tiny.weights.bin", "weightsBytes": offset,
                                    "initializers": entries}}}
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def main():
    out_dir, checkpoint = sys.argv[1], sys.argv[2]
    with open(__file__, "rb") as f:
        stamp = hashlib.sha256(f.read() + checkpoint.encode()).hexdigest()
    stamp_path = os.path.join(out_dir, "stamp")
    if os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        return
    os.makedirs(out_dir, exist_ok=True)
    state = fixture_stats(checkpoint, out_dir)
    mixed(out_dir)
    with_optimizer(state, out_dir)
    hostile(out_dir)
    template(out_dir)
    with open(stamp_path, "w") as f:
        f.write(stamp)


if __name__ == "__main__":
    main()
