"""Digits drawn as a pen on paper would, for the tests of reading a student's own handwriting."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def draw_seven(size=300, width=24, offset=(0, 0), scale=1.0, angle=0.0, dark_ink=True,
               gradient=0.0, noise=0.0, seed=0):
    """A '7' drawn with a pen on paper, as a grey array 0-1, with the given troubles."""
    rng = np.random.default_rng(seed)
    paper, ink = (0.9, 0.1) if dark_ink else (0.05, 0.95)
    image = Image.new("F", (size, size), paper)
    pen = ImageDraw.Draw(image)
    centre = np.array([size / 2 + offset[0], size / 2 + offset[1]])
    points = np.array([(-0.3, -0.35), (0.3, -0.35), (-0.05, 0.4)]) * size * 0.6 * scale
    turn = np.deg2rad(angle)
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    points = points @ rotation.T + centre
    pen.line([tuple(p) for p in points], fill=ink, width=width, joint="curve")
    grey = np.asarray(image, dtype=float)
    y, x = np.mgrid[0:size, 0:size]
    grey = grey - gradient * (x + y) / (2 * size)  # a lamp on one side
    grey = grey + rng.normal(0, noise, grey.shape)
    return np.clip(grey, 0, 1)
