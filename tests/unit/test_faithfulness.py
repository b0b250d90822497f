import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.blur import gaussian_blur
from cliplens.explanation.evaluation import (
    accuracy_curve,
    curve_auc,
    deletion_insertion,
    perturbation_walks,
    random_baseline,
    random_order,
)


def image_and_masks():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    masks = np.zeros((2, 16, 16), dtype=bool)
    masks[0, :8] = True
    masks[1, 8:, :8] = True
    return image, masks


def test_curve_auc_hand_computed():
    assert curve_auc([1.0, 0.0]) == 0.5
    assert curve_auc([1.0, 1.0, 0.0]) == pytest.approx(0.75)
    assert curve_auc([0.3]) == 0.3


def test_walks_blur_and_restore_one_concept_per_step():
    image, masks = image_and_masks()
    before = image.copy(), masks.copy()
    deletion, insertion = perturbation_walks(image, masks, blur_sigma=3.0)
    blurred = gaussian_blur(image, 3.0)
    assert len(deletion) == len(insertion) == 3
    np.testing.assert_array_equal(deletion[0], image)
    np.testing.assert_array_equal(deletion[1][:8], blurred[:8])
    np.testing.assert_array_equal(deletion[1][8:], image[8:])
    np.testing.assert_array_equal(deletion[2][8:, :8], blurred[8:, :8])
    np.testing.assert_array_equal(deletion[2][8:, 8:], image[8:, 8:])
    np.testing.assert_array_equal(insertion[0], blurred)
    np.testing.assert_array_equal(insertion[2][:8], image[:8])
    np.testing.assert_array_equal(insertion[2][8:, 8:], blurred[8:, 8:])
    np.testing.assert_array_equal(image, before[0])
    np.testing.assert_array_equal(masks, before[1])


def test_deletion_insertion_scores_with_one_call():
    image, masks = image_and_masks()
    calls = []

    def kept_fraction(images):  # fraction of pixels equal to the original: 1, .5, .25
        calls.append(len(images))
        return np.array([np.mean(np.all(im == image, axis=-1)) for im in images])

    curves = deletion_insertion(image, masks, kept_fraction, blur_sigma=3.0)
    assert calls == [6]
    np.testing.assert_allclose(curves.deletion, [1.0, 0.5, 0.25], atol=0.02)
    np.testing.assert_allclose(curves.insertion, [0.0, 0.5, 0.75], atol=0.02)
    assert curves.deletion_auc == pytest.approx(curve_auc(curves.deletion))
    assert curves.insertion_auc == pytest.approx(curve_auc(curves.insertion))
    reverse = deletion_insertion(image, masks, kept_fraction, blur_sigma=3.0, order=[1, 0])
    np.testing.assert_allclose(reverse.deletion, [1.0, 0.75, 0.25], atol=0.02)
    with pytest.raises(InvalidArgument, match="permutation"):
        deletion_insertion(image, masks, kept_fraction, order=[0, 0])
    with pytest.raises(InvalidArgument, match="expected 6 scores"):
        deletion_insertion(image, masks, lambda images: [1.0])


def test_random_baseline_is_seeded():
    assert random_order(5, 1).tolist() == random_order(5, 1).tolist()
    assert sorted(random_order(5, 2).tolist()) == [0, 1, 2, 3, 4]
    image, masks = image_and_masks()
    score = lambda images: np.array([float(im.mean()) for im in images])  # noqa: E731
    a = random_baseline(image, masks, score, seed=3, blur_sigma=2.0)
    b = random_baseline(image, masks, score, seed=3, blur_sigma=2.0)
    np.testing.assert_array_equal(a.deletion, b.deletion)


def test_accuracy_curve_pads_short_walks_with_their_last_value():
    result = accuracy_curve([[True, True, False], [True, False]])
    np.testing.assert_allclose(result.curve, [1.0, 0.5, 0.0])
    assert result.auc == pytest.approx(curve_auc([1.0, 0.5, 0.0]))
    with pytest.raises(InvalidArgument):
        accuracy_curve([])
