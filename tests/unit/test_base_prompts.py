import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.prompts import (
    class_embeddings,
    format_prompts,
    openai_imagenet_templates,
    simple_imagenet_templates,
)


def test_class_embeddings_hand_computed():
    per_template = np.array([[[2.0, 0.0], [0.0, 1.0]],   # normalised first: mean (.5, .5)
                             [[0.0, 3.0], [0.0, -1.0]]])  # opposite templates cancel
    with pytest.raises(InvalidArgument, match="cancel"):
        class_embeddings(per_template)
    out = class_embeddings(per_template[:1])
    np.testing.assert_allclose(out, [[np.sqrt(0.5), np.sqrt(0.5)]], atol=1e-6)
    assert out.dtype == np.float32


def test_class_embeddings_are_unit_and_leave_input_alone():
    rng = np.random.default_rng(0)
    per_template = rng.normal(size=(5, 7, 16)).astype(np.float32)
    before = per_template.copy()
    out = class_embeddings(per_template)
    np.testing.assert_array_equal(per_template, before)
    assert out.shape == (5, 16)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-6)


def test_templates_are_open_clips_as_format_strings():
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES, SIMPLE_IMAGENET_TEMPLATES

    openai = openai_imagenet_templates()
    assert len(openai) == 80 and all(t.count("{}") == 1 for t in openai)
    assert [t.replace("{}", "cello") for t in openai] == [f("cello")
                                                          for f in OPENAI_IMAGENET_TEMPLATES]
    simple = simple_imagenet_templates()
    assert [t.replace("{}", "cello") for t in simple] == [f("cello")
                                                          for f in SIMPLE_IMAGENET_TEMPLATES]
    assert format_prompts("cello", ["a photo of a {}.", "{} art"]) == ["a photo of a cello.",
                                                                        "cello art"]
