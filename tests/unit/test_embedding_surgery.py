"""Dense tokens: the CLIP Surgery dual path against the spec's oracle and encode_image."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from cliplens.core.errors import InvalidArgument, Unimplemented
from cliplens.embedding import surgery
from cliplens.embedding.loading import build
from cliplens.embedding.registry import ModelEntry

TOYWORLD_CONFIG = Path(__file__).resolve().parents[2] / "services/toyworld/model/toyworld.json"
_MODELS: dict[str, torch.nn.Module] = {}


def model(name: str) -> torch.nn.Module:
    """toyworld (config, random weights), ViT-B-16/random or RN50/random, built once."""
    if name not in _MODELS:
        entry = (ModelEntry(name="tw", config=TOYWORLD_CONFIG, random_weights=True)
                 if name == "toyworld" else
                 ModelEntry(name=name, architecture=name.split("/")[0], random_weights=True))
        _MODELS[name] = build(entry).model
    return _MODELS[name]


def _pixels(visual, batch=2, seed=0, extra=(0, 0)):
    spec = surgery.inspect_visual(visual)
    h, w = spec.image_size
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, h + extra[0], w + extra[1], generator=g)


def _dense(m, x, *, depth=None, want=True):
    spec = surgery.inspect_visual(m.visual)
    with torch.inference_mode():
        return surgery.dense_tokens(m.visual, x, spec=spec,
                                    depth=depth or surgery.default_depth(spec), surgery=want)


@pytest.mark.parametrize("name", ["toyworld", "ViT-B-16/random", "RN50/random"])
def test_class_token_equals_encode_image(name):
    m = model(name)
    x = _pixels(m.visual)
    with torch.inference_mode():
        ref = m.encode_image(x)
    out = _dense(m, x)
    spec = surgery.inspect_visual(m.visual)
    n = spec.grid[0] * spec.grid[1]
    assert out.surgery.shape == out.raw.shape == (2, 1 + n, ref.shape[-1])
    tol = 1e-4 * float(ref.abs().max())
    assert torch.allclose(out.surgery[:, 0], ref, atol=tol, rtol=1e-4)
    assert torch.allclose(out.raw[:, 0], ref, atol=tol, rtol=1e-4)
    assert out.grid == spec.grid
    # The surgery path changes the patch tokens (it would be useless otherwise).
    assert not torch.allclose(out.surgery[:, 1:], out.raw[:, 1:], atol=1e-3)


def _attend(blk, q, k, v):
    """softmax(scale q kᵀ) v per head, then out_proj, with explicit head slices."""
    heads = blk.attn.num_heads
    d = q.shape[-1] // heads
    outs = []
    for i in range(heads):
        s = slice(i * d, (i + 1) * d)
        a = torch.softmax((q[..., s] @ k[..., s].transpose(-1, -2)) * d ** -0.5, -1)
        outs.append(a @ v[..., s])
    return blk.attn.out_proj(torch.cat(outs, -1))


def _oracle_vit(visual, x, depth):
    """specs/surgery.md section 1, written out with explicit per-head attention."""
    x = visual._embeds(x)
    blocks = visual.transformer.resblocks
    for blk in blocks[:-depth]:
        x = blk(x)
    x_ori, x_new = x, x
    for blk in blocks[-depth:]:
        width = x.shape[-1]
        h = blk.ln_1(x_ori)
        w, b = blk.attn.in_proj_weight, blk.attn.in_proj_bias
        q = h @ w[:width].T + b[:width]
        k = h @ w[width:2 * width].T + b[width:2 * width]
        v = h @ w[2 * width:].T + b[2 * width:]

        a_qk, a_vv = _attend(blk, q, k, v), _attend(blk, v, v, v)
        x_ori = x_ori + blk.ls_1(a_qk)
        x_ori = x_ori + blk.ls_2(blk.mlp(blk.ln_2(x_ori)))
        x_new = x_new + blk.ls_1(a_vv)
    x_new = x_new.clone()
    x_new[:, 0] = x_ori[:, 0]
    return visual.ln_post(x_new) @ visual.proj


@pytest.mark.parametrize("depth", [1, 3, 6])
def test_vit_surgery_matches_the_spec_oracle(depth):
    m = model("toyworld")
    x = _pixels(m.visual)
    with torch.inference_mode():
        want = _oracle_vit(m.visual, x, depth)
    got = _dense(m, x, depth=depth).surgery
    assert torch.allclose(got, want, atol=1e-4, rtol=1e-4)


def test_raw_tokens_and_keys_are_the_stock_forwards():
    m = model("toyworld")
    v = m.visual
    x = _pixels(v)
    with torch.inference_mode():
        h = v._embeds(x)
        for blk in v.transformer.resblocks[:-1]:
            h = blk(h)
        last = v.transformer.resblocks[-1]
        width = h.shape[-1]
        keys = (last.ln_1(h) @ last.attn.in_proj_weight[width:2 * width].T
                + last.attn.in_proj_bias[width:2 * width])
        stock = v.ln_post(v.transformer(v._embeds(x))) @ v.proj
    out = _dense(m, x, want=False)
    assert out.surgery is None
    assert out.keys.shape == (2, 101, 96)
    assert torch.allclose(out.keys, keys, atol=1e-5)
    assert torch.allclose(out.raw, stock, atol=1e-5)
    # The mutual-knowledge authors' features: before ln_post and proj, keys without the bias.
    assert torch.allclose(out.residual, v.transformer(v._embeds(x)), atol=1e-5)
    assert torch.allclose(out.keys - out.key_bias,
                          last.ln_1(h) @ last.attn.in_proj_weight[width:2 * width].T, atol=1e-5)


def test_other_input_sizes_resample_positions_without_touching_the_model():
    m = model("toyworld")
    pos = m.visual.positional_embedding.detach().clone()
    x = _pixels(m.visual, batch=1, extra=(16, 40))
    before = x.clone()
    out = _dense(m, x)
    assert out.grid == (12, 15)
    assert out.surgery.shape == (1, 1 + 12 * 15, 128)
    assert torch.equal(m.visual.positional_embedding, pos)
    assert tuple(m.visual.positional_embedding.shape) == (101, 96)
    assert torch.equal(x, before)
    # Same-size calls still equal encode_image after a resampled call.
    y = _pixels(m.visual)
    with torch.inference_mode():
        assert torch.allclose(_dense(m, y).surgery[:, 0], m.encode_image(y), atol=1e-5)


def test_resample_grid_keeps_the_leading_token_and_is_identity_at_the_same_size():
    pos = torch.randn(1 + 4 * 4, 8)
    assert surgery.resample_grid(pos, (4, 4), (4, 4)) is pos
    out = surgery.resample_grid(pos, (4, 4), (8, 2))
    assert out.shape == (17, 8)
    assert torch.equal(out[0], pos[0])
    const = torch.cat([torch.zeros(1, 3), torch.ones(9, 3) * 2.5])
    assert torch.allclose(surgery.resample_grid(const, (3, 3), (5, 7))[1:], torch.tensor(2.5))


def test_input_sizes_must_fit_the_patch_grid():
    m = model("toyworld")
    with pytest.raises(InvalidArgument, match="multiples of 8x8"):
        _dense(m, torch.zeros(1, 3, 84, 80))


def _tiny_resnet():
    from open_clip.modified_resnet import ModifiedResNet

    torch.manual_seed(0)
    return ModifiedResNet(layers=[1, 1, 1, 1], output_dim=16, heads=4, image_size=64,
                          width=8).eval()


def test_resnet_surgery_matches_the_reference_formula():
    visual = _tiny_resnet()
    spec = surgery.inspect_visual(visual)
    assert (spec.kind, spec.grid, spec.stride) == ("resnet", (2, 2), (32, 32))
    x = torch.randn(2, 3, 64, 64)
    with torch.inference_mode():
        out = surgery.dense_tokens(visual, x, spec=spec, depth=1, surgery=True)
        f = visual.layer4(visual.layer3(visual.layer2(visual.layer1(visual.stem(x)))))
        t = f.flatten(2).transpose(1, 2)
        t = torch.cat([t.mean(1, keepdim=True), t], 1) + visual.attnpool.positional_embedding
        pool = visual.attnpool
        v = pool.v_proj(t)
        heads, d = pool.num_heads, v.shape[-1] // pool.num_heads
        outs = []
        for i in range(heads):
            vi = v[..., i * d:(i + 1) * d]
            u = vi / (vi.norm(dim=-1, keepdim=True) + 1e-6)
            a = torch.softmax(u @ u.transpose(-1, -2) * d ** -0.5 * 8, -1)
            outs.append(a @ vi)
        want = pool.c_proj(torch.cat(outs, -1))
        ref = visual(x)
        keys = pool.k_proj(t)
    assert torch.allclose(out.surgery[:, 1:], want[:, 1:], atol=1e-5)
    assert torch.allclose(out.surgery[:, 0], ref, atol=1e-5)
    assert torch.allclose(out.raw[:, 0], ref, atol=1e-5)
    assert torch.allclose(out.keys, keys, atol=1e-5)
    assert torch.allclose(out.residual, t, atol=1e-5)
    assert torch.allclose(out.key_bias, pool.k_proj.bias)


def test_resnet_other_sizes_resample_the_pool_positions():
    visual = _tiny_resnet()
    pos = visual.attnpool.positional_embedding.detach().clone()
    spec = surgery.inspect_visual(visual)
    with torch.inference_mode():
        out = surgery.dense_tokens(visual, torch.randn(1, 3, 96, 128), spec=spec, depth=1,
                                   surgery=True)
    assert out.grid == (3, 4) and out.surgery.shape == (1, 13, 16)
    assert torch.equal(visual.attnpool.positional_embedding, pos)


def test_default_depth_rule():
    spec = surgery.VisionSpec("vit", 12, (224, 224), (16, 16), (14, 14))
    assert surgery.default_depth(spec) == 6
    assert surgery.default_depth(surgery.VisionSpec("vit", 4, (80, 80), (8, 8), (10, 10))) == 4
    assert surgery.default_depth(surgery.VisionSpec("resnet", 16, (224, 224), (32, 32),
                                                    (7, 7))) == 1


def _vit(**kw):
    from open_clip.transformer import VisionTransformer

    return VisionTransformer(image_size=32, patch_size=8, width=32, layers=2, heads=2,
                             mlp_ratio=2.0, output_dim=16, **kw).eval()


class TimmModel(nn.Module):
    """Stands in for open_clip's timm tower (only its name matters here)."""

    image_size = (224, 224)


@pytest.mark.parametrize("visual, reason", [
    (lambda: _vit(attentional_pool=True, attn_pooler_queries=4, attn_pooler_heads=2),
     "attentional pooler"),
    (lambda: _vit(pool_type="avg"), "pool_type 'avg'"),
    (lambda: _vit(qk_norm=True), "only OpenAI-style ResidualAttentionBlock"),
    (lambda: TimmModel(), "timm towers"),
])
def test_unsupported_towers_are_refused_by_name(visual, reason):
    v = visual()
    spec = surgery.inspect_visual(v)
    assert reason in spec.unsupported
    assert surgery.default_depth(spec) == 0 or spec.kind == "vit"
    with pytest.raises(Unimplemented, match="unsupported model"):
        surgery.dense_tokens(v, torch.zeros(1, 3, 32, 32), spec=spec, depth=1, surgery=True)


def test_supported_spec_of_a_plain_vit():
    spec = surgery.inspect_visual(_vit())
    assert spec.unsupported == "" and spec.grid == (4, 4) and spec.layers == 2
    assert spec.grid_for(48, 64) == (6, 8)
    assert math.prod(spec.grid) == 16
