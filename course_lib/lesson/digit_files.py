"""Which files of a folder are digit pictures, by their names alone.

Apart from :mod:`course_lib.lesson.handwriting`, which opens and prepares the pictures, so
that what only lists them loads no picture library: every nbgrader command of the grader
lists a submission's pictures (:func:`course_lib.autograder.own_digits.gather`), and only
the checker opens them.
"""

from __future__ import annotations

from pathlib import Path

HEIF_SUFFIXES = {".heic", ".heif"}  # an iPhone's photos; Pillow reads them with pillow-heif
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"} | HEIF_SUFFIXES
MATRIX_SUFFIXES = {".dat", ".txt"}
DIGIT_SUFFIXES = IMAGE_SUFFIXES | MATRIX_SUFFIXES | {".npy"}


def digit_files(folder: str | Path) -> list[Path]:
    """The files in ``folder`` with a digit picture's suffix, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in DIGIT_SUFFIXES and p.is_file())
