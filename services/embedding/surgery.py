"""Dense tokens of stock open_clip image towers, raw and through the CLIP Surgery dual path.

Pure torch forward functions over the unmodified modules (specs/surgery.md, sections 1 and 2):
intermediate tokens are read by running the tower's own pieces in order, never by patching or
hooking the shared model, and a resampled position embedding lives only for the call.

ViT (open_clip `VisionTransformer` with OpenAI-style `ResidualAttentionBlock`s:
`nn.MultiheadAttention`, batch first, class-token pooling, no attentional pooler). The dual
path covers the last `depth` blocks: both paths attend over the original path's `ln_1`
features; the new path uses v-v attention and skips the FFN; its class token is replaced by the
original path's, so token 0 equals `encode_image`. The default depth is the last
`min(6, n_layers)` blocks (the paper's 6). A model with 6 blocks or fewer (toyworld) is thus
covered entirely: its new path starts from the patch embeddings themselves, the shallowest the
rule allows; a registry entry's `surgery_depth` overrides the default.

ResNet (open_clip `ModifiedResNet`): the attention pool is replaced as in the paper's ResNet
branch: q, k and v all come from `v_proj` (q and k L2-normalised per head, the scale multiplied
by 8), output through `c_proj`, over [mean token, spatial tokens] with the (resampled) position
embedding. The authors' released code never enables that branch: for ResNets it runs plain v-v
attention (q = k = v, no normalisation, the usual scale); cliplens follows the paper. "Class
token" there means the attention pool's output for the mean token through the original q-k
attention, which is exactly `encode_image`; it replaces the new path's token 0 as for ViTs.
Raw tokens are the original attention pool's output for every token.

Keys of the last attention layer: `ln_1(x) @ W_k^T + b_k` of the last block for ViTs, `k_proj`
of the pooled input for ResNets, every token; `key_bias` is b_k (the mutual-knowledge authors'
code uses the keys without it). `residual` is the raw path before the projection to the joint
space: the last block's output before `ln_post` and `proj` for ViTs (the authors' patch
features), the attention pool's input for ResNets.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from cliplens.core.errors import InvalidArgument, Unimplemented

PAPER_DEPTH = 6
# Temperature multiplier of the ResNet v-v attention (the paper's ResNet branch).
RESNET_SCALE_MULTIPLIER = 8.0


@dataclasses.dataclass(frozen=True)
class VisionSpec:
    """What an image tower is, as far as dense tokens are concerned."""

    kind: str  # "vit", "resnet" or "other"
    layers: int
    image_size: tuple[int, int]
    # Input pixels per grid cell (the patch size; 32 for ResNets).
    stride: tuple[int, int]
    grid: tuple[int, int]
    # Why dense tokens are unsupported ("" when they are).
    unsupported: str = ""

    def grid_for(self, height: int, width: int) -> tuple[int, int]:
        """The grid of an input of `height` x `width` pixels."""
        return height // self.stride[0], width // self.stride[1]


@dataclasses.dataclass
class DenseTokens:
    """Dense outputs of one forward pass, all (B, 1 + h*w, ...) with token 0 first."""

    raw: torch.Tensor
    keys: torch.Tensor
    grid: tuple[int, int]
    # None when the surgery path was not asked for.
    surgery: torch.Tensor | None = None
    # The raw path before the projection (see the module docstring), and the keys' bias.
    residual: torch.Tensor | None = None
    key_bias: torch.Tensor | None = None


def _pair(x) -> tuple[int, int]:
    return (int(x[0]), int(x[1])) if isinstance(x, (tuple, list)) else (int(x), int(x))


def inspect_visual(visual: nn.Module) -> VisionSpec:
    """Describe `visual`, with the reason when its dense tokens are unsupported."""
    from open_clip.modified_resnet import AttentionPool2d, ModifiedResNet
    from open_clip.transformer import ResidualAttentionBlock, VisionTransformer

    if isinstance(visual, VisionTransformer):
        size, patch = _pair(visual.image_size), _pair(visual.patch_size)
        blocks = visual.transformer.resblocks
        spec = VisionSpec("vit", len(blocks), size, patch, _pair(visual.grid_size))
        reason = ""
        if visual.attn_pool is not None:
            reason = "ViT with an attentional pooler (attn_pool)"
        elif visual.pool_type != "tok":
            reason = f"ViT with pool_type {visual.pool_type!r} (class-token pooling needed)"
        elif visual.proj is None:
            reason = "ViT without an output projection (proj)"
        elif not visual.transformer.batch_first:
            reason = "ViT with sequence-first blocks (batch_first=False)"
        else:
            for i, blk in enumerate(blocks):
                if not isinstance(blk, ResidualAttentionBlock):
                    reason = (f"block {i} is {type(blk).__name__} (only OpenAI-style "
                              f"ResidualAttentionBlock is supported)")
                    break
                if (not isinstance(blk.attn, nn.MultiheadAttention)
                        or blk.attn.in_proj_weight is None or hasattr(blk, "ln_1_kv")):
                    reason = (f"block {i}: attention is not a self-attention "
                              f"nn.MultiheadAttention with stacked in_proj q;k;v")
                    break
        return dataclasses.replace(spec, unsupported=reason)
    if isinstance(visual, ModifiedResNet):
        size = _pair(visual.image_size)
        layers = sum(len(getattr(visual, f"layer{i}")) for i in range(1, 5))
        spec = VisionSpec("resnet", layers, size, (32, 32), (size[0] // 32, size[1] // 32))
        if not isinstance(visual.attnpool, AttentionPool2d):
            return dataclasses.replace(spec, unsupported="ResNet without AttentionPool2d")
        return spec
    name = type(visual).__name__
    size = _pair(getattr(visual, "image_size", (0, 0)))
    reason = (f"image tower {name} (timm towers use attn.qkv/attn.proj)" if "Timm" in name
              else f"image tower {name}")
    return VisionSpec("other", 0, size, (1, 1), (0, 0),
                      unsupported=f"{reason}: only open_clip OpenAI-style ViTs and "
                                  f"ModifiedResNet are supported")


def default_depth(spec: VisionSpec) -> int:
    """Blocks the dual path covers unless an entry says otherwise (1 for ResNets: the pool)."""
    if spec.kind == "resnet":
        return 1
    return min(PAPER_DEPTH, spec.layers) if spec.kind == "vit" else 0


def check_input(spec: VisionSpec, height: int, width: int, *, name: str = "pixels") -> None:
    """InvalidArgument unless the input size fits the tower's stride."""
    sh, sw = spec.stride
    if height < sh or width < sw or height % sh or width % sw:
        raise InvalidArgument(f"{name}: input size {height}x{width} must be positive multiples "
                              f"of {sh}x{sw} for this model")


def resample_grid(pos: torch.Tensor, old: tuple[int, int], new: tuple[int, int]) -> torch.Tensor:
    """(1 + old grid, C) position embedding -> (1 + new grid, C), bilinear, token 0 kept."""
    if tuple(old) == tuple(new):
        return pos
    lead, grid = pos[:1], pos[1:]
    channels = grid.shape[-1]
    grid = grid.reshape(1, old[0], old[1], channels).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=new, mode="bilinear", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(new[0] * new[1], channels).to(pos.dtype)
    return torch.cat([lead, grid], dim=0)


def dense_tokens(visual: nn.Module, pixels: torch.Tensor, *, spec: VisionSpec, depth: int,
                 surgery: bool) -> DenseTokens:
    """Raw tokens, keys and (when `surgery`) the surgery tokens of `pixels` (B, 3, H, W)."""
    if spec.unsupported:
        raise Unimplemented(f"dense tokens: unsupported model: {spec.unsupported}")
    check_input(spec, pixels.shape[-2], pixels.shape[-1])
    if spec.kind == "vit":
        return vit_dense(visual, pixels, spec=spec, depth=depth, surgery=surgery)
    return resnet_dense(visual, pixels, spec=spec, surgery=surgery)


def _heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    b, n, c = t.shape
    return t.reshape(b, n, heads, c // heads).transpose(1, 2)


def _merge(t: torch.Tensor) -> torch.Tensor:
    b, h, n, d = t.shape
    return t.transpose(1, 2).reshape(b, n, h * d)


def _project(visual: nn.Module, x: torch.Tensor) -> torch.Tensor:
    # LayerNorm is per token, so ln_post on every token then proj matches both
    # final_ln_after_pool settings for the class token.
    return visual.ln_post(x) @ visual.proj


def _vit_embed(visual: nn.Module, pixels: torch.Tensor, spec: VisionSpec) -> torch.Tensor:
    x = visual.conv1(pixels.to(visual.conv1.weight.dtype))
    grid = (x.shape[-2], x.shape[-1])
    x = x.flatten(2).transpose(1, 2)
    cls = visual.class_embedding.to(x.dtype).reshape(1, 1, -1).expand(x.shape[0], -1, -1)
    x = torch.cat([cls, x], dim=1)
    x = x + resample_grid(visual.positional_embedding, spec.grid, grid).to(x.dtype)
    x = visual.patch_dropout(x)
    return visual.ln_pre(x)


def vit_dense(visual: nn.Module, pixels: torch.Tensor, *, spec: VisionSpec, depth: int,
              surgery: bool) -> DenseTokens:
    """Dense tokens of an OpenAI-style open_clip ViT (see the module docstring)."""
    grid = spec.grid_for(pixels.shape[-2], pixels.shape[-1])
    x = _vit_embed(visual, pixels, spec)
    blocks = visual.transformer.resblocks
    n_plain = len(blocks) - (depth if surgery else 1)
    for blk in blocks[:n_plain]:
        x = blk(x)
    x_ori, x_new, keys = x, x, None
    for blk in blocks[n_plain:]:
        attn = blk.attn
        heads = attn.num_heads
        h = blk.ln_1(x_ori)
        q, k, v = F.linear(h, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
        keys = k
        key_bias = (attn.in_proj_bias.chunk(3)[1] if attn.in_proj_bias is not None
                    else torch.zeros_like(k[0, 0]))
        qh, kh, vh = _heads(q, heads), _heads(k, heads), _heads(v, heads)
        a_qk = attn.out_proj(_merge(F.scaled_dot_product_attention(qh, kh, vh)))
        if surgery:
            a_vv = attn.out_proj(_merge(F.scaled_dot_product_attention(vh, vh, vh)))
            x_new = x_new + blk.ls_1(a_vv)
        x_ori = x_ori + blk.ls_1(a_qk)
        x_ori = x_ori + blk.ls_2(blk.mlp(blk.ln_2(x_ori)))
    raw = _project(visual, x_ori)
    tokens = None
    if surgery:
        tokens = _project(visual, torch.cat([x_ori[:, :1], x_new[:, 1:]], dim=1))
    return DenseTokens(raw=raw, keys=keys, grid=grid, surgery=tokens, residual=x_ori,
                       key_bias=key_bias)


def resnet_dense(visual: nn.Module, pixels: torch.Tensor, *, spec: VisionSpec,
                 surgery: bool) -> DenseTokens:
    """Dense tokens of an open_clip ModifiedResNet (see the module docstring)."""
    x = visual.stem(pixels.to(visual.conv1.weight.dtype))
    x = visual.layer4(visual.layer3(visual.layer2(visual.layer1(x))))
    grid = (x.shape[-2], x.shape[-1])
    pool = visual.attnpool
    t = x.flatten(2).permute(2, 0, 1)  # (hw, B, C), the layout AttentionPool2d uses
    t = torch.cat([t.mean(dim=0, keepdim=True), t], dim=0)
    side = int(math.isqrt(pool.positional_embedding.shape[0] - 1))
    pos = resample_grid(pool.positional_embedding, (side, side), grid)
    t = t + pos[:, None, :].to(t.dtype)
    ori, _ = F.multi_head_attention_forward(
        query=t, key=t, value=t, embed_dim_to_check=t.shape[-1], num_heads=pool.num_heads,
        q_proj_weight=pool.q_proj.weight, k_proj_weight=pool.k_proj.weight,
        v_proj_weight=pool.v_proj.weight, in_proj_weight=None,
        in_proj_bias=torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]),
        bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
        out_proj_weight=pool.c_proj.weight, out_proj_bias=pool.c_proj.bias,
        use_separate_proj_weight=True, training=False, need_weights=False)
    raw = ori.transpose(0, 1)
    tb = t.transpose(0, 1)
    keys = F.linear(tb, pool.k_proj.weight, pool.k_proj.bias)
    tokens = None
    if surgery:
        vh = _heads(F.linear(tb, pool.v_proj.weight, pool.v_proj.bias), pool.num_heads)
        unit = vh / (vh.norm(p=2, dim=-1, keepdim=True) + 1e-6)
        scale = vh.shape[-1] ** -0.5 * RESNET_SCALE_MULTIPLIER
        attn = torch.softmax((unit @ unit.transpose(-2, -1)) * scale, dim=-1)
        new = pool.c_proj(_merge(attn @ vh))
        tokens = torch.cat([raw[:, :1], new[:, 1:]], dim=1)
    return DenseTokens(raw=raw, keys=keys, grid=grid, surgery=tokens, residual=tb,
                       key_bias=pool.k_proj.bias)
