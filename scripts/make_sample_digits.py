"""Draw the course's sample digits as pen strokes and save them into the assignment.

The sample digits stand in for a student's own handwriting until they have some. They
were drawn for this course as pen strokes: each digit is a few hand-placed polylines on a
100x100 grid (the coordinates below), drawn with a round pen of varying width onto
off-white paper with a soft lighting gradient, the way a phone photo of a digit on paper
looks. Run from the project root:  python scripts/make_sample_digits.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from course_lib.lesson.handwriting import load_digit

OUT = Path("source/mnist_cnn/sample_digits")
SCALE = 3
STROKES = {
    "seven": [[(22, 20), (50, 18), (78, 17), (70, 32), (58, 52), (50, 70), (45, 86)],
              [(38, 54), (66, 52)]],
    "four": [[(60, 14), (44, 40), (28, 62), (78, 60)], [(62, 34), (61, 60), (60, 88)]],
    "two": [[(28, 32), (36, 20), (52, 15), (66, 22), (70, 36), (62, 52), (46, 68),
             (30, 84), (52, 82), (76, 83)]],
}
PEN = {"seven": 9, "four": 10, "two": 8}


def draw(name: str, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    size = 100 * SCALE
    # Off-white paper, brighter at the top left: the light of a desk lamp.
    y, x = np.mgrid[0:size, 0:size]
    paper = 235 - 30 * (x + y) / (2 * size) + rng.normal(0, 3, (size, size))
    image = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8), mode="L")
    pen = ImageDraw.Draw(image)
    for stroke in STROKES[name]:
        points = [(px * SCALE, py * SCALE) for px, py in stroke]
        pen.line(points, fill=40, width=PEN[name] * SCALE, joint="curve")
        for px, py in points:  # round ends, as a felt pen leaves them
            r = PEN[name] * SCALE // 2
            pen.ellipse((px - r, py - r, px + r, py + r), fill=40)
    return image.filter(ImageFilter.GaussianBlur(1.2))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(STROKES):
        draw(name, seed).save(OUT / f"{name}.png")
    # The original lesson's own format: a 28x28 text matrix, white digit on black, 0-1.
    two = load_digit(OUT / "two.png")
    (OUT / "two.png").unlink()
    np.savetxt(OUT / "two.dat", two, fmt="%.3f")


if __name__ == "__main__":
    main()
