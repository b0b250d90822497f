"""The toyworld object classes: each a WordNet 3.0 noun synset drawn from named parts.

`CLASSES` is the one list of classes (its order is the class index everywhere: training,
evaluation, the lexicon's `toyworld` dictionary). Each class draws itself in a local frame
spanning about [-1, 1]; parts are drawn back to front and carry the WordNet synset of the part
where WordNet has one (most are meronyms of the class or of a hypernym).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cliplens.toyworld.shapes import Polygon, bar, ellipse, poly, rect, star

# Named colours: the captions use these names, so the names must be plain English.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (205, 35, 35),
    "orange": (240, 135, 25),
    "yellow": (240, 215, 40),
    "green": (45, 155, 55),
    "blue": (40, 85, 215),
    "purple": (130, 55, 175),
    "pink": (240, 135, 185),
    "brown": (125, 80, 40),
    "black": (28, 28, 28),
    "white": (238, 238, 238),
    "gray": (128, 128, 128),
}
ALL_COLOURS = tuple(COLOURS)


@dataclass(frozen=True)
class PartDrawing:
    """One drawn part: polygons in the object's local frame and a named colour."""

    name: str
    polygons: tuple[Polygon, ...]
    colour: str


@dataclass(frozen=True)
class ToyClass:
    """A toyworld class: its synset, the colours its main part may take, and its parts."""

    synset: str
    palette: tuple[str, ...]
    parts: dict[str, str | None]  # part name -> WordNet synset (None where WordNet has none)
    draw: Callable[[np.random.Generator, str], list[PartDrawing]]
    mirror: bool = True  # may be drawn facing either way

    @property
    def label(self) -> str:
        return self.synset.split(".")[0].replace("_", " ")


def _j(rng: np.random.Generator, scale: float = 0.06) -> float:
    """Small shape jitter, so no two objects of a class are the same drawing."""
    return float(rng.uniform(-scale, scale))


def _other(rng: np.random.Generator, colour: str, choices: tuple[str, ...]) -> str:
    """A colour from `choices` that differs from `colour` (parts stay visible on the body)."""
    options = [c for c in choices if c != colour]
    return str(rng.choice(options))


def _car(rng, colour):
    h = 0.45 + _j(rng)
    cab_top = -0.55 + _j(rng, 0.1)
    body = (poly([(-1, -0.1), (-0.55, -0.12), (-0.35, cab_top), (0.35, cab_top), (0.6, -0.12),
                  (1, -0.05), (1, h), (-1, h)]),)
    win_colour = _other(rng, colour, ("white", "blue", "gray", "black"))
    windows = (poly([(-0.47, -0.14), (-0.3, cab_top + 0.08), (-0.03, cab_top + 0.08),
                     (-0.03, -0.14)]),
               poly([(0.05, -0.14), (0.05, cab_top + 0.08), (0.3, cab_top + 0.08),
                     (0.5, -0.14)]))
    r = 0.27 + _j(rng, 0.03)
    wheels = (ellipse(-0.58, h, r, r), ellipse(0.6, h, r, r))
    hubs = (ellipse(-0.58, h, r * 0.4, r * 0.4), ellipse(0.6, h, r * 0.4, r * 0.4))
    return [PartDrawing("body", body, colour), PartDrawing("windows", windows, win_colour),
            PartDrawing("wheels", wheels, "black"), PartDrawing("wheels", hubs, "gray")]


def _truck(rng, colour):
    top = -0.75 + _j(rng, 0.1)
    cargo = (rect(-1, top, 0.3, 0.42),)
    cab_colour = str(rng.choice((colour, _other(rng, colour, ALL_COLOURS))))
    cab = (poly([(0.34, -0.35), (0.78, -0.35), (1, 0.0), (1, 0.42), (0.34, 0.42)]),)
    window = (poly([(0.45, -0.27), (0.74, -0.27), (0.9, 0.02), (0.45, 0.02)]),)
    r = 0.22 + _j(rng, 0.03)
    xs = (-0.7, -0.2, 0.7)
    wheels = tuple(ellipse(x, 0.45, r, r) for x in xs)
    hubs = tuple(ellipse(x, 0.45, r * 0.4, r * 0.4) for x in xs)
    return [PartDrawing("cargo area", cargo, colour), PartDrawing("cab", cab, cab_colour),
            PartDrawing("window", window, _other(rng, cab_colour, ("white", "blue", "gray"))),
            PartDrawing("wheels", wheels, "black"), PartDrawing("wheels", hubs, "gray")]


def _bicycle(rng, colour):
    r = 0.42 + _j(rng, 0.04)
    rear, front, crank = (-0.55, 0.3), (0.58, 0.3), (0.0, 0.32)
    seat, head = (-0.22 + _j(rng), -0.32), (0.42 + _j(rng), -0.34)
    w = 0.1
    tyre = "black"
    wheels = (ellipse(*rear, r, r), ellipse(*front, r, r))
    inner = (ellipse(*rear, r * 0.72, r * 0.72), ellipse(*front, r * 0.72, r * 0.72))
    frame = (bar(*rear, *crank, w), bar(*rear, *seat, w), bar(*seat, *crank, w),
             bar(*seat, *head, w), bar(*head, *crank, w), bar(*head, *front, w))
    handlebar = (bar(*head, head[0] - 0.05, -0.62, 0.09), bar(head[0] - 0.1, -0.62,
                                                                 head[0] + 0.18, -0.62, 0.09))
    saddle = (rect(seat[0] - 0.17, -0.47, seat[0] + 0.13, -0.36),)
    return [PartDrawing("wheels", wheels, tyre),
            PartDrawing("wheels", inner, _other(rng, colour, ("gray", "white"))),
            PartDrawing("frame", frame, colour), PartDrawing("handlebar", handlebar, "black"),
            PartDrawing("seat", saddle, "brown" if colour != "brown" else "black")]


def _sailboat(rng, colour):
    deck = 0.42 + _j(rng)
    hull = (poly([(-1, deck), (1, deck), (0.72, 0.85), (-0.72, 0.85)]),)
    mast = (bar(0, deck, 0, -1, 0.08),)
    sail_colour = _other(rng, colour, ("white", "white", "yellow", "red", "blue", "orange"))
    sails = (poly([(0.06, -0.95), (0.06, deck - 0.08), (0.78 + _j(rng), deck - 0.08)]),
             poly([(-0.06, -0.78), (-0.06, deck - 0.08), (-0.6 + _j(rng), deck - 0.08)]))
    return [PartDrawing("mast", mast, "brown"), PartDrawing("sail", sails, sail_colour),
            PartDrawing("hull", hull, colour)]


def _airplane(rng, colour):
    wing_colour = str(rng.choice((colour, _other(rng, colour, ALL_COLOURS))))
    sweep = _j(rng, 0.12)
    wings = (poly([(-0.1, 0), (0.3, 0), (-0.05 + sweep, 0.85), (-0.35 + sweep, 0.85)]),
             poly([(-0.1, 0), (0.3, 0), (-0.05 + sweep, -0.85), (-0.35 + sweep, -0.85)]))
    tail = (poly([(-0.72, 0), (-0.95, 0), (-1.05, -0.38), (-0.9, -0.38)]),
            poly([(-0.72, 0), (-0.95, 0), (-1.05, 0.38), (-0.9, 0.38)]))
    fuselage = (ellipse(0, 0, 1, 0.17 + _j(rng, 0.03)),)
    cockpit = (ellipse(0.72, -0.02, 0.15, 0.08),)
    return [PartDrawing("wings", wings, wing_colour), PartDrawing("tail", tail, wing_colour),
            PartDrawing("fuselage", fuselage, colour),
            PartDrawing("cockpit", cockpit, _other(rng, colour, ("white", "blue", "black")))]


def _tree(rng, colour):
    trunk = (rect(-0.12 + _j(rng, 0.03), 0.1, 0.12 + _j(rng, 0.03), 1),)
    if rng.random() < 0.35:  # a conifer: stacked triangles
        crown = (poly([(-0.75, 0.35), (0.75, 0.35), (0, -0.35)]),
                 poly([(-0.6, -0.05), (0.6, -0.05), (0, -0.7)]),
                 poly([(-0.45, -0.4), (0.45, -0.4), (0, -1)]))
    else:
        crown = (ellipse(0, -0.35, 0.72 + _j(rng), 0.55 + _j(rng)),
                 ellipse(-0.38, 0.0, 0.4, 0.33), ellipse(0.38, 0.0, 0.4, 0.33))
    return [PartDrawing("trunk", trunk, "brown"), PartDrawing("crown", crown, colour)]


def _flower(rng, colour):
    cy = -0.4 + _j(rng)
    stalk = (bar(0, cy, _j(rng, 0.1), 1, 0.1),)
    leaf = (poly([(0.02, 0.55), (0.45, 0.3), (0.55, 0.42), (0.1, 0.68)]),)
    n = int(rng.integers(5, 9))
    petals = (star(0, cy, 0.6 + _j(rng), 0.3, n, phase=float(rng.uniform(0, np.pi))),
              ellipse(0, cy, 0.36, 0.36))
    centre = (ellipse(0, cy, 0.2, 0.2),)
    return [PartDrawing("stalk", stalk, "green"), PartDrawing("leaf", leaf, "green"),
            PartDrawing("petals", petals, colour),
            PartDrawing("center", centre, _other(rng, colour, ("yellow", "brown", "orange")))]


def _cactus(rng, colour):
    w = 0.22 + _j(rng, 0.04)
    stem = (rect(-w, -0.7, w, 1), ellipse(0, -0.7, w, w))
    ay, by = -0.1 + _j(rng, 0.1), 0.15 + _j(rng, 0.1)
    arms = (bar(-w, ay, -0.62, ay, 0.26), bar(-0.62, ay + 0.13, -0.62, -0.45, 0.26),
            ellipse(-0.62, -0.45, 0.13, 0.13),
            bar(w, by, 0.62, by, 0.26), bar(0.62, by + 0.13, 0.62, -0.25, 0.26),
            ellipse(0.62, -0.25, 0.13, 0.13))
    return [PartDrawing("arms", arms, colour), PartDrawing("stem", stem, colour)]


def _house(rng, colour):
    eave = -0.15 + _j(rng)
    walls = (rect(-0.8, eave, 0.8, 0.92),)
    roof_colour = _other(rng, colour, ("red", "brown", "gray", "black", "blue"))
    roof = (poly([(-1, eave + 0.05), (1, eave + 0.05), (0, -0.95 + _j(rng))]),)
    door = (rect(-0.15, 0.38, 0.15, 0.92),)
    wy = 0.05 + _j(rng, 0.05)
    windows = (rect(-0.62, wy, -0.3, wy + 0.3), rect(0.3, wy, 0.62, wy + 0.3))
    parts = [PartDrawing("walls", walls, colour), PartDrawing("roof", roof, roof_colour),
             PartDrawing("door", door, _other(rng, colour, ("brown", "black", "red"))),
             PartDrawing("windows", windows, _other(rng, colour, ("white", "blue")))]
    if rng.random() < 0.5:
        parts.insert(0, PartDrawing("chimney", (rect(0.45, -0.85, 0.65, -0.3),), roof_colour))
    return parts


def _tent(rng, colour):
    apex = _j(rng, 0.1)
    canvas = (poly([(-1, 0.8), (1, 0.8), (apex, -0.75)]),)
    flap = (poly([(-0.28, 0.8), (0.28, 0.8), (apex * 0.5, 0.05)]),)
    pole = (bar(apex, -0.72, apex, -1.0, 0.07),)
    return [PartDrawing("pole", pole, "brown"), PartDrawing("canvas", canvas, colour),
            PartDrawing("flap", flap, _other(rng, colour, ("black", "brown", "white")))]


def _cup(rng, colour):
    top, bottom = -0.55 + _j(rng), 0.7 + _j(rng)
    body = (poly([(-0.62, top), (0.62, top), (0.45, bottom), (-0.45, bottom)]),)
    handle = (bar(0.55, top + 0.25, 0.95, top + 0.28, 0.15), bar(0.95, top + 0.25, 0.9, 0.3, 0.15),
              bar(0.92, 0.3, 0.48, 0.42, 0.15))
    rim = (ellipse(0, top, 0.62, 0.1),)
    return [PartDrawing("handle", handle, colour), PartDrawing("body", body, colour),
            PartDrawing("rim", rim, _other(rng, colour, ("white", "brown", "black")))]


def _bottle(rng, colour):
    w = 0.42 + _j(rng, 0.05)
    shoulder = -0.15 + _j(rng)
    body = (rect(-w, shoulder, w, 1), ellipse(0, shoulder, w, 0.25))
    neck = (rect(-0.15, -0.8, 0.15, shoulder),)
    cap = (rect(-0.19, -1, 0.19, -0.78),)
    label = (rect(-w, 0.25, w, 0.65),)
    return [PartDrawing("body", body, colour), PartDrawing("neck", neck, colour),
            PartDrawing("cap", cap, _other(rng, colour, ("red", "gray", "black", "yellow"))),
            PartDrawing("label", label, _other(rng, colour, ("white", "yellow", "red")))]


def _bucket(rng, colour):
    top = -0.3 + _j(rng)
    body = (poly([(-0.66, top), (0.66, top), (0.5, 0.92), (-0.5, 0.92)]),)
    rim = (rect(-0.72, top - 0.07, 0.72, top + 0.07),)
    arc = ellipse(0, top, 0.64, 0.62 + _j(rng), n=10, start=np.pi, stop=2 * np.pi)
    bail = tuple(bar(*arc[i], *arc[i + 1], 0.08) for i in range(len(arc) - 1))
    return [PartDrawing("handle", bail, "gray"), PartDrawing("body", body, colour),
            PartDrawing("rim", rim, _other(rng, colour, ("gray", "black", "white")))]


def _fish(rng, colour):
    fin_colour = _other(rng, colour, ALL_COLOURS)
    body = (ellipse(-0.05, 0, 0.72, 0.4 + _j(rng)),)
    tail = (poly([(0.55, 0), (1, -0.5 + _j(rng)), (1, 0.5 + _j(rng))]),)
    fins = (poly([(-0.25, -0.33), (0.2, -0.33), (0.05, -0.7)]),
            poly([(-0.1, 0.3), (0.2, 0.3), (0.12, 0.58)]))
    eye = (ellipse(-0.48, -0.1, 0.09, 0.09),)
    return [PartDrawing("fins", fins, fin_colour), PartDrawing("tail fin", tail, fin_colour),
            PartDrawing("body", body, colour), PartDrawing("eye", eye, "black")]


def _bird(rng, colour):
    body = (ellipse(0.05, 0.15, 0.55, 0.33 + _j(rng)),)
    head = (ellipse(-0.5, -0.22, 0.25, 0.25),)
    beak = (poly([(-0.72, -0.3), (-0.72, -0.14), (-1, -0.2)]),)
    eye = (ellipse(-0.56, -0.27, 0.06, 0.06),)
    if rng.random() < 0.5:
        wing = (poly([(-0.15, 0.05), (0.35, 0.05), (0.45 + _j(rng), -0.75)]),)
    else:
        wing = (poly([(-0.15, 0.05), (0.45, 0.0), (0.25, 0.35)]),)
    tail = (poly([(0.5, 0.12), (1, -0.1), (1, 0.32)]),)
    legs = (bar(-0.05, 0.42, -0.1, 0.8, 0.05), bar(0.15, 0.42, 0.15, 0.8, 0.05))
    wing_colour = str(rng.choice((colour, _other(rng, colour, ALL_COLOURS))))
    return [PartDrawing("legs", legs, "orange"), PartDrawing("tail", tail, colour),
            PartDrawing("body", body, colour), PartDrawing("head", head, colour),
            PartDrawing("beak", beak, "orange" if colour != "orange" else "yellow"),
            PartDrawing("eye", eye, "black" if colour != "black" else "white"),
            PartDrawing("wing", wing, wing_colour)]


def _umbrella(rng, colour):
    base = -0.05 + _j(rng)
    n = 6
    gores, alt = [], []
    for i in range(n):
        a0, a1 = np.pi + i * np.pi / n, np.pi + (i + 1) * np.pi / n
        tri = poly([(0, base), (np.cos(a0), base + 0.8 * np.sin(a0)),
                    (np.cos(a1), base + 0.8 * np.sin(a1))])
        (gores if i % 2 == 0 else alt).append(tri)
    second = str(rng.choice((colour, _other(rng, colour, ALL_COLOURS))))
    shaft = (bar(0, base - 0.85, 0, 0.85, 0.08), bar(0, 0.85, 0.1, 0.98, 0.09),
             bar(0.1, 0.98, 0.25, 0.9, 0.09))
    return [PartDrawing("handle", shaft, "black"),
            PartDrawing("canopy", tuple(gores), colour), PartDrawing("canopy", tuple(alt), second)]


def _clock(rng, colour):
    case = (ellipse(0, 0, 1, 1, n=36),)
    face = (ellipse(0, 0, 0.8, 0.8, n=36),)
    ticks = tuple(ellipse(0.66 * np.cos(a), 0.66 * np.sin(a), 0.06, 0.06, n=8)
                  for a in np.arange(12) * np.pi / 6)
    a_h, a_m = rng.uniform(0, 2 * np.pi, size=2)
    hands = (bar(0, 0, 0.38 * np.cos(a_h), 0.38 * np.sin(a_h), 0.1),
             bar(0, 0, 0.6 * np.cos(a_m), 0.6 * np.sin(a_m), 0.07))
    face_colour = "white" if colour != "white" else "yellow"
    return [PartDrawing("case", case, colour), PartDrawing("face", face, face_colour),
            PartDrawing("face", ticks, "black"), PartDrawing("hands", hands, "black")]


def _kite(rng, colour):
    cy = -0.25 + _j(rng)
    body = (poly([(0, -1), (0.55 + _j(rng), cy), (0, 0.45), (-0.55 + _j(rng), cy)]),)
    second = _other(rng, colour, ALL_COLOURS)
    panels = (poly([(0, -1), (0.55, cy), (0, cy)]), poly([(0, 0.45), (-0.55, cy), (0, cy)]))
    spars = (bar(0, -1, 0, 0.45, 0.05), bar(-0.55, cy, 0.55, cy, 0.05))
    pts = [(0, 0.45), (0.15, 0.6), (-0.05, 0.75), (0.15, 0.9), (0.0, 1.0)]
    tail = tuple(bar(*pts[i], *pts[i + 1], 0.06) for i in range(len(pts) - 1))
    bows = tuple(poly([(x - 0.1, y - 0.05), (x + 0.1, y + 0.05), (x + 0.1, y - 0.05),
                       (x - 0.1, y + 0.05)]) for x, y in pts[1:4])
    return [PartDrawing("tail", tail + bows, second), PartDrawing("sail", body, colour),
            PartDrawing("sail", panels, second), PartDrawing("frame", spars, "black")]


CLASSES: tuple[ToyClass, ...] = (
    ToyClass("car.n.01", ALL_COLOURS, {"body": "body.n.11", "windows": "car_window.n.01",
                                     "wheels": "car_wheel.n.01"}, _car),
    ToyClass("truck.n.01", ALL_COLOURS, {"cargo area": "cargo_area.n.01", "cab": "cab.n.01",
                                       "window": "window.n.01", "wheels": "wheel.n.01"}, _truck),
    ToyClass("bicycle.n.01", ALL_COLOURS, {"wheels": "bicycle_wheel.n.01", "frame": "skeleton.n.04",
                                         "handlebar": "handlebar.n.01",
                                         "seat": "bicycle_seat.n.01"}, _bicycle),
    ToyClass("sailboat.n.01", ALL_COLOURS, {"hull": "hull.n.06", "mast": "mast.n.01",
                                          "sail": "sail.n.01"}, _sailboat),
    ToyClass("airplane.n.01", ALL_COLOURS, {"fuselage": "fuselage.n.01", "wings": "wing.n.02",
                                          "tail": "tail.n.07", "cockpit": "cockpit.n.01"},
             _airplane),
    ToyClass("tree.n.01", ("green", "green", "yellow", "orange", "red"),
             {"trunk": "trunk.n.01", "crown": "crown.n.07"}, _tree, mirror=False),
    ToyClass("flower.n.01", ("red", "yellow", "pink", "purple", "white", "orange", "blue"),
             {"stalk": "stalk.n.02", "leaf": "leaf.n.01", "petals": "petal.n.01",
              "center": None}, _flower),
    ToyClass("cactus.n.01", ("green",), {"stem": "stalk.n.02", "arms": "branch.n.02"}, _cactus),
    ToyClass("house.n.01", ALL_COLOURS, {"walls": "wall.n.01", "roof": "roof.n.01",
                                       "door": "door.n.01", "windows": "window.n.01",
                                       "chimney": "chimney.n.01"}, _house),
    ToyClass("tent.n.01", ALL_COLOURS, {"canvas": "canvas.n.01", "flap": "flap.n.01",
                                      "pole": "pole.n.01"}, _tent),
    ToyClass("cup.n.01", ALL_COLOURS, {"body": "body.n.09", "handle": "handle.n.01",
                                     "rim": "brim.n.01"}, _cup),
    ToyClass("bottle.n.01", ("green", "brown", "blue", "white", "red"),
             {"body": "body.n.09", "neck": "bottleneck.n.02", "cap": "bottlecap.n.01",
              "label": "label.n.04"}, _bottle, mirror=False),
    ToyClass("bucket.n.01", ALL_COLOURS, {"body": "body.n.09", "handle": "handle.n.01",
                                        "rim": "rim.n.01"}, _bucket, mirror=False),
    ToyClass("fish.n.01", ("orange", "yellow", "blue", "red", "gray", "purple", "pink", "green"),
             {"body": "body.n.01", "tail fin": "tail_fin.n.03", "fins": "fin.n.06",
              "eye": "eye.n.01"}, _fish),
    ToyClass("bird.n.01", ("red", "blue", "yellow", "black", "brown", "white", "gray", "green"),
             {"body": "body.n.01", "head": "head.n.01", "beak": "beak.n.02", "wing": "wing.n.01",
              "tail": "tail.n.01", "eye": "eye.n.01", "legs": "leg.n.02"}, _bird),
    ToyClass("umbrella.n.01", ALL_COLOURS, {"canopy": "canopy.n.03", "handle": "handle.n.01"},
             _umbrella),
    ToyClass("clock.n.01", ALL_COLOURS, {"case": "shell.n.08", "face": "clock_face.n.01",
                                       "hands": "hand.n.08"}, _clock, mirror=False),
    ToyClass("kite.n.03", ALL_COLOURS, {"sail": "sail.n.03", "frame": "skeleton.n.04",
                                      "tail": "kite_tail.n.01"}, _kite),
)
