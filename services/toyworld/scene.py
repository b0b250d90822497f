"""Rendering toyworld scenes with their ground truth.

A scene is 1-3 objects on a background; every object comes with an instance mask, part masks
and a box. Scenes are a pure function of (split, index): the same pair always gives the same
pixels, and the splits draw from disjoint random streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from cliplens.toyworld.objects import CLASSES, COLOURS, ToyClass
from cliplens.toyworld.shapes import affine

SPLITS = {"train": 0, "heldout": 1, "examples": 2}
DEFAULT_SIZE = 80
_SUPERSAMPLE = 2
BACKGROUNDS = ("solid", "gradient", "sky_ground", "texture", "noise")
CLASS_INDEX = {c.synset: i for i, c in enumerate(CLASSES)}


@dataclass(frozen=True)
class SceneObject:
    """One object of a scene and its ground truth."""

    synset: str
    colour: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (inclusive-exclusive pixels)
    mask: np.ndarray  # bool (H, W), visible pixels only
    parts: dict[str, np.ndarray]  # part name -> bool (H, W)
    part_colours: dict[str, str]
    centre: tuple[float, float]

    @property
    def position(self) -> str:
        """Where the object sits, in words ('left', 'top right', 'center', ...)."""
        h, w = self.mask.shape
        x, y = self.centre[0] / w, self.centre[1] / h
        horiz = "left" if x < 0.38 else "right" if x > 0.62 else ""
        vert = "top" if y < 0.38 else "bottom" if y > 0.62 else ""
        return " ".join(p for p in (vert, horiz) if p) or "center"


@dataclass(frozen=True)
class Scene:
    """An RGB image (H, W, 3) uint8 and the objects drawn in it, front-most last."""

    image: np.ndarray
    objects: tuple[SceneObject, ...]
    background: str
    split: str
    index: int
    kind: str = "normal"
    meta: dict = field(default_factory=dict)


def scene_rng(split: str, index: int) -> np.random.Generator:
    """The random stream of one scene; splits never share a stream."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    return np.random.default_rng([SPLITS[split], index, 0x70E])


def _background(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    names = list(COLOURS)
    base = np.array(COLOURS[names[rng.integers(len(names))]], dtype=np.float32)
    if kind == "solid":
        img = np.broadcast_to(base, (size, size, 3)).copy()
        img += rng.normal(0, 6, size=(size, size, 1)).astype(np.float32)
    elif kind == "gradient":
        other = np.array(COLOURS[names[rng.integers(len(names))]], dtype=np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
        t = (np.cos(angle) * xx + np.sin(angle) * yy + 0.71) / 1.42
        img = base * (1 - t[..., None]) + other * t[..., None]
    elif kind == "sky_ground":
        horizon = int(rng.uniform(0.45, 0.8) * size)
        sky_top = np.array((90, 150, 230), np.float32) + rng.uniform(-25, 25, 3)
        sky_low = np.array((185, 215, 245), np.float32) + rng.uniform(-20, 10, 3)
        ground = np.array(rng.choice([(70, 140, 60), (150, 120, 80), (200, 185, 140),
                                      (110, 110, 110)]), np.float32) + rng.uniform(-20, 20, 3)
        t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
        img = np.empty((size, size, 3), np.float32)
        img[:horizon] = sky_top * (1 - t) + sky_low * t
        img[horizon:] = ground + rng.normal(0, 8, size=(size - horizon, size, 1))
    elif kind == "texture":
        cells = int(rng.integers(3, 8))
        coarse = rng.uniform(0, 255, size=(cells, cells, 3)).astype(np.uint8)
        img = np.asarray(Image.fromarray(coarse).resize((size, size), Image.BICUBIC),
                         dtype=np.float32) * 0.6 + base * 0.4
    elif kind == "noise":  # what ConVis pads images with
        img = rng.uniform(0, 255, size=(size, size, 3)).astype(np.float32)
    else:
        raise ValueError(f"unknown background {kind!r}")
    return img


def _coverage(polygons, size: int) -> np.ndarray:
    """Fraction of each pixel covered by the union of polygons (supersampled)."""
    big = size * _SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    for p in polygons:
        draw.polygon([tuple(v) for v in (p * _SUPERSAMPLE).tolist()], fill=255)
    a = np.asarray(canvas, dtype=np.float32).reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE)
    return a.mean(axis=(1, 3)) / 255.0


def _place(rng, size: int, extent: float, placed: list[tuple[float, float, float]],
           may_leave_frame: bool) -> tuple[float, float] | None:
    """A centre for an object of the given extent that does not crowd the placed ones."""
    half = extent / 2
    for _ in range(40):
        if may_leave_frame:
            cx, cy = rng.uniform(size * 0.2, size * 0.8, size=2)
        else:
            lo, hi = half * 0.85, size - half * 0.85
            if hi <= lo:
                cx = cy = size / 2
            else:
                cx, cy = rng.uniform(lo, hi, size=2)
        if all(abs(cx - px) > 0.8 * (half + ph) or abs(cy - py) > 0.8 * (half + ph)
               for px, py, ph in placed):
            return float(cx), float(cy)
    return None


def render_scene(split: str, index: int, *, size: int = DEFAULT_SIZE,
                 n_objects: int | None = None, classes: tuple[str, ...] | None = None,
                 kind: str | None = None, background: str | None = None) -> Scene:
    """Draw scene `index` of `split`, deterministic in (split, index) and the arguments.

    `kind` is "normal" (1-3 objects, whole) or "zoom" (one large object, possibly cut by the
    frame, as the crops of a ConVis grid see things). `classes` fixes the object classes.
    """
    rng = scene_rng(split, index)
    if kind is None:
        kind = "zoom" if rng.random() < 0.15 else "normal"
    if background is None:
        background = BACKGROUNDS[rng.choice(len(BACKGROUNDS), p=[0.2, 0.25, 0.25, 0.2, 0.1])]
    if classes is not None:
        n_objects = len(classes)
    elif n_objects is None:
        n_objects = 1 if kind == "zoom" else int(rng.choice([1, 2, 3], p=[0.4, 0.35, 0.25]))
    img = _background(rng, size, background)

    owner_obj = np.full((size, size), -1, dtype=np.int16)
    owner_part = np.full((size, size), -1, dtype=np.int16)
    drawn: list[tuple[ToyClass, str, list, tuple[float, float], list[str]]] = []
    placed: list[tuple[float, float, float]] = []
    for i in range(n_objects):
        toy = CLASSES[CLASS_INDEX[classes[i]]] if classes else CLASSES[rng.integers(len(CLASSES))]
        if kind == "zoom":
            extent = rng.uniform(0.85, 1.5) * size
        elif n_objects == 1:
            extent = rng.uniform(0.4, 0.75) * size
        else:
            extent = rng.uniform(0.3, 0.5) * size
        centre = _place(rng, size, extent, placed, may_leave_frame=kind == "zoom")
        if centre is None:
            continue
        placed.append((*centre, extent / 2))
        colour = str(rng.choice(toy.palette))
        parts = toy.draw(rng, colour)
        sx = extent / 2 * rng.uniform(0.9, 1.1) * (-1 if toy.mirror and rng.random() < 0.5 else 1)
        sy = extent / 2 * rng.uniform(0.9, 1.1)
        angle = rng.uniform(-0.3, 0.3)
        shading = rng.uniform(0.85, 1.1)
        obj_index = len(drawn)
        part_names: list[str] = []
        for part in parts:
            polys = [affine(p, sx, sy, angle, *centre) for p in part.polygons]
            cov = _coverage(polys, size)[..., None]
            rgb = np.array(COLOURS[part.colour], np.float32) * shading
            img = img * (1 - cov) + rgb * cov
            if part.name not in part_names:
                part_names.append(part.name)
            inside = cov[..., 0] >= 0.5
            owner_obj[inside] = obj_index
            owner_part[inside] = part_names.index(part.name)
        drawn.append((toy, colour, parts, centre, part_names))

    img += rng.normal(0, 3, size=img.shape).astype(np.float32)
    image = np.clip(img, 0, 255).astype(np.uint8)
    objects = []
    for obj_index, (toy, colour, parts, centre, part_names) in enumerate(drawn):
        mask = owner_obj == obj_index
        if mask.sum() < 4:  # hidden or out of frame: not in the ground truth
            continue
        ys, xs = np.nonzero(mask)
        part_masks = {name: mask & (owner_part == j) for j, name in enumerate(part_names)}
        part_colours = {}
        for part in parts:
            part_colours.setdefault(part.name, part.colour)
        objects.append(SceneObject(
            synset=toy.synset, colour=colour,
            box=(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1),
            mask=mask, parts=part_masks, part_colours=part_colours, centre=centre))
    return Scene(image=image, objects=tuple(objects), background=background, split=split,
                 index=index, kind=kind)
