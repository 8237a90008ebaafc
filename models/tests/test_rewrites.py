"""Each rewrite of an official op into MatMul/Reshape/Transpose equals the plain PyTorch op."""
import pytest
import torch
import torch.nn.functional as F

from sammed3d import ops
from sammed3d.layout import (apply_transforms, conv_transpose_columns_weight, conv_transpose_weight, conv_weight,
                             linear_weight)
from sammed3d.model import EncoderAttention, TokenAttention

torch.manual_seed(0)


def channels_last(x: torch.Tensor) -> torch.Tensor:
    return x[0].permute(1, 2, 3, 0)


def test_patch_embedding_is_reshape_plus_matmul():
    image = torch.randn(1, 1, 64, 64, 64)
    conv = torch.nn.Conv3d(1, 24, kernel_size=16, stride=16)
    layout = conv_weight(24, 1, 16)[1]
    ours = ops.conv_k_stride_k(channels_last(image), apply_transforms(conv.weight, layout), conv.bias, 16)
    torch.testing.assert_close(ours, channels_last(conv(image)), rtol=1e-5, atol=1e-5)


def test_stride_2_convolution_is_space_to_depth_plus_matmul():
    x = torch.randn(1, 4, 16, 16, 16)
    conv = torch.nn.Conv3d(4, 16, kernel_size=2, stride=2)
    ours = ops.conv_k_stride_k(channels_last(x), apply_transforms(conv.weight, conv_weight(16, 4, 2)[1]), conv.bias, 2)
    torch.testing.assert_close(ours, channels_last(conv(x)), rtol=1e-5, atol=1e-5)


def test_3x3x3_convolution_is_im2col_plus_matmul():
    x = torch.randn(1, 12, 8, 8, 8)
    conv = torch.nn.Conv3d(12, 10, kernel_size=3, padding=1, bias=False)
    ours = ops.conv3x3x3_same(channels_last(x), apply_transforms(conv.weight, conv_weight(10, 12, 3)[1]))
    torch.testing.assert_close(ours, channels_last(conv(x)).reshape(512, 10), rtol=1e-5, atol=1e-5)


def test_transposed_convolutions_are_matmuls_plus_one_pixel_shuffle():
    x = torch.randn(1, 12, 4, 4, 4)
    first = torch.nn.ConvTranspose3d(12, 7, kernel_size=2, stride=2)
    second = torch.nn.ConvTranspose3d(7, 5, kernel_size=2, stride=2)
    w1 = apply_transforms(first.weight, conv_transpose_weight(12, 7)[1])
    w2 = apply_transforms(second.weight, conv_transpose_columns_weight(7, 5)[1])
    once = ops.conv_transpose_k2s2(channels_last(x).reshape(64, 12), w1, first.bias)  # rows (d, h, w, kd, kh, kw)
    once_grid = once.reshape(4, 4, 4, 2, 2, 2, 7).permute(6, 0, 3, 1, 4, 2, 5).reshape(7, 8, 8, 8)
    torch.testing.assert_close(once_grid, first(x)[0], rtol=1e-5, atol=1e-5)
    twice = ops.conv_transpose_k2s2_columns(once, w2, second.bias).reshape(5, -1)  # [channel, (kd2, kh2, kw2, once rows)]
    expected = second(first(x))[0]
    for channel in range(5):
        grid = ops.subvoxels_to_grid(twice[channel], 4)
        torch.testing.assert_close(grid, expected[channel], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("points", [1, 3, 30])
def test_token_image_attentions_without_projecting_the_image(points):
    """tokens_to_image / image_to_tokens (image never projected) == the plain attention, any token count."""
    torch.manual_seed(points)
    att = TokenAttention(48, 24, 4)
    with torch.no_grad():
        for p in att.parameters():
            p.normal_(0, 0.3)
    tokens, image, image_values = torch.randn(points + 6, 48), torch.randn(64, 48), torch.randn(64, 48)
    torch.testing.assert_close(att.tokens_to_image(tokens, image, image_values), att(tokens, image, image_values),
                               rtol=1e-5, atol=1e-5)
    token_values = torch.randn(points + 6, 48)
    torch.testing.assert_close(att.image_to_tokens(image, tokens, token_values), att(image, tokens, token_values),
                               rtol=1e-5, atol=1e-5)


def test_linear_layout():
    linear = torch.nn.Linear(6, 4)
    x = torch.randn(3, 6)
    torch.testing.assert_close(x @ apply_transforms(linear.weight, linear_weight(4, 6)[1]) + linear.bias, linear(x))


def official_rel_pos(logits, q, tables, size):
    """The official add_decomposed_rel_pos, written out: einsum per axis, then ITS broadcasting
    (rel_d[:, :, :, :, None, None], rel_h[:, :, :, None, :, None], rel_w[:, :, :, None, None, :])."""
    heads, n, c = q.shape
    index = ops.rel_pos_index(size, size)
    rd, rh, rw = (t[index] for t in tables)
    grid = q.reshape(heads, size, size, size, c)
    rel_d = torch.einsum("bdhwc,dkc->bdhwk", grid, rd)
    rel_h = torch.einsum("bdhwc,hkc->bdhwk", grid, rh)
    rel_w = torch.einsum("bdhwc,wkc->bdhwk", grid, rw)
    full = (logits.view(heads, size, size, size, size, size, size) + rel_d[:, :, :, :, None, None]
            + rel_h[:, :, :, None, :, None] + rel_w[:, :, :, None, None, :])
    return full.reshape(heads, n, n)


def test_rel_pos_terms_reproduce_the_official_broadcasting():
    size, c = 5, 6
    q = torch.randn(3, size ** 3, c)
    tables = [torch.randn(2 * size - 1, c) for _ in range(3)]
    logits = torch.randn(3, size ** 3, size ** 3)
    terms = ops.rel_pos_terms(q.reshape(3, size, size, size, c), tables, size)
    torch.testing.assert_close(ops.add_rel_pos(logits, terms, size), official_rel_pos(logits, q, tables, size))


def explicit_padded_attention(att: EncoderAttention, x: torch.Tensor) -> torch.Tensor:
    """The official windowed block: zero-pad the grid to one window, attend over all of it, crop."""
    g, w, heads = att.grid, att.window, att.heads
    padded = F.pad(x.reshape(g, g, g, -1), (0, 0, 0, w - g, 0, w - g, 0, w - g)).reshape(w ** 3, -1)
    qkv = (padded @ att.qkv.weight + att.qkv.bias).reshape(w ** 3, 3, heads, -1).permute(1, 2, 0, 3)
    q, k, v = qkv[0], qkv[1], qkv[2]
    logits = official_rel_pos((q * att.scale) @ k.transpose(1, 2), q, att._tables(), w)
    out = (logits.softmax(-1) @ v).permute(1, 0, 2).reshape(w, w, w, -1)[:g, :g, :g].reshape(g ** 3, -1)
    return out @ att.proj.weight + att.proj.bias


@pytest.mark.parametrize("grid,window,spread", [(8, 14, 1.0), (4, 7, 1.0), (4, 7, 8.0), (5, 5, 1.0)])
def test_padded_window_attention_closed_form(grid, window, spread):
    """Closed-form padded keys == explicit padded attention, also with large rel-pos logits (spread)."""
    torch.manual_seed(grid * window)
    att = EncoderAttention(32, 4, grid, window, optimized=True)
    with torch.no_grad():
        for name, p in att.named_parameters():
            p.normal_(0, spread if name.startswith("rel_pos") else 0.3)
    x = torch.randn(grid ** 3, 32)
    expected = explicit_padded_attention(att, x)
    # float32 sums over up to 2744 keys in different orders: compare at 1e-5 of the output range.
    tolerance = 1e-5 * expected.abs().max().item()
    torch.testing.assert_close(att(x), expected, rtol=0, atol=tolerance)
    att.optimized = False
    torch.testing.assert_close(att(x), expected, rtol=0, atol=tolerance)


def test_polynomial_sin_cos_match_float64():
    turns = torch.cat([torch.randn(100_000) * 5, torch.tensor([-0.5, -0.25, 0.0, 0.25, 0.5, 7.75])])
    sin, cos = ops.sin_cos_turns(turns)
    angle = 2 * torch.pi * turns.double()
    assert (sin.double() - torch.sin(angle)).abs().max() < 5e-7
    assert (cos.double() - torch.cos(angle)).abs().max() < 5e-7
