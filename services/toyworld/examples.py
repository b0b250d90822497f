"""The bundled example scenes (images, masks, annotations): `python -m cliplens.toyworld.examples`.

They are drawn from the `examples` split, so they are reproducible and never seen in training;
the demo explains the first one and tests read their masks as ground truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cliplens.toyworld.scene import render_scene

EXAMPLES_DIR = Path(__file__).with_name("examples")
SIZE = 160
# (classes) of each example: chosen to show hypernyms (vehicles, plants) side by side.
SCENES = (
    ("car.n.01", "tree.n.01"),
    ("sailboat.n.01", "bird.n.01"),
    ("house.n.01", "bicycle.n.01", "flower.n.01"),
    ("truck.n.01", "cactus.n.01"),
    ("umbrella.n.01", "cup.n.01"),
    ("airplane.n.01", "kite.n.03", "fish.n.01"),
)


@dataclass(frozen=True)
class Example:
    """One bundled scene: its image path and objects (synset, box, mask)."""

    name: str
    image_path: Path
    objects: list[dict]

    def image(self) -> np.ndarray:
        return np.asarray(Image.open(self.image_path).convert("RGB"))

    def mask(self, i: int) -> np.ndarray:
        return np.asarray(Image.open(EXAMPLES_DIR / self.objects[i]["mask"])) > 0


def write_examples(out: Path = EXAMPLES_DIR) -> list[Path]:
    """Draw the example scenes into `out` (PNG images, PNG masks, annotations.json)."""
    out.mkdir(parents=True, exist_ok=True)
    index, written = [], []
    for i, classes in enumerate(SCENES):
        scene = render_scene("examples", i, size=SIZE, classes=classes, kind="normal")
        name = f"scene{i}"
        Image.fromarray(scene.image).save(out / f"{name}.png")
        objects = []
        for j, obj in enumerate(scene.objects):
            mask_name = f"{name}_obj{j}_mask.png"
            Image.fromarray(obj.mask.astype(np.uint8) * 255).save(out / mask_name)
            objects.append({"synset": obj.synset, "colour": obj.colour, "box": list(obj.box),
                            "mask": mask_name})
        index.append({"name": name, "image": f"{name}.png", "objects": objects})
        written.append(out / f"{name}.png")
    (out / "annotations.json").write_text(json.dumps({"scenes": index}, indent=1) + "\n")
    return written


def load_examples() -> list[Example]:
    """The bundled examples, in order."""
    doc = json.loads((EXAMPLES_DIR / "annotations.json").read_text())
    return [Example(s["name"], EXAMPLES_DIR / s["image"], s["objects"]) for s in doc["scenes"]]


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in write_examples():
        logging.getLogger(__name__).info("wrote %s", path)
