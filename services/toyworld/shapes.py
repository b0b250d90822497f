"""Polygon primitives in an object's local frame.

Every drawn thing in toyworld is a polygon (ellipses and thick strokes are polygonised), so one
rasteriser and one affine transform serve every class. Local coordinates span about [-1, 1] on
both axes with y pointing down, as in image coordinates.
"""

from __future__ import annotations

import numpy as np

Polygon = np.ndarray  # (V, 2) float vertices, local coordinates


def rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Axis-aligned rectangle from its two corners."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 28, start: float = 0.0,
            stop: float = 2 * np.pi) -> Polygon:
    """Ellipse (or an arc closed by its chord when start/stop are given)."""
    t = np.linspace(start, stop, n, endpoint=stop - start < 2 * np.pi - 1e-9)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def poly(points) -> Polygon:
    """Polygon from a list of (x, y) pairs."""
    return np.asarray(points, dtype=np.float64)


def bar(x0: float, y0: float, x1: float, y1: float, width: float) -> Polygon:
    """A straight stroke of the given width between two points."""
    d = np.array([x1 - x0, y1 - y0], dtype=np.float64)
    n = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-9) * width / 2
    p0, p1 = np.array([x0, y0]), np.array([x1, y1])
    return np.stack([p0 + n, p1 + n, p1 - n, p0 - n])


def star(cx: float, cy: float, r_out: float, r_in: float, points: int,
         phase: float = 0.0) -> Polygon:
    """A star polygon (petals, sun rays, spiky things)."""
    t = phase + np.arange(2 * points) * np.pi / points
    r = np.where(np.arange(2 * points) % 2 == 0, r_out, r_in)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def affine(poly_: Polygon, scale_x: float, scale_y: float, angle: float, cx: float,
           cy: float) -> Polygon:
    """Scale (per axis), rotate (radians) and translate local vertices into pixels."""
    c, s = np.cos(angle), np.sin(angle)
    x = poly_[:, 0] * scale_x
    y = poly_[:, 1] * scale_y
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)
