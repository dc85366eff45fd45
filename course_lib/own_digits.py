"""Which digit pictures of a submission count as the student's own handwriting (grader only).

Assignment 4 needs at least three digits of the student's own. The grader decides from the
files handed in, never from what the notebook says: :func:`gather` copies the pictures in
``own_digits/`` and the course's sample digits into the checker's folder, and the checker
(sealed like every check, :mod:`course_lib.judge`) reads them with :func:`count`. A picture
counts when

- it can be read as a picture and a digit is found in it (not blank, not a broken file);
- it is not the very same file as a picture counted before it;
- it is not a sample digit saved again: once prepared as the network sees it, a sample
  re-saved as JPEG, scaled or padded matches the sample almost exactly, while digits of
  different writers do not (see :data:`SAME_DIGIT`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from course_lib.handwriting import DIGIT_SUFFIXES, prepare_digit, read_image

MAX_FILES = 30  # more pictures than an honest answer needs; the rest are not opened
MAX_BYTES = 20 * 2**20  # a phone photo is a few MB
# Correlation of two prepared digits above which they are the same picture. Measured: a
# sample digit re-saved as JPEG, doubled or padded 0.993-1.000; among 600 of scikit-learn's
# digits by 43 writers, the closest two different digits 0.964.
SAME_DIGIT = 0.98
OWN, SAMPLES, LEFT_OUT = "own", "samples", "left_out.json"


def gather(submission: Path, into: Path) -> None:
    """Copy the submission's own digit pictures and the course's samples into ``into``.

    Runs on the grader's side: it copies bytes of regular files only and opens none.
    ``submission`` is the graded copy, where nbgrader has put back the course's own
    ``sample_digits``.
    """
    submission, into = Path(submission), Path(into)
    (into / OWN).mkdir(parents=True)
    (into / SAMPLES).mkdir()
    left_out = {}
    for number, path in enumerate(_digit_files(submission / "own_digits")):
        if number >= MAX_FILES:
            left_out[path.name] = f"more than {MAX_FILES} pictures; the rest are not read"
        elif path.stat().st_size > MAX_BYTES:
            left_out[path.name] = f"larger than {MAX_BYTES // 2**20} MB"
        else:
            shutil.copyfile(path, into / OWN / path.name)
    for path in _digit_files(submission / "sample_digits"):
        if path.stat().st_size <= MAX_BYTES:
            shutil.copyfile(path, into / SAMPLES / path.name)
    (into / LEFT_OUT).write_text(json.dumps(left_out))


def count(folder: Path) -> dict[str, str | None]:
    """Each own picture in ``folder`` (from :func:`gather`): None where it counts, else why not.

    Runs in the checker: opening a picture handed in is opening student data.
    """
    folder = Path(folder)
    samples = {}
    for path in sorted((folder / SAMPLES).iterdir()):
        digit = _prepared(path)
        if not isinstance(digit, str):
            samples[path.name] = digit
    verdicts: dict[str, str | None] = json.loads((folder / LEFT_OUT).read_text())
    first_of: dict[str, str] = {}
    for path in sorted((folder / OWN).iterdir()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in first_of:
            verdicts[path.name] = f"the same file as {first_of[digest]}"
            continue
        first_of[digest] = path.name
        digit = _prepared(path)
        if isinstance(digit, str):
            verdicts[path.name] = digit
            continue
        closest = max(samples, key=lambda name: float(samples[name] @ digit), default=None)
        if closest is not None and float(samples[closest] @ digit) >= SAME_DIGIT:
            verdicts[path.name] = f"the sample digit {closest} again"
        else:
            verdicts[path.name] = None
    return dict(sorted(verdicts.items()))


def _digit_files(folder: Path) -> list[Path]:
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in DIGIT_SUFFIXES
                  and p.is_file() and not p.is_symlink())


def _prepared(path: Path) -> np.ndarray | str:
    """The prepared digit as a unit vector (mean removed), or why there is none."""
    try:
        grey = read_image(path)
    except Exception:  # noqa: BLE001 - any failure to decode means: not a picture
        return "it cannot be read as a picture"
    try:
        digit = prepare_digit(grey).ravel().astype(float)
    except Exception:  # noqa: BLE001 - no digit could be made of it
        return "no digit found in it (it looks blank)"
    digit -= digit.mean()
    norm = np.linalg.norm(digit)
    return digit / norm if norm else "no digit found in it (it looks blank)"
