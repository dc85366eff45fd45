"""Who a student is on the learning platform: recorded when their work is collected.

Grades and feedback can only go back to Moodle or Canvas if each nbgrader student id is
tied to the platform's own record of that student, and that tie must come from the
download itself, never be guessed later from names:

* **Moodle** names each download after the participant: a folder
  ``Full Name_123456_assignsubmission_file_/`` (``..._file/`` since Moodle 4.1), or files
  ``Full Name_123456_assignsubmission_file_mnist_cnn.ipynb``. 123456 is the participant
  id, the same number as in the grading worksheet's "Participant 123456" and the one the
  feedback-files upload reads from each file name.
* **Canvas** names each file ``jonesalice_123_456_mnist_cnn.ipynb`` (``jonesalice_LATE_...``
  when late): 123 is the student's user id (the gradebook export's ``ID`` column), 456 the
  id of the handed-in file, which Canvas' "Re-upload submissions" reads back to attach a
  file to that student's submission.

``course collect`` writes a :class:`PlatformRecord` per student it recognises into
``platform-records.json`` in the course folder; ``course return`` reads them, and refuses
a file (edited by hand, say) with a student id that is not a safe one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from course_lib.teacher.course import CourseError
from course_lib.teacher.student_ids import check_student_id

RECORDS_FILE = "platform-records.json"
MOODLE, CANVAS = "moodle", "canvas"

_MOODLE_NAME = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_[a-z]+_?"
                          r"(?P<rest>.*)$")
_CANVAS_NAME = re.compile(r"^(?P<name>[^_]+)(?:_late)?_(?P<user>\d+)_(?P<file>\d+)_"
                          r"(?P<rest>.+)$", re.IGNORECASE)


@dataclass
class PlatformRecord:
    """One student as the learning platform knows them."""

    student: str  # the nbgrader student id
    platform: str  # MOODLE or CANVAS
    platform_id: str  # Moodle's participant id, or Canvas' user id
    name: str  # the name in the download: Moodle's full name, Canvas' condensed name
    original: str  # the downloaded folder (Moodle) or notebook file name, as it was
    file_id: str = ""  # Canvas: the id of the handed-in notebook file
    extra: dict = field(default_factory=dict)


def recognise(path: PurePosixPath, student: str) -> PlatformRecord | None:
    """The platform record that a downloaded notebook's path reveals, if it is Moodle's
    or Canvas' naming; None for a plain folder or file name."""
    top = path.parts[0]
    moodle = _MOODLE_NAME.match(top)
    if moodle:
        return PlatformRecord(student, MOODLE, moodle["participant"], moodle["name"], top)
    canvas = _CANVAS_NAME.match(path.name)
    if canvas:
        return PlatformRecord(student, CANVAS, canvas["user"], canvas["name"], path.name,
                              file_id=canvas["file"])
    return None


def plain_name(path: PurePosixPath) -> str:
    """A downloaded file's name as the student gave it, without the platform's prefix
    (``jonesalice_123_456_7_mine.png`` -> ``7_mine.png``)."""
    for pattern in (_CANVAS_NAME, _MOODLE_NAME):
        found = pattern.match(path.name)
        if found and found["rest"]:
            return found["rest"]
    return path.name


def load(course_dir: Path) -> dict[str, PlatformRecord]:
    """The records of a course folder, by student id (none before the first collect)."""
    path = Path(course_dir) / RECORDS_FILE
    if not path.is_file():
        return {}
    records = {student: PlatformRecord(**data)
               for student, data in json.loads(path.read_text(encoding="utf-8")).items()}
    for student, record in records.items():
        try:
            check_student_id(student)
            check_student_id(record.student)
        except ValueError as error:
            raise CourseError(f"{path}: {error} Correct or delete that student's entry, or "
                              "delete the file and run `course collect` again.") from None
    return records


def save(course_dir: Path, records: dict[str, PlatformRecord]) -> Path:
    """Add or replace ``records`` in the course folder's file, written whole or not at all."""
    path = Path(course_dir) / RECORDS_FILE
    merged = {**load(course_dir), **records}
    write_atomically(path, json.dumps({s: asdict(r) for s, r in sorted(merged.items())},
                                      indent=1, ensure_ascii=False).encode("utf-8"))
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it: a reader finds the
    old file or the new one, never half of one."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
