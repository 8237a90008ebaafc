"""Exact rewrites of the official 3D ops into MatMul, Reshape and Transpose (WebGPU-friendly).

Feature maps are channels-last: a [D, H, W, C] grid, or its [D*H*W, C] token view (W fastest).
"""
import math

import torch


def space_to_depth(x: torch.Tensor, k: int) -> torch.Tensor:
    """[D, H, W, C] -> [D/k * H/k * W/k, k*k*k*C] patches ordered (kd, kh, kw, c)."""
    d, h, w, c = x.shape
    x = x.reshape(d // k, k, h // k, k, w // k, k, c).permute(0, 2, 4, 1, 3, 5, 6)
    return x.reshape((d // k) * (h // k) * (w // k), k * k * k * c)


def conv_k_stride_k(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, k: int) -> torch.Tensor:
    """Conv3d(kernel k, stride k) as a matmul: [D, H, W, Cin] -> [D/k, H/k, W/k, Cout].

    `weight` is in `layout.conv_weight` layout: [k^3 * Cin, Cout].
    """
    d, h, w, _ = x.shape
    out = space_to_depth(x, k) @ weight
    if bias is not None:
        out = out + bias
    return out.reshape(d // k, h // k, w // k, -1)


def conv3x3x3_same(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Conv3d(kernel 3, padding 1, no bias) as im2col + matmul: [D, H, W, Cin] -> [D*H*W, Cout]."""
    d, h, w, c = x.shape
    padded = torch.nn.functional.pad(x, (0, 0, 1, 1, 1, 1, 1, 1))
    columns = [padded[i:i + d, j:j + h, l:l + w, :] for i in range(3) for j in range(3) for l in range(3)]
    return torch.cat(columns, dim=-1).reshape(d * h * w, 27 * c) @ weight


def conv_transpose_k2s2(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """ConvTranspose3d(kernel 2, stride 2) as a matmul: [N, Cin] voxels -> [N * 8, Cout] sub-voxels.

    Kernel 2 with stride 2 never mixes input voxels: each one becomes its own 2x2x2 block. Rows
    come out ordered (voxel, kd, kh, kw); `subvoxels_to_grid` places them once, at the end, so
    no large tensor is ever transposed. `weight` is in `layout.conv_transpose_weight` layout:
    [Cin, 8 * Cout], columns ordered (kd, kh, kw, cout). The bias is tiled over the 8 sub-voxels
    so that matmul and bias are one 2D Gemm in ONNX Runtime.
    """
    return (x @ weight + bias.repeat(8)).reshape(-1, bias.shape[0])


def conv_transpose_k2s2_columns(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """conv_transpose_k2s2 with a channels-first output: [N, Cin] -> [Cout * 8, N], rows (cout, kd, kh, kw).

    One Gemm (x transposed inside it, bias as a column). `weight` is in
    `layout.conv_transpose_columns_weight` layout: [8 * Cout, Cin]. Channels first, a per-channel
    dot product over the output is one row-vector matmul, which ONNX Runtime does far faster than
    a matrix-vector product over channels-last rows.
    """
    return torch.addmm(bias.unsqueeze(1).repeat(1, 8).reshape(-1, 1), weight, x.transpose(0, 1))


def subvoxels_to_grid(values: torch.Tensor, grid: int) -> torch.Tensor:
    """The 3D pixel shuffle of conv_transpose_k2s2 followed by conv_transpose_k2s2_columns and a
    dot product over channels: [8 * grid^3 * 8] in (kd2, kh2, kw2, d, h, w, kd1, kh1, kw1) order ->
    [4 * grid]^3 with d = (d * 2 + kd1) * 2 + kd2, and likewise for h and w."""
    size = grid * 4
    x = values.reshape([2] * 3 + [grid] * 3 + [2] * 3)
    return x.permute(3, 6, 0, 4, 7, 1, 5, 8, 2).reshape(size, size, size)


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    return torch.nn.functional.layer_norm(x, tuple(weight.shape), weight, bias, eps)


def sin_cos_turns(turns: torch.Tensor):
    """(sin, cos) of 2*pi*turns to float32 accuracy with polynomials.

    WebGPU only bounds sin/cos errors by 2^-11 inside [-pi, pi] (SwiftShader is ~2e-4 off), so
    whole and half turns are removed exactly first, then Taylor series on [-pi/2, pi/2]
    (truncation below 1e-9) give every backend the same float32-accurate values.
    """
    r = turns - torch.floor(turns + 0.5)  # [-0.5, 0.5]
    reflect = torch.abs(r) > 0.25  # sin(pi - x) = sin x, cos(pi - x) = -cos x
    r = torch.where(r > 0.25, 0.5 - r, torch.where(r < -0.25, -0.5 - r, r))
    x2 = (2 * math.pi * r) ** 2
    sin, cos = 0.0, 0.0
    for n in range(7, 0, -1):  # Horner: sin x / x in x^0 .. x^12, cos x in x^0 .. x^14
        sin = sin * x2 + (-1) ** (n - 1) / math.factorial(2 * n - 1)
        cos = cos * x2 + (-1) ** n / math.factorial(2 * n)
    cos = cos * x2 + 1
    return sin * (2 * math.pi * r), torch.where(reflect, -cos, cos)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """Exact (erf) GELU, as nn.GELU() by default."""
    return torch.nn.functional.gelu(x)


def rel_pos_index(q_size: int, k_size: int) -> torch.Tensor:
    """Index into a decomposed relative-position table of length 2*k_size-1: q - k + k_size - 1."""
    return torch.arange(q_size)[:, None] - torch.arange(k_size)[None, :] + (k_size - 1)


def _axis_matmul(q: torch.Tensor, axis: int, table: torch.Tensor) -> torch.Tensor:
    """sum_c q[h, a0, a1, a2, c] * table[a_axis, k, c] -> [h, a0, a1, a2, k], as one batched MatMul."""
    order = [0, axis] + [a for a in (1, 2, 3) if a != axis] + [4]
    moved = q.permute(*order)
    heads, size, r0, r1, c = moved.shape
    out = (moved.reshape(heads, size, r0 * r1, c) @ table.transpose(1, 2)).reshape(heads, size, r0, r1, -1)
    return out.permute(*[order.index(a) for a in range(5)])


def rel_pos_terms(q: torch.Tensor, tables: list, q_w: int) -> list:
    """The three relative-position terms of the official SAM-Med3D attention.

    The official add_decomposed_rel_pos broadcasts its per-axis terms onto the key axes
    differently from 2D SAM (its rel_d[..., None, None] lands on the key's w axis, etc.). With
    R_a[i, j] = table_a[i - j + K - 1] and q(d, h, w) the query of token (d, h, w), the logit
    of query (qd, qh, qw) for key (kd, kh, kw) gets
        Bd = q(qd, qh, qw) . Rd[qd, kw] + Bh = q(qd, qh, kd) . Rh[qh, kw] + Bw = q(qd, qh, kh) . Rw[kh, kw],
    i.e. Bh and Bw read the queries of other tokens of the same (d, h) row (checked against the
    official function in models/tests). K is the key grid size (window or global grid).

    q: [heads, D, H, K, C] queries of the rows (qd, qh), along w over all K key positions
    (positions >= q_w are padded tokens); the attending queries are q[..., :q_w, :].
    Returns Bd [heads, D, H, q_w, K], Bh [heads, D, H, K(kd), K(kw)], Bw [heads, D, H, K(kh), K(kw)].
    """
    d, h, k = q.shape[1], q.shape[2], q.shape[3]
    rd, rh, rw = tables
    bd = _axis_matmul(q[:, :, :, :q_w], 1, rd[rel_pos_index(d, k)])
    bh = _axis_matmul(q, 2, rh[rel_pos_index(h, k)])
    bw = _axis_matmul(q, 3, rw[rel_pos_index(k, k)])
    return [bd, bh, bw]


def add_rel_pos(logits: torch.Tensor, terms: list, keys: int) -> torch.Tensor:
    """logits [heads, D*H*W, keys^3] plus the terms of rel_pos_terms restricted to key positions < keys."""
    bd, bh, bw = terms
    heads, d, h, w, _ = bd.shape
    full = (logits.reshape(heads, d, h, w, keys, keys, keys)
            + bd[..., :keys].reshape(heads, d, h, w, 1, 1, keys)
            + bh[..., :keys, :keys].reshape(heads, d, h, 1, keys, 1, keys)
            + bw[..., :keys, :keys].reshape(heads, d, h, 1, 1, keys, keys))
    return full.reshape(heads, d * h * w, keys ** 3)


def _log_sum_exp(x: torch.Tensor) -> torch.Tensor:
    peak = x.amax(dim=-1)
    return peak + torch.log(torch.exp(x - peak.unsqueeze(-1)).sum(-1))


def _real_and_padded_sums(term: torch.Tensor, grid: int):
    """exp-sums of term [..., K(summed axis), K(kw)] over real (< grid) and padded summed positions, with their shift."""
    peak = term.amax(dim=-2)
    e = torch.exp(term - peak.unsqueeze(-2))
    return e[..., :grid, :].sum(-2), e[..., grid:, :].sum(-2), peak


def padded_keys_logit(terms: list, grid: int, q_dot_kbias: torch.Tensor) -> torch.Tensor:
    """One logit standing for all zero-padded keys of a window attention, in closed form.

    The window pads the grid^3 tokens to K^3 with zeros after norm1: every padded key is
    k_bias with value v_bias, so sum_padded exp(logit) = exp(scale * q.k_bias) * M with
    M = sum over padded (kd, kh, kw) of exp(Bd(kw) + Bh(kd, kw) + Bw(kh, kw)). For each kw the
    sum over (kd, kh) factorizes; the padded set splits without overlap into kw >= grid (all kd, kh)
    and kw < grid with (kd >= grid, any kh) or (kd < grid, kh >= grid), so every term is positive.
    Returns log(exp(scale * q.k_bias) * M), [heads, D, H, W]: a softmax over [real logits, this]
    weighting [V, v_bias] is exactly the official padded attention.
    """
    bd, bh, bw = terms
    f_real, f_pad, f_peak = _real_and_padded_sums(bh, grid)  # over kd: [heads, D, H, K(kw)]
    g_real, g_pad, g_peak = _real_and_padded_sums(bw, grid)  # over kh
    f_all, g_all = f_real + f_pad, g_real + g_pad
    per_kw = torch.cat([(f_pad * g_all + f_real * g_pad)[..., :grid], (f_all * g_all)[..., grid:]], dim=-1)
    log_per_kw = f_peak + g_peak + torch.log(per_kw)  # [heads, D, H, K]
    return q_dot_kbias + _log_sum_exp(bd + log_per_kw.unsqueeze(3))
