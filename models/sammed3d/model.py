"""SAM-Med3D (image encoder, prompt encoder, mask decoder) as exportable PyTorch modules.

Same function as the official code (uni-medical/SAM-Med3D, segment_anything/modeling/*3D.py),
written for a batch of one, channels-last tokens and MatMul-only 3D ops. Parameter names are
the checkpoint's; values are stored in graph layout (see layout.py).
"""
import math
from typing import List, Tuple

import torch
from torch import nn

from . import ops
from .config import SamMed3DConfig
from .layout import CheckpointModule, conv_transpose_columns_weight, conv_transpose_weight, conv_weight, linear_weight

ENCODER_LN_EPS = 1e-6  # ViT blocks and every channel LayerNorm
TOKEN_LN_EPS = 1e-5  # nn.LayerNorm default, used by the two-way transformer


class Linear(CheckpointModule):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.add_weight("weight", *linear_weight(out_features, in_features))
        self.add_weight("bias", (out_features,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight + self.bias


class Norm(CheckpointModule):
    """LayerNorm over the last (channel) axis; covers nn.LayerNorm and the official LayerNorm3d."""

    def __init__(self, channels: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.add_weight("weight", (channels,))
        self.add_weight("bias", (channels,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ops.layer_norm(x, self.weight, self.bias, self.eps)


class Mlp(nn.Module):
    """lin1 -> activation -> lin2 (the official MLPBlock)."""

    def __init__(self, dim: int, hidden: int, activation) -> None:
        super().__init__()
        self.lin1 = Linear(dim, hidden)
        self.lin2 = Linear(hidden, dim)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin2(self.activation(self.lin1(x)))


# ---------------------------------------------------------------- image encoder

class Conv(CheckpointModule):
    """Conv3d weights (kernel k, stride k or padding 1) in matmul layout; applied by the ops.* helpers."""

    def __init__(self, in_ch: int, out_ch: int, k: int, bias: bool = True) -> None:
        super().__init__()
        self.add_weight("weight", *conv_weight(out_ch, in_ch, k))
        if bias:
            self.add_weight("bias", (out_ch,))


class ConvTranspose(CheckpointModule):
    """ConvTranspose3d(k2, s2) weights in matmul layout; applied by ops.conv_transpose_k2s2(_columns)."""

    def __init__(self, in_ch: int, out_ch: int, channels_first: bool = False) -> None:
        super().__init__()
        layout = conv_transpose_columns_weight if channels_first else conv_transpose_weight
        self.add_weight("weight", *layout(in_ch, out_ch))
        self.add_weight("bias", (out_ch,))


class EncoderAttention(CheckpointModule):
    """Multi-head self-attention with decomposed relative positions over a cubic token grid.

    `window` > `grid`: the official block zero-pads the grid to one window after norm1.
    `optimized` False does exactly that (window^3 tokens); True attends over the grid^3 real
    tokens plus one closed-form logit standing for all padded keys (ops.padded_keys_logit).
    """

    def __init__(self, dim: int, heads: int, grid: int, window: int, optimized: bool) -> None:
        super().__init__()
        self.heads, self.grid, self.window, self.optimized = heads, grid, window, optimized
        head_dim = dim // heads
        self.scale = head_dim ** -0.5
        self.qkv = Linear(dim, 3 * dim)
        self.proj = Linear(dim, dim)
        for axis in "dhw":
            self.add_weight(f"rel_pos_{axis}", (2 * window - 1, head_dim))

    def _qkv(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        qkv = self.qkv(x).reshape(n, 3, self.heads, -1).permute(1, 2, 0, 3)
        return qkv[0], qkv[1], qkv[2]  # [heads, N, head_dim] each

    def _tables(self) -> List[torch.Tensor]:
        return [self.rel_pos_d, self.rel_pos_h, self.rel_pos_w]

    def _merge_heads(self, out: torch.Tensor) -> torch.Tensor:
        return out.permute(1, 0, 2).reshape(out.shape[1], -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.window == self.grid:
            out = self._full(x, self.grid)
        elif self.optimized:
            out = self._window_closed_form(x)
        else:
            out = self._padded_window(x)
        return self.proj(out)

    def _full(self, x: torch.Tensor, size: int) -> torch.Tensor:
        q, k, v = self._qkv(x)
        logits = (q * self.scale) @ k.transpose(1, 2)
        terms = ops.rel_pos_terms(q.reshape(self.heads, size, size, size, -1), self._tables(), size)
        logits = ops.add_rel_pos(logits, terms, size)
        return self._merge_heads(torch.softmax(logits, dim=-1) @ v)

    def _padded_window(self, x: torch.Tensor) -> torch.Tensor:
        g, w = self.grid, self.window
        padded = nn.functional.pad(x.reshape(g, g, g, -1), (0, 0, 0, w - g, 0, w - g, 0, w - g))
        out = self._full(padded.reshape(w * w * w, -1), w)
        return out.reshape(w, w, w, -1)[:g, :g, :g].reshape(g * g * g, -1)

    def _window_closed_form(self, x: torch.Tensor) -> torch.Tensor:
        g, w = self.grid, self.window
        q, k, v = self._qkv(x)
        bias = self.qkv.bias.reshape(3, self.heads, 1, -1)
        q_bias, k_bias, v_bias = bias[0], bias[1], bias[2]  # the q, k, v of a zero (padded) token
        logits = (q * self.scale) @ k.transpose(1, 2)
        # Queries of each (d, h) row along w, padded tokens' queries (= q_bias) up to the window.
        rows = torch.cat([q.reshape(self.heads, g, g, g, -1),
                          q_bias.reshape(self.heads, 1, 1, 1, -1).expand(-1, g, g, w - g, -1)], dim=3)
        terms = ops.rel_pos_terms(rows, self._tables(), g)
        logits = ops.add_rel_pos(logits, terms, g)
        q_dot_kbias = ((q * self.scale) * k_bias).sum(-1).reshape(self.heads, g, g, g)
        pad_logit = ops.padded_keys_logit(terms, g, q_dot_kbias).reshape(self.heads, g * g * g, 1)
        probs = torch.softmax(torch.cat([logits, pad_logit], dim=-1), dim=-1)
        out = probs[..., :-1] @ v + probs[..., -1:] * v_bias
        return self._merge_heads(out)


class EncoderBlock(nn.Module):
    def __init__(self, config: SamMed3DConfig, window: int, optimized: bool) -> None:
        super().__init__()
        dim = config.encoder_embed_dim
        self.norm1 = Norm(dim, ENCODER_LN_EPS)
        self.attn = EncoderAttention(dim, config.encoder_num_heads, config.grid, window, optimized)
        self.norm2 = Norm(dim, ENCODER_LN_EPS)
        self.mlp = Mlp(dim, config.encoder_mlp_dim, ops.gelu)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Neck(nn.ModuleDict):
    """Conv1x1 -> channel LN -> Conv3x3x3 -> channel LN, no conv bias (the official neck.0 .. neck.3)."""

    def __init__(self, dim: int, out: int) -> None:
        super().__init__({"0": Conv(dim, out, 1, bias=False), "1": Norm(out, ENCODER_LN_EPS),
                          "2": Conv(out, out, 3, bias=False), "3": Norm(out, ENCODER_LN_EPS)})

    def forward(self, x: torch.Tensor, grid: int) -> torch.Tensor:
        x = self["1"](x @ self["0"].weight)
        return self["3"](ops.conv3x3x3_same(x.reshape(grid, grid, grid, -1), self["2"].weight))


class ImageEncoder(CheckpointModule):
    def __init__(self, config: SamMed3DConfig, optimized: bool) -> None:
        super().__init__()
        self.config = config
        g, dim = config.grid, config.encoder_embed_dim
        self.patch_embed = nn.ModuleDict({"proj": Conv(1, dim, config.patch_size)})
        self.add_weight("pos_embed", (1, g, g, g, dim), [{"op": "reshape", "shape": [g * g * g, dim]}])
        self.blocks = nn.ModuleList(
            EncoderBlock(config, config.grid if i in config.encoder_global_attn_indexes else config.window_size,
                         optimized)
            for i in range(config.encoder_depth))
        self.neck = Neck(dim, config.prompt_embed_dim)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """image [1, 1, S, S, S] -> embeddings [1, prompt_dim, G, G, G]."""
        g, p = self.config.grid, self.config.patch_size
        volume = image.reshape(g * p, g * p, g * p, 1)
        x = ops.conv_k_stride_k(volume, self.patch_embed["proj"].weight, self.patch_embed["proj"].bias, p)
        x = x.reshape(g * g * g, -1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        x = self.neck(x, g)
        return x.transpose(0, 1).reshape(1, -1, g, g, g)


# ---------------------------------------------------------------- prompt encoder

class Embedding(CheckpointModule):
    def __init__(self, count: int, dim: int) -> None:
        super().__init__()
        self.add_weight("weight", (count, dim))


class PositionEncoding(CheckpointModule):
    """Random Fourier features: [sin, cos, sin] of 2*pi * (2c - 1) @ G (the sine really twice)."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.add_weight("positional_encoding_gaussian_matrix", (3, features))

    def forward(self, coords01: torch.Tensor) -> torch.Tensor:
        sin, cos = ops.sin_cos_turns((2 * coords01 - 1) @ self.positional_encoding_gaussian_matrix)
        return torch.cat([sin, cos, sin], dim=-1)


class MaskDownscaling(nn.ModuleDict):
    """Conv(k2,s2) -> LN -> GELU -> Conv(k2,s2) -> LN -> GELU -> Conv 1x1 (the official 0 .. 6)."""

    def __init__(self, hidden: int, dim: int) -> None:
        quarter = hidden // 4
        super().__init__({"0": Conv(1, quarter, 2), "1": Norm(quarter, ENCODER_LN_EPS),
                          "3": Conv(quarter, hidden, 2), "4": Norm(hidden, ENCODER_LN_EPS),
                          "6": Conv(hidden, dim, 1)})

    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        """mask [M, M, M, 1] -> dense embedding tokens [(M/4)^3, dim]."""
        x = ops.gelu(self["1"](ops.conv_k_stride_k(mask, self["0"].weight, self["0"].bias, 2)))
        x = ops.gelu(self["4"](ops.conv_k_stride_k(x, self["3"].weight, self["3"].bias, 2)))
        return x.reshape(-1, x.shape[-1]) @ self["6"].weight + self["6"].bias


class PromptEncoder(nn.Module):
    def __init__(self, config: SamMed3DConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.prompt_embed_dim
        self.pe_layer = PositionEncoding(dim // 3)
        self.point_embeddings = nn.ModuleList([Embedding(1, dim), Embedding(1, dim)])
        self.not_a_point_embed = Embedding(1, dim)
        self.no_mask_embed = Embedding(1, dim)  # in the checkpoint; unused: the interactive loop always passes a mask
        self.mask_downscaling = MaskDownscaling(config.mask_in_chans, dim)
        g = config.grid
        # Dense grid PE: the official code stacks (axis-1, axis-0, axis-2) positions, in that order.
        i, j, k = torch.meshgrid(torch.arange(g), torch.arange(g), torch.arange(g), indexing="ij")
        dense = torch.stack([j, i, k], dim=-1).reshape(-1, 3).float()
        self.register_buffer("dense_coords", (dense + 0.5) / g, persistent=False)

    def dense_pe(self) -> torch.Tensor:
        return self.pe_layer(self.dense_coords)  # [G^3, dim]

    def embed_points(self, coords: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """coords [N, 3] voxel indices, labels [N] -> [N + 1, dim] with the padding point appended."""
        coords = torch.cat([coords + 0.5, torch.zeros(1, 3)], dim=0)
        labels = torch.cat([labels, -torch.ones(1)], dim=0).unsqueeze(-1)
        pe = self.pe_layer(coords / self.config.img_size)
        is_padding = (labels == -1).float()
        return (pe * (1 - is_padding)
                + is_padding * self.not_a_point_embed.weight
                + (labels == 0).float() * self.point_embeddings[0].weight
                + (labels == 1).float() * self.point_embeddings[1].weight)


# ---------------------------------------------------------------- mask decoder

class TokenAttention(nn.Module):
    """The two-way transformer's attention, with an optional downscaled internal dim.

    Token counts depend on the number of points: reshapes use -1 there so the graph has no
    shape arithmetic (which ONNX Runtime would place on the CPU, off WebGPU).
    """

    def __init__(self, dim: int, internal: int, heads: int) -> None:
        super().__init__()
        self.heads, self.dim, self.internal, self.head_dim = heads, dim, internal, internal // heads
        self.q_proj = Linear(dim, internal)
        self.k_proj = Linear(dim, internal)
        self.v_proj = Linear(dim, internal)
        self.out_proj = Linear(internal, dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, self.heads, self.head_dim).transpose(0, 1)

    def _heads(self, linear: Linear) -> torch.Tensor:
        """A projection's weight [in, internal] as per-head matrices [heads, in, head_dim]."""
        return linear.weight.reshape(-1, self.heads, self.head_dim).transpose(0, 1)

    def _merge(self, out: torch.Tensor) -> torch.Tensor:
        return self.out_proj(out.transpose(0, 1).reshape(-1, self.internal))

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.q_proj(q)), self._split(self.k_proj(k)), self._split(self.v_proj(v))
        logits = (q @ k.transpose(1, 2)) / math.sqrt(self.head_dim)
        return self._merge(torch.softmax(logits, dim=-1) @ v)

    def tokens_to_image(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """forward() for a few token queries over the image's keys and values, without projecting them.

        q.(k Wk + bk) = (q Wk^T).k, less q.bk, which is the same for every key (softmax ignores it);
        softmax rows sum to 1, so P (v Wv + bv) = (P v) Wv + bv. The image-sized matmuls then cost
        heads * tokens instead of internal columns: fewer while tokens < head_dim (points + 6 < 24 for
        ViT-B). All heads' rows go through each image-sized matmul together: one 2D MatMul each, the
        shape ONNX Runtime runs fastest (a per-head batch repacks the image for every head).
        """
        q = self._split(self.q_proj(q)) / math.sqrt(self.head_dim)
        queries = (q @ self._heads(self.k_proj).transpose(1, 2)).reshape(-1, self.dim)  # [heads * tokens, dim]
        attended = torch.softmax(queries @ k.transpose(0, 1), dim=-1) @ v
        bias = self.v_proj.bias.reshape(self.heads, 1, self.head_dim)
        return self._merge(attended.reshape(self.heads, -1, self.dim) @ self._heads(self.v_proj) + bias)

    def image_to_tokens(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """forward() for the image's queries over a few tokens, without projecting the image.

        (q Wq + bq).k = q (Wq k^T) + bq.k, and the heads' outputs meet in out_proj as
        sum_h P_h (v_h Wo_h): one matmul over (head, token) pairs. Cheaper as in tokens_to_image;
        the logits of all heads come from one 2D MatMul with bias (a Gemm) as [image, heads * tokens].
        """
        k, v = self._split(self.k_proj(k)), self._split(self.v_proj(v))
        keys = k.transpose(1, 2) / math.sqrt(self.head_dim)  # [heads, head_dim, tokens]
        weights = (self._heads(self.q_proj) @ keys).transpose(0, 1).reshape(self.dim, -1)  # [dim, heads * tokens]
        bias = (self.q_proj.bias.reshape(self.heads, 1, self.head_dim) @ keys).reshape(1, -1)
        logits = (q @ weights + bias).reshape(q.shape[0], self.heads, -1)  # [image, heads, tokens]
        values = v @ self.out_proj.weight.reshape(self.heads, self.head_dim, self.dim)  # [heads, tokens, dim]
        return torch.softmax(logits, dim=-1).reshape(q.shape[0], -1) @ values.reshape(-1, self.dim) + self.out_proj.bias


class TwoWayBlock(nn.Module):
    def __init__(self, config: SamMed3DConfig, skip_first_pe: bool) -> None:
        super().__init__()
        dim, heads, inner = config.prompt_embed_dim, config.decoder_num_heads, config.decoder_attention_dim
        self.skip_first_pe = skip_first_pe
        self.self_attn = TokenAttention(dim, dim, heads)
        self.norm1 = Norm(dim, TOKEN_LN_EPS)
        self.cross_attn_token_to_image = TokenAttention(dim, inner, heads)
        self.norm2 = Norm(dim, TOKEN_LN_EPS)
        self.mlp = Mlp(dim, config.decoder_mlp_dim, torch.relu)
        self.norm3 = Norm(dim, TOKEN_LN_EPS)
        self.norm4 = Norm(dim, TOKEN_LN_EPS)
        self.cross_attn_image_to_token = TokenAttention(dim, inner, heads)

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_first_pe:
            queries = self.self_attn(queries, queries, queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries)
        queries = self.norm1(queries)
        keys_pe = keys + key_pe
        attended = self.cross_attn_token_to_image.tokens_to_image(queries + query_pe, keys_pe, keys)
        queries = self.norm2(queries + attended)
        queries = self.norm3(queries + self.mlp(queries))
        keys = self.norm4(keys + self.cross_attn_image_to_token.image_to_tokens(keys_pe, queries + query_pe, queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, config: SamMed3DConfig) -> None:
        super().__init__()
        dim = config.prompt_embed_dim
        self.layers = nn.ModuleList(TwoWayBlock(config, i == 0) for i in range(config.decoder_depth))
        self.final_attn_token_to_image = TokenAttention(dim, config.decoder_attention_dim, config.decoder_num_heads)
        self.norm_final_attn = Norm(dim, TOKEN_LN_EPS)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor, points: torch.Tensor, outputs: int):
        """Returns the first `outputs` tokens only: the final attention and norm treat each token
        on its own, so the tokens nobody reads are left out of them."""
        queries, keys = points, image
        for layer in self.layers:
            queries, keys = layer(queries, keys, points, image_pe)
        queries, points = queries[:outputs], points[:outputs]
        queries = queries + self.final_attn_token_to_image.tokens_to_image(queries + points, keys + image_pe, keys)
        return self.norm_final_attn(queries), keys


class HyperMlp(nn.Module):
    """The official 3-layer MLP with ReLU between layers (layers.0 .. layers.2)."""

    def __init__(self, dim: int, hidden: int, out: int, depth: int) -> None:
        super().__init__()
        sizes = [dim] + [hidden] * (depth - 1) + [out]
        self.layers = nn.ModuleList(Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


class OutputUpscaling(nn.ModuleDict):
    """ConvT(k2,s2) -> LN -> GELU -> ConvT(k2,s2) -> GELU (the official 0, 1, 3) as two Gemms.

    The first keeps channels last (the LayerNorm's axis), the second writes channels first, rows
    (channel, kd2, kh2, kw2) and columns (voxel, kd1, kh1, kw1): see ops.subvoxels_to_grid.
    """

    def __init__(self, dim: int) -> None:
        super().__init__({"0": ConvTranspose(dim, dim // 4), "1": Norm(dim // 4, ENCODER_LN_EPS),
                          "3": ConvTranspose(dim // 4, dim // 8, channels_first=True)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[G^3, dim] -> [dim / 8 * 8, G^3 * 8]."""
        x = ops.gelu(self["1"](ops.conv_transpose_k2s2(x, self["0"].weight, self["0"].bias)))
        return ops.gelu(ops.conv_transpose_k2s2_columns(x, self["3"].weight, self["3"].bias))


class MaskDecoder(nn.Module):
    def __init__(self, config: SamMed3DConfig) -> None:
        super().__init__()
        dim = config.prompt_embed_dim
        self.transformer = TwoWayTransformer(config)
        self.iou_token = Embedding(1, dim)
        self.mask_tokens = Embedding(config.num_mask_tokens, dim)
        self.output_upscaling = OutputUpscaling(dim)
        self.upscaled_channels = dim // 8
        self.output_hypernetworks_mlps = nn.ModuleList(
            HyperMlp(dim, dim, dim // 8, 3) for _ in range(config.num_mask_tokens))
        self.iou_prediction_head = HyperMlp(dim, config.iou_head_hidden_dim, config.num_mask_tokens, 3)

    def forward(self, image: torch.Tensor, image_pe: torch.Tensor, points: torch.Tensor, grid: int):
        """Single-mask output (mask token 0): logits [4G, 4G, 4G], iou [1]."""
        tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight, points], dim=0)
        hs, image = self.transformer(image, image_pe, tokens, 2)  # the IoU token and mask token 0
        hyper = self.output_hypernetworks_mlps[0](hs[1])
        # Logits per sub-voxel first, placed on the grid after: only 1 channel is ever shuffled.
        features = self.output_upscaling(image).reshape(self.upscaled_channels, -1)
        return ops.subvoxels_to_grid(hyper @ features, grid), self.iou_prediction_head(hs[0])[:1]


# ---------------------------------------------------------------- graphs

class SamMed3D(nn.Module):
    """Holds every checkpoint tensor under its official name; the two graphs share its parts."""

    def __init__(self, config: SamMed3DConfig, optimized: bool = True) -> None:
        super().__init__()
        self.config = config
        self.image_encoder = ImageEncoder(config, optimized)
        self.prompt_encoder = PromptEncoder(config)
        self.mask_decoder = MaskDecoder(config)


class EncoderGraph(nn.Module):
    """image [1,1,S,S,S] -> embeddings [1,prompt_embed_dim,G,G,G] (384 for turbo)."""

    def __init__(self, model: SamMed3D) -> None:
        super().__init__()
        self.image_encoder = model.image_encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.image_encoder(image)


class DecoderGraph(nn.Module):
    """(embeddings, point_coords [1,N,3], point_labels [1,N], mask_input) -> (low_res_logits, iou_predictions)."""

    def __init__(self, model: SamMed3D) -> None:
        super().__init__()
        self.config = model.config
        self.prompt_encoder = model.prompt_encoder
        self.mask_decoder = model.mask_decoder

    def forward(self, embeddings, point_coords, point_labels, mask_input):
        g, m = self.config.grid, self.config.mask_size
        points = self.prompt_encoder.embed_points(point_coords[0], point_labels[0])
        dense = self.prompt_encoder.mask_downscaling(mask_input.reshape(m, m, m, 1))
        image = embeddings.reshape(-1, g * g * g).transpose(0, 1) + dense
        logits, iou = self.mask_decoder(image, self.prompt_encoder.dense_pe(), points, g)
        return logits.reshape(1, 1, m, m, m), iou.reshape(1, 1)
