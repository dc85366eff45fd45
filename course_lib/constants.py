"""The facts about MNIST and the lesson that several modules need, defined once."""

from __future__ import annotations

IMAGE_SIDE = 28  # MNIST images are 28x28 grey pixels
INPUT_SHAPE = (IMAGE_SIDE, IMAGE_SIDE, 1)  # rows, columns, one colour channel
NUM_CLASSES = 10  # the digits 0-9
