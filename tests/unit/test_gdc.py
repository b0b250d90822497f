import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.mutual import fix_sign, gdc_foreground
from cliplens.explanation.mutual.gdc import keep_main_regions


def shared_plus_distinct(rng, channels):
    """Two directions with a common part, as patch tokens share one (angle well under 90 deg:
    the uncentred second singular vector only splits clusters on the same side)."""
    return rng.normal(size=channels) + 0.7 * rng.normal(size=(2, channels))


def two_region_features(object_mask, seed=0, channels=16):
    """Patch features: one direction inside `object_mask`, another outside, plus noise."""
    rng = np.random.default_rng(seed)
    base = shared_plus_distinct(rng, channels)
    mask = np.asarray(object_mask).reshape(-1)
    feats = np.where(mask[:, None], base[0], base[1]) + 0.05 * rng.normal(size=(mask.size,
                                                                               channels))
    return feats.astype(np.float32)


def test_fix_sign_rules():
    mixed = np.array([1.0, -1.0, -2.0, -3.0])  # a quarter positive
    np.testing.assert_array_equal(fix_sign(mixed, "majority"), -mixed)
    np.testing.assert_array_equal(fix_sign(mixed, "minority"), mixed)
    np.testing.assert_array_equal(fix_sign(-mixed, "minority"), mixed)
    np.testing.assert_array_equal(fix_sign(np.ones(3), "majority"), np.ones(3))
    with pytest.raises(InvalidArgument, match="'majority' or 'minority'"):
        fix_sign(mixed, "largest")


def test_foreground_is_the_side_the_rule_picks():
    obj = np.zeros((6, 6), dtype=bool)
    obj[1:4, 1:4] = True  # 9 of 36 patches: the minority
    feats = two_region_features(obj)
    before = feats.copy()
    np.testing.assert_array_equal(gdc_foreground(feats, (6, 6), positive="minority")[0], obj)
    majority = gdc_foreground(feats, (6, 6), positive="majority")
    assert majority.shape == (1, 6, 6) and majority.dtype == bool
    np.testing.assert_array_equal(majority[0], ~obj)
    np.testing.assert_array_equal(feats, before)
    # A = f f^T is blind to the features' sign, and the sign rule removes SVD's
    np.testing.assert_array_equal(gdc_foreground(-feats, (6, 6), positive="minority")[0], obj)


def test_pooled_batch_keeps_per_image_regions():
    a = np.zeros((5, 5), dtype=bool)
    a[:2, :2] = True
    b = np.zeros((5, 5), dtype=bool)
    b[3:, 2:] = True
    rng = np.random.default_rng(1)
    base = shared_plus_distinct(rng, 8)
    feats = np.stack([np.where(m.reshape(-1)[:, None], base[0], base[1]) for m in (a, b)])
    feats = (feats + 0.05 * rng.normal(size=feats.shape)).astype(np.float32)
    fg = gdc_foreground(feats, (5, 5), positive="minority")
    np.testing.assert_array_equal(fg, np.stack([a, b]))
    flat = gdc_foreground(feats.reshape(50, 8), (5, 5), positive="minority")
    np.testing.assert_array_equal(flat, fg)
    with pytest.raises(InvalidArgument, match="drop the class token"):
        gdc_foreground(feats[:, :24], (5, 5))


def test_largest_region_and_a_second_of_at_least_five():
    mask = np.zeros((6, 8), dtype=bool)
    mask[0, :7] = True  # 7 patches
    mask[3:5, 0:3] = True  # 6 patches
    mask[5, 6:8] = True  # 2 patches
    kept = keep_main_regions(mask)
    assert kept.sum() == 13 and not kept[5, 6:].any()
    mask[4, :3] = False  # the second region drops to 3 patches
    assert keep_main_regions(mask).sum() == 7
    assert not keep_main_regions(np.zeros((3, 3), dtype=bool)).any()


@pytest.mark.parametrize("shape", [(30, 8), (6, 20)])
def test_fiedler_component_is_the_second_left_singular_vector(shape):
    from cliplens.explanation.mutual import fiedler_component

    rng = np.random.default_rng(2)
    feats = rng.normal(size=shape).astype(np.float32) + 1.0
    rows = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    expected = np.linalg.svd(rows.astype(np.float64), full_matrices=False)[0][:, 1]
    got = fiedler_component(feats)
    np.testing.assert_allclose(got * np.sign(got @ expected), expected, atol=1e-6)
