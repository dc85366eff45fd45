"""Measure own-handwriting preparation on real handwriting from outside MNIST (teachers only).

scikit-learn ships 1,797 digits written by 43 people (``sklearn.datasets.load_digits``,
8x8 pixels, 17 grey levels). :func:`sklearn_photos` draws each one as a student's photo
would look: dark ink on lighter, unevenly lit, noisy paper, enlarged and off-centre, saved
with 8-bit grey levels. Three preparations are compared:

* :func:`course_lib.lesson.handwriting.prepare_digit`, the course's;
* :func:`plain_recipe`, MNIST's own recipe and nothing else: threshold, crop to the ink,
  scale into 20x20 keeping the proportions, centre by the centre of mass;
* :func:`shrink_only`, what a student gets by inverting the photo and shrinking it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from course_lib.lesson.handwriting import plain_recipe, prepare_digit


def sklearn_photos(seed: int = 0, limit: int | None = None):
    """scikit-learn's handwritten digits as photos: (list of grey images 0-1, labels)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images[:limit], digits.target[:limit]
    rng = np.random.default_rng(seed)
    return [_as_photo(image / 16.0, rng) for image in images], labels.astype(int)


def _as_photo(ink: np.ndarray, rng) -> np.ndarray:
    size = int(rng.integers(48, 72))
    big = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize(
        (size, size), Image.Resampling.BICUBIC), dtype=float)
    big = np.clip(big, 0.0, 1.0)
    side = 112
    paper = 0.88 + rng.normal(0, 0.02, (side, side))
    paper -= rng.uniform(0.05, 0.25) * np.linspace(0, 1, side)[None, :]  # light from a side
    top, left = rng.integers(4, side - size - 4, size=2)
    darkness = rng.uniform(0.6, 0.8)  # pen and lighting vary
    paper[top:top + size, left:left + size] -= darkness * big
    return np.round(np.clip(paper, 0, 1) * 255) / 255  # a saved 8-bit picture


def shrink_only(grey: np.ndarray) -> np.ndarray:
    """The photo inverted and shrunk to 28x28, nothing else."""
    small = Image.fromarray((np.asarray(grey) * 255).astype(np.uint8)).resize((28, 28))
    return 1.0 - np.asarray(small, dtype=np.float32) / 255


PREPARATIONS = {"course": prepare_digit, "plain recipe": plain_recipe,
                "only shrunk": shrink_only}


def accuracies(networks: dict, photos, labels) -> dict[str, dict[str, float]]:
    """Accuracy of each network on the photos under each preparation: {network: {prep: acc}}."""
    prepared = {name: np.stack([prepare(photo) for photo in photos]).reshape(-1, 28, 28, 1)
                for name, prepare in PREPARATIONS.items()}
    return {network_name: {name: float((network.predict(batch, batch_size=500, verbose=0)
                                        .argmax(axis=1) == labels).mean())
                           for name, batch in prepared.items()}
            for network_name, network in networks.items()}
