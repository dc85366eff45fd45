"""Shapes of the lesson's networks, and a helper that makes training repeatable.

The reference network itself is built in :mod:`course_lib.teacher.training`, which is not part of
the package students receive: building it is their assignment.
"""

from __future__ import annotations

import keras

from course_lib.lesson.constants import INPUT_SHAPE, NUM_CLASSES  # noqa: F401 - kept importable here

DEFAULT_SEED = 42


def set_seed(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and TensorFlow so that a training run can be repeated exactly.

    On a CPU, two runs after the same seed give identical weights.
    """
    keras.utils.set_random_seed(seed)
