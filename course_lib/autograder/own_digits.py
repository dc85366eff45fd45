"""Which digit pictures of a submission count as the student's own handwriting (grader only).

Assignment 4 needs at least three digits of the student's own. The grader decides from the
files handed in, never from what the notebook says: :func:`gather` copies the pictures in
``own_digits/`` and the course's sample digits into the checker's folder, and the checker
(sealed like every check, :mod:`course_lib.autograder.checker`) reads them with
:func:`count`. A picture counts when

- it can be read as a picture and a digit is found in it (not blank, not a broken file);
- it is not the very same file as a picture counted before it;
- it is not a sample digit saved again: once prepared as the network sees it, a sample
  re-saved as JPEG, scaled or padded matches the sample almost exactly, while digits of
  different writers do not (:data:`course_lib.lesson.handwriting.SAME_DIGIT`).

The lesson's notebook skips the same pictures
(:func:`course_lib.lesson.handwriting.load_digit_folder`), so what the student sees is what
the grader counts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from course_lib.autograder.language import _
from course_lib.lesson.digit_files import digit_files

MAX_FILES = 30  # more pictures than an honest answer needs; the rest are not opened
MAX_BYTES = 20 * 2**20  # a phone photo is a few MB
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
            left_out[path.name] = _("more than {count} pictures; the rest are not read")\
                .format(count=MAX_FILES)
        elif path.stat().st_size > MAX_BYTES:
            left_out[path.name] = _("larger than {size} MB").format(size=MAX_BYTES // 2**20)
        else:
            shutil.copyfile(path, into / OWN / path.name)
    for path in _digit_files(submission / "sample_digits"):
        if path.stat().st_size <= MAX_BYTES:
            shutil.copyfile(path, into / SAMPLES / path.name)
    (into / LEFT_OUT).write_text(json.dumps(left_out))


def count(folder: Path) -> dict[str, str | None]:
    """Each own picture in ``folder`` (from :func:`gather`): None where it counts, else why not.

    Runs in the checker: opening a picture handed in is opening student data. The rules
    are the lesson's own (:func:`course_lib.lesson.handwriting.read_digit_folder`), so the
    notebook skips the same pictures the grader does not count.
    """
    # Imported here: every nbgrader command of the grader imports this module for gather(),
    # and Pillow and SciPy took a third of a second of each start.
    from course_lib.lesson.handwriting import read_digit_folder

    folder = Path(folder)
    digits = read_digit_folder(folder / OWN, samples=folder / SAMPLES)
    verdicts: dict[str, str | None] = json.loads((folder / LEFT_OUT).read_text())
    verdicts.update(digits.skipped)
    verdicts.update({path.name: None for path in digits.files})
    return dict(sorted(verdicts.items()))


def _digit_files(folder: Path) -> list[Path]:
    """The digit pictures in ``folder`` that are no links (a link could point anywhere)."""
    if folder.is_symlink():
        return []
    return [path for path in digit_files(folder) if not path.is_symlink()]
