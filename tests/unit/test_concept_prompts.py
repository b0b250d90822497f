import math

import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.blur import gaussian_blur
from cliplens.explanation.mutual import (
    concept_embeddings,
    concept_prompt_images,
    fit_ellipse,
    labels_to_masks,
)


def ellipse_mask(shape, cx, cy, a, b, angle):
    y, x = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    dx, dy = x - cx, y - cy
    u = (dx * math.cos(angle) + dy * math.sin(angle)) / a
    v = (-dx * math.sin(angle) + dy * math.cos(angle)) / b
    return u ** 2 + v ** 2 <= 1


@pytest.mark.parametrize("angle", [0.0, math.pi / 4, 1.2])
def test_fit_ellipse_recovers_a_drawn_ellipse(angle):
    ellipse = fit_ellipse(ellipse_mask((80, 90), 41.0, 37.5, 20.0, 8.0, angle))
    assert ellipse.cx == pytest.approx(41.0, abs=0.1) and ellipse.cy == pytest.approx(37.5, abs=0.1)
    assert ellipse.a == pytest.approx(20.0, abs=0.3) and ellipse.b == pytest.approx(8.0, abs=0.3)
    assert math.cos(2 * (ellipse.angle - angle)) == pytest.approx(1.0, abs=1e-3)  # axis, not sign


def test_fit_ellipse_of_one_pixel_and_of_nothing():
    single = np.zeros((5, 5), dtype=bool)
    single[2, 3] = True
    ellipse = fit_ellipse(single)
    assert (ellipse.cx, ellipse.cy) == (3.5, 2.5) and ellipse.a == ellipse.b == 1.0
    with pytest.raises(InvalidArgument, match="non-empty"):
        fit_ellipse(np.zeros((5, 5), dtype=bool))


def test_prompt_images():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    mask = ellipse_mask((64, 64), 32, 32, 12, 12, 0.0)
    mask[0:3, 0:3] = True  # a smaller stray region: ignored
    before = image.copy()
    prompts = concept_prompt_images(image, mask)
    np.testing.assert_array_equal(image, before)
    for out in prompts.images():
        assert out.shape == image.shape and out.dtype == np.uint8
    red = np.all(prompts.outline == [255, 0, 0], axis=-1)
    ring = np.hypot(*(np.mgrid[0:64, 0:64] + 0.5 - 32))
    assert red.sum() > 40 and np.all(np.abs(ring[red] - 12) < 2.5)
    far_outside, deep_inside = ring > 16, ring < 8
    np.testing.assert_array_equal(prompts.outline[~red], image[~red])
    grey = prompts.grey[far_outside]
    assert np.all(grey[:, 0] == grey[:, 1]) and np.all(grey[:, 1] == grey[:, 2])
    np.testing.assert_array_equal(prompts.grey[deep_inside], image[deep_inside])
    np.testing.assert_array_equal(prompts.blurred[far_outside],
                                  gaussian_blur(image, ksize=11)[far_outside])
    np.testing.assert_array_equal(prompts.blurred[deep_inside], image[deep_inside])
    with pytest.raises(InvalidArgument, match="as the image"):
        concept_prompt_images(image, mask[:10])


def test_concept_embeddings_mean_of_normalised_not_renormalised():
    embs = np.array([[[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]]])
    np.testing.assert_allclose(concept_embeddings(embs), [[1 / 3, 2 / 3]])


def test_labels_to_masks_nearest():
    labels = np.array([[0, -1], [1, 1]])
    masks = labels_to_masks(labels, 2, (4, 4))
    assert masks.shape == (2, 4, 4) and masks.dtype == bool
    np.testing.assert_array_equal(masks[0], [[1, 1, 0, 0]] * 2 + [[0, 0, 0, 0]] * 2)
    np.testing.assert_array_equal(masks[1], [[0, 0, 0, 0]] * 2 + [[1, 1, 1, 1]] * 2)
    uneven = labels_to_masks(np.array([[0, 1, 2]]), 3, (1, 7))  # floor(i * 3 / 7)
    np.testing.assert_array_equal(uneven.argmax(axis=0)[0], [0, 0, 0, 1, 1, 2, 2])
