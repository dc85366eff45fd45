"""Who a student is on the learning platform: read from the download's own names.

Grades and feedback can only go back to Moodle or Canvas if each nbgrader student id is
tied to the platform's own record of that student, and that tie must come from the
platform's ids, never from names: two students may have the same name, a name may be in
any script, and blind or anonymous marking shows none. So the student id is made from the
platform's id (``moodle-2847565``, ``canvas-31004``, ``canvas-anon-Xk3Pq``) and the name
is kept for display only. The platforms name each student's files in their downloads:

* **Moodle** (``mod/assign/classes/downloader.php``, ``get_student_prefix``): a folder
  ``Full Name_2847565_assignsubmission_file/`` per participant (``..._file_/`` before Moodle
  4.1), or, without folders, files ``Full Name_2847565_assignsubmission_file_NAME``. The
  full name has its ``_`` made spaces; with blind marking it is ``Participant`` (in the
  teacher's language). 2847565 is the participant id of the assignment, the number in the
  grading worksheet's "Participant 2847565" and the one the feedback-files upload reads
  back (``mod/assign/feedback/file/importziplib.php``).
* **Canvas** (``lib/content_zipper.rb``, ``get_filename``): each file
  ``sortablename_31004_771001_NAME`` (``sortablename_LATE_31004_...`` when late), where
  31004 is the user id (the gradebook export's ``ID``) and 771001 the id of the handed-in
  file, which "Re-upload submissions" reads back. With anonymous grading:
  ``anon_Xk3Pq_771001_NAME`` (``LATE_anon_...``), Xk3Pq being the submission's anonymous id.

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

_MOODLE_NAME = re.compile(r"^(?P<name>[^_]+)_(?P<participant>\d+)_assignsubmission_"
                          r"(?P<plugin>[a-z]+)(?:_(?P<rest>.*))?$", re.DOTALL)
_CANVAS_NAME = re.compile(r"^(?:(?P<name>.*?)_)?(?:(?P<late>LATE)_)?(?P<user>\d+)_"
                          r"(?P<file>\d+)_(?P<rest>.+)$", re.DOTALL)
_CANVAS_ANONYMOUS = re.compile(r"^(?:(?P<late>LATE)_)?anon_(?P<anonymous>[A-Za-z0-9]+)_"
                               r"(?P<file>\d+)_(?P<rest>.+)$", re.DOTALL)


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

    key: tuple[str, str]  # (MOODLE, participant), (CANVAS, user), ("canvas-anon", id),
    #                        ("folder", name as it was)
    student: str  # the nbgrader student id
    name: str  # the name in the download (display only)
    late: bool = False
    file_id: str = ""

    @property
    def platform(self) -> str | None:
        """MOODLE or CANVAS, or None for a folder or file named by a person."""
        return {MOODLE: MOODLE, CANVAS: CANVAS, "canvas-anon": CANVAS}.get(self.key[0])


def is_platform_name(top: str) -> bool:
    """Whether ``top`` is named the way Moodle or Canvas name a student's files."""
    return any(p.match(top) for p in (_MOODLE_NAME, _CANVAS_ANONYMOUS, _CANVAS_NAME))


def owner(top: str, is_file: bool, assignment: str) -> Owner | None:
    """The owner of the download's top-level entry ``top`` (a folder, or a file when
    ``is_file``); None when its name does not say (a bare ``mnist_cnn.ipynb``).

    Raises ValueError, naming the id, when a name given by a person cannot be a safe
    student id (``*``, ``..``, ``-rf``).
    """
    moodle = _MOODLE_NAME.match(top)
    if moodle:
        participant = moodle["participant"]
        return Owner((MOODLE, participant), f"moodle-{participant}", moodle["name"])
    anonymous = _CANVAS_ANONYMOUS.match(top) if is_file else None
    if anonymous:
        return Owner(("canvas-anon", anonymous["anonymous"]),
                     f"canvas-anon-{anonymous['anonymous']}", "", bool(anonymous["late"]),
                     anonymous["file"])
    canvas = _CANVAS_NAME.match(top) if is_file else None
    if canvas:
        return Owner((CANVAS, canvas["user"]), f"canvas-{canvas['user']}",
                     canvas["name"] or "", bool(canvas["late"]), canvas["file"])
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
    return Owner(("folder", name), check_student_id(re.sub(r"\s+", "-", plain.lower())), name)


def plain_name(top: str) -> str:
    """A top-level file's name as the student gave it, without the platform's prefix
    (``peetersjan_31004_771001_7_mine.png`` -> ``7_mine.png``)."""
    for pattern in (_MOODLE_NAME, _CANVAS_ANONYMOUS, _CANVAS_NAME):
        found = pattern.match(top)
        if found and found["rest"]:
            return found["rest"]
    return top


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
