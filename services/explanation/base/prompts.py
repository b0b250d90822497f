"""Prompt ensembling: class embeddings as the mean over templates, and the template lists.

open_clip ships the 80 OpenAI ImageNet templates as lambdas; the lists here are plain "{}"
format strings derived from them. `open_clip/zero_shot_metadata.py` is read on its own (it
imports nothing), so the explanation service gets the templates without importing torch.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.base.arrays import as_float32


def class_embeddings(per_template: ArrayLike) -> np.ndarray:
    """The normalised mean of the normalised per-template embeddings.

    Args:
        per_template: (K, T, C) text embeddings of K classes under T templates (normalised or
            not; each is normalised first).

    Returns:
        float32 (K, C), each row of unit norm.
    """
    embeddings = as_float32("per_template", per_template, ndim=3).astype(np.float64)
    norms = np.linalg.norm(embeddings, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise InvalidArgument("per_template: expected non-zero embeddings, got a zero vector")
    mean = (embeddings / norms).mean(axis=1)
    mean_norms = np.linalg.norm(mean, axis=-1, keepdims=True)
    if np.any(mean_norms == 0):
        raise InvalidArgument("per_template: the templates of a class cancel out (zero mean)")
    return (mean / mean_norms).astype(np.float32)


@cache
def _zero_shot_metadata() -> ModuleType:
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("open_clip is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "zero_shot_metadata.py"
    module_spec = importlib.util.spec_from_file_location("_cliplens_zero_shot_metadata", path)
    if module_spec is None or module_spec.loader is None:
        raise ModuleNotFoundError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _as_format_strings(templates: Iterable[Callable[[str], str]]) -> tuple[str, ...]:
    strings = []
    for template in templates:
        text = template("{}")
        # A template that does more than substitute (e.g. pluralise) cannot become a string.
        if text.count("{}") != 1 or text.format("zebra") != template("zebra"):
            raise ValueError(f"template {text!r} is not a plain substitution")
        strings.append(text)
    return tuple(strings)


@cache
def openai_imagenet_templates() -> tuple[str, ...]:
    """The 80 OpenAI ImageNet templates, each a str with one "{}" (as open_clip orders them)."""
    return _as_format_strings(_zero_shot_metadata().OPENAI_IMAGENET_TEMPLATES)


@cache
def simple_imagenet_templates() -> tuple[str, ...]:
    """The short ensemble: open_clip's 7 "simple" ImageNet templates, each with one "{}"."""
    return _as_format_strings(_zero_shot_metadata().SIMPLE_IMAGENET_TEMPLATES)


# What the CLIP Surgery authors add to the 80 in their prompt ensemble (85 templates in all).
SCENE_TEMPLATES = ("there is a {} in the scene.", "there is the {} in the scene.",
                   "this is a {} in the scene.", "this is the {} in the scene.",
                   "this is one {} in the scene.")


@cache
def clip_surgery_templates() -> tuple[str, ...]:
    """The CLIP Surgery authors' 85 templates: OpenAI's 80 and five "... in the scene."."""
    return openai_imagenet_templates() + SCENE_TEMPLATES


def format_prompts(label: str, templates: Iterable[str]) -> list[str]:
    """Every template filled with `label` (templates are "{}" format strings)."""
    return [template.replace("{}", label) for template in templates]
