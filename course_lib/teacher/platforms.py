"""Who a student is on the learning platform, and the records that keep it for the return.

Grades and feedback can only go back to Moodle or Canvas if each nbgrader student id is
tied to the platform's own record of that student, and that tie must come from the
platform's ids, never from names: two students may have the same name, a name may be in
any script, and blind or anonymous marking shows none. So the student id is made from the
platform's id (``moodle-2847565``, ``canvas-31004``, ``canvas-anon-Xk3Pq``) and the name
is kept for display only. How each platform names a student's files in its downloads is
in its own module (:mod:`course_lib.teacher.moodle`, :mod:`course_lib.teacher.canvas`);
a folder or zip named by a person (``alice/``, ``alice.zip``) is read here.

Only the name at the top of the download counts: a file inside a student's own zip that is
named like another student's never makes it theirs. ``course collect`` writes a
:class:`PlatformRecord` per student into ``platform-records.json`` in the course folder;
``course return`` reads them, and refuses a file (edited by hand, say) with a student id
that is not a safe one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.teacher.course import CourseError
from course_lib.teacher.student_ids import check_student_id

RECORDS_FILE = "platform-records.json"
MOODLE, CANVAS = "moodle", "canvas"
CANVAS_ANONYMOUS = "canvas-anon"  # the key of a student Canvas grades anonymously
PERSON = "folder"  # the key of a folder, zip or file named by a person


@dataclass
class PlatformRecord:
    """One student as the learning platform knows them."""

    student: str  # the nbgrader student id
    platform: str  # MOODLE or CANVAS
    platform_id: str  # Moodle's participant id, or Canvas' user id ("" when anonymous)
    name: str  # for display only: the worksheet's or export's name, else the download's
    original: str  # the downloaded folder (Moodle) or handed-in file (Canvas), as it was
    file_id: str = ""  # Canvas: the id of the handed-in file
    extra: dict = field(default_factory=dict)
    anonymous_id: str = ""  # Canvas with anonymous grading: the submission's anonymous id
    late: bool = False  # the platform marked the submission late
    handed_in: str = ""  # when, as the platform recorded it (ISO, UTC), if it says


@dataclass(frozen=True)
class Owner:
    """Whose files a download's top-level folder or file holds, from its name alone."""

    key: tuple[str, str]  # (MOODLE, participant), (CANVAS, user), (CANVAS_ANONYMOUS, id),
    #                        (PERSON, name as it was)
    student: str  # the nbgrader student id
    name: str  # the name in the download (display only)
    late: bool = False
    file_id: str = ""

    @property
    def platform(self) -> str | None:
        """MOODLE or CANVAS, or None for a folder or file named by a person."""
        return {MOODLE: MOODLE, CANVAS: CANVAS, CANVAS_ANONYMOUS: CANVAS}.get(self.key[0])


def named_by_person(top: str, is_file: bool, assignment: str) -> Owner | None:
    """The owner of a download's top-level folder, zip or file that the teacher or the
    student named (``alice/``, ``alice.zip``, ``alice_mnist_cnn.ipynb``); None when its
    name does not say (a bare ``mnist_cnn.ipynb``).

    Raises ValueError, naming the id, when the name cannot be a safe student id (``*``,
    ``..``, ``-rf``).
    """
    if not is_file:
        name = top
    else:
        stem = top.rsplit(".", 1)[0]
        if stem.startswith(assignment) or ("_" not in stem and not top.lower().endswith(".zip")):
            return None
        # A zip is named after its student whole (alice.zip); a file by its first part.
        name = stem if top.lower().endswith(".zip") else stem.split("_", 1)[0]
    # A folder, zip or file prefix named by the teacher or the student: that name is the
    # id, in lowercase, spaces as '-', accents left off (zoë -> zoe); anything else that
    # cannot be in an id is refused, not changed into another student's name.
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.strip())
                    if not unicodedata.combining(c))
    return Owner((PERSON, name), check_student_id(re.sub(r"\s+", "-", plain.lower())), name)


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
