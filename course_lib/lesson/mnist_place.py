"""Where the course finds the full MNIST on this computer, in the order it looks.

Apart from the data module, because the grader reads it too, to hand the same file to each
sandbox, and that must work without numpy (the sandbox is set up by whatever Python runs
the grader).
"""

from __future__ import annotations

import os
from pathlib import Path

from course_lib.lesson.constants import PATH_VARIABLE


def keras_cache_file() -> Path:
    """Return where keras keeps a downloaded ``mnist.npz``."""
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(keras_home) / "datasets" / "mnist.npz"


def local_mnist(path: str | Path | None = None) -> Path | None:
    """The full MNIST on this computer, in the order the course looks: ``path``, then
    ``COURSE_MNIST_PATH``, then the keras cache; None when there is none (then the course
    downloads it, or uses the embedded sample). The grader looks in the same order."""
    asked_for = path if path is not None else os.environ.get(PATH_VARIABLE) or None
    if asked_for is not None:
        return Path(asked_for)
    cache = keras_cache_file()
    return cache if cache.is_file() else None
