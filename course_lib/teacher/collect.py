"""Collect submissions downloaded from a learning platform into nbgrader's ``submitted/``.

Accepts zip files (nested zips too) and folders, in the layouts platforms produce:

* one folder per student: ``alice/mnist_cnn.ipynb`` or Moodle's
  ``Alice Jones_123_assignsubmission_file_/mnist_cnn.ipynb``;
* flat files named after the student: Canvas's ``jonesalice_123_456_mnist_cnn.ipynb``;
* one zip per student, named after the student: ``alice.zip`` holding ``mnist_cnn.ipynb``.

Each student's notebook goes to ``submitted/<student>/<assignment>/<assignment>.ipynb``
with the images handed in beside it in ``own_digits/``, and nbgrader's ``timestamp.txt``
with the time the notebook was handed in (its time in the download), so that the late
penalties set in ``nbgrader_config.py`` apply. Who each student is on Moodle or Canvas is
recorded for ``course return`` (:mod:`course_lib.teacher.platforms`). A file that is not
a readable notebook, or whose name cannot give a safe student id
(:mod:`course_lib.teacher.student_ids`), is reported and skipped; the others are still
collected.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import nbformat

from course_lib.lesson.handwriting import DIGIT_SUFFIXES
from course_lib.teacher import platforms
from course_lib.teacher.course import step_folder
from course_lib.teacher.student_ids import check_student_id

TIMESTAMP_FILE = "timestamp.txt"  # nbgrader reads the submission time from it

SKIP = re.compile(r"(^|/)(__MACOSX|\.ipynb_checkpoints)(/|$)|(^|/)\._")


@dataclass
class Collected:
    """What a collection did: students written, and files skipped with the reason."""

    students: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def student_id(path: PurePosixPath, assignment: str) -> str | None:
    """The student a handed-in file belongs to, from its folder or its file name.

    Returns None when the path does not say, e.g. a bare ``mnist_cnn.ipynb``; raises
    ValueError, naming the id, when its name cannot be a safe student id (``*/``, ``../``,
    ``-rf/``).
    """
    if len(path.parts) > 1:
        owner = path.parts[0]
    elif "_" in path.stem and not path.stem.startswith(assignment):
        owner = path.stem.split("_", 1)[0]
    else:
        return None
    # Platforms add numbers and markers after the name: keep the name itself.
    name = re.split(r"_\d|_assignsubmission|_late", owner, maxsplit=1)[0]
    if len(path.parts) == 1 or name != owner:
        # A platform's name for the student (Moodle's full name, Canvas' condensed one).
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        return check_student_id(slug) if slug else None
    # A folder or a zip named by the teacher or the student: that name is the id, written
    # in lowercase, spaces as '-', accents left off (zoë -> zoe); anything else that
    # cannot be in an id is refused, not changed into another student's name.
    plain = "".join(c for c in unicodedata.normalize("NFKD", owner.strip())
                    if not unicodedata.combining(c))
    return check_student_id(re.sub(r"\s+", "-", plain.lower()))


def _entries(source: Path):
    """Yield (relative path, bytes, time) of every file in a folder or zip, opening nested
    zips; the time is when the file was last changed, as the download has it."""
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            yield from _expand(PurePosixPath(path.relative_to(source).as_posix()),
                               path.read_bytes(), _file_time(path))
    else:
        yield from _expand(PurePosixPath(source.name), source.read_bytes(),
                           _file_time(source), top=True)


def _file_time(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)


def _expand(name: PurePosixPath, data: bytes, when: datetime, top: bool = False):
    if name.suffix.lower() != ".zip":
        yield name, data, when
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        yield name, data, when  # reported as unreadable by the caller
        return
    # A student's own zip (alice.zip) names the student; a platform's bulk zip does not.
    inner_prefix = name.parent / name.stem if not top else PurePosixPath()
    with archive:
        for info in archive.infolist():
            if not info.is_dir():
                # Zip files keep local time without a zone: read as this computer's time.
                inner_when = datetime(*info.date_time).astimezone(timezone.utc)
                yield from _expand(inner_prefix / info.filename, archive.read(info),
                                   inner_when)


def collect(sources: list[Path], course_dir: Path, assignment: str) -> Collected:
    """Collect every notebook in ``sources`` into the course's ``submitted/``."""
    result = Collected()
    notebooks, images = {}, {}
    for source in sources:
        if not Path(source).exists():
            result.skipped.append(f"{source}: there is no such file or folder")
            continue
        for path, data, when in _entries(Path(source)):
            if SKIP.search(str(path)):
                continue
            try:
                student = student_id(path, assignment)
            except ValueError as error:
                result.skipped.append(f"{path}: {error} Rename that folder or zip file "
                                      "to the student's id and collect again.")
                continue
            suffix = path.suffix.lower()
            if suffix == ".zip":
                result.skipped.append(f"{path}: not a readable zip file")
            elif suffix == ".ipynb" and not student:
                result.skipped.append(f"{path}: cannot tell whose notebook this is; put it "
                                      "in a folder named after the student")
            elif suffix == ".ipynb":
                try:
                    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
                except Exception as error:  # noqa: BLE001 - any parse failure: skip this file
                    result.skipped.append(f"{path}: not a readable notebook ({error})")
                    continue
                if student in notebooks:
                    result.skipped.append(f"{path}: a second notebook for {student}; "
                                          f"kept {notebooks[student][0]}")
                    continue
                notebooks[student] = (path, notebook, when)
            elif suffix in DIGIT_SUFFIXES and student:
                images.setdefault(student, []).append((platforms.plain_name(path), data))
            elif suffix in DIGIT_SUFFIXES:
                result.skipped.append(f"{path}: cannot tell whose picture this is")
            else:
                result.skipped.append(f"{path}: not a notebook or a digit picture; left out")
    recognised = {}
    for student, (path, notebook, when) in sorted(notebooks.items()):
        record = platforms.recognise(path, student)
        if record is not None:
            recognised[student] = record
        folder = step_folder(course_dir, "submitted", student, assignment)
        (folder / "own_digits").mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")
        (folder / TIMESTAMP_FILE).write_text(when.isoformat(" ", "microseconds") + "\n")
        for name, data in images.get(student, []):
            (folder / "own_digits" / name).write_bytes(data)
        result.students.append(student)
    if recognised:
        # Who each student is on the platform, for `course return` (never guessed later).
        platforms.save(course_dir, recognised)
    return result
