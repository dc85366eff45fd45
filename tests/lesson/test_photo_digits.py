"""Does preparing a photo make the network read it almost as well as a real MNIST digit?"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from course_lib.lesson.data import prepare_images
from course_lib.lesson.handwriting import prepare_digit

pytestmark = pytest.mark.slow


def as_photo(digit: np.ndarray, rng) -> np.ndarray:
    """A 28x28 MNIST digit as a phone photo: dark ink, 120x120 noisy paper, off-centre."""
    size = int(rng.integers(50, 70))
    ink = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR),
                     dtype=float) / 255
    paper = 0.85 + rng.normal(0, 0.03, (120, 120))
    paper -= 0.2 * np.linspace(0, 1, 120)[None, :]  # light from one side
    top, left = rng.integers(5, 120 - size - 5, size=2)
    paper[top:top + size, left:left + size] -= 0.75 * ink
    return np.clip(paper, 0, 1)


def unprepared(photo: np.ndarray) -> np.ndarray:
    """What a student gets by only shrinking the photo to 28x28."""
    small = Image.fromarray((photo * 255).astype(np.uint8)).resize((28, 28))
    return np.asarray(small, dtype=np.float32) / 255


def test_prepared_photos_are_read_nearly_as_well_as_originals(sample_networks):
    """Accuracy on prepared photos near the originals', far above unprepared photos?"""
    train, test, source = sample_networks["data"]
    assert source.kind == "sample"
    model = sample_networks["lesson"]["model"]
    rng = np.random.default_rng(0)
    images, labels = test[0][:300], test[1][:300]
    photos = [as_photo(image, rng) for image in images]

    def accuracy(batch):
        predictions = model.predict(np.asarray(batch).reshape(-1, 28, 28, 1), verbose=0)
        return float((predictions.argmax(axis=1) == labels).mean())

    original = accuracy(prepare_images(images))
    prepared = accuracy([prepare_digit(photo) for photo in photos])
    raw = accuracy([unprepared(photo) for photo in photos])
    print(f"accuracy on 300 sample test digits: original {original:.3f}, "
          f"prepared photos {prepared:.3f}, unprepared photos {raw:.3f}")
    assert prepared >= original - 0.08
    assert prepared >= raw + 0.3
