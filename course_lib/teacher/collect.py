"""Collect submissions downloaded from a learning platform into nbgrader's ``submitted/``.

Accepts zip files (a student's own zips inside too) and folders, in the layouts the
platforms write (:mod:`course_lib.teacher.moodle`, :mod:`course_lib.teacher.canvas`):
Moodle's folder per participant, Canvas' files named with the user's ids; and folders or
zips named after the student by a person (``alice/``, ``alice.zip``,
:mod:`course_lib.teacher.platforms`).

* **Who**: each student is who the platform's ids say (``moodle-2847565``,
  ``canvas-31004``), never a name; two top-level names that would make the same id are
  both refused, never merged. With the platform's spreadsheet (``--moodle WORKSHEET.csv``
  or ``--canvas EXPORT.csv``, the files ``course return`` fills), each participant must be
  on it, and the names shown come from it.
* **What**: the lesson is the student's notebook that holds the assignment's graded cells,
  whatever its name (:mod:`course_lib.teacher.lesson_match`); other notebooks are reported,
  not graded. Digit pictures go to ``own_digits/``.
* **When**: nbgrader's ``timestamp.txt`` gets the time the platform recorded
  (:mod:`course_lib.teacher.handed_in`), never a time inside the zip: Moodle's "Last
  modified (submission)", Canvas' LATE mark. Without it there is no timestamp, and
  nbgrader counts the work as on time.
* **Limits**: every file is read within limits per file, per student and per download
  (:mod:`course_lib.teacher.downloads`); a file over them, unreadable, or not the lesson
  costs only its student, with a line saying so.

A student collected again is replaced whole: their folder in ``submitted/`` is swapped for
the new one, so pictures of an earlier download do not linger.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from course_lib.lesson.digit_files import DIGIT_SUFFIXES
from course_lib.teacher import canvas, downloads, handed_in, lesson_match, moodle, platforms
from course_lib.teacher.canvas import CanvasExport
from course_lib.teacher.course import CourseError, gradebook_url, open_gradebook, step_folder
from course_lib.teacher.downloads import Budget, Entry, MiB, TooLarge
from course_lib.teacher.moodle import MoodleWorksheet
from course_lib.teacher.platforms import CANVAS, MOODLE, PERSON, Owner, PlatformRecord

TIMESTAMP_FILE = "timestamp.txt"  # nbgrader reads the submission time from it
SKIP = re.compile(r"(^|/)(__MACOSX|\.ipynb_checkpoints)(/|$)|(^|/)\._|(^|/)(\.DS_Store|"
                  r"Thumbs\.db|desktop\.ini)$")
LIMITS = {"notebook": downloads.MAX_NOTEBOOK_BYTES, "picture": downloads.MAX_PICTURE_BYTES,
          "zip": downloads.MAX_ZIP_BYTES}
# A broken or truncated entry, an unknown compression, an encrypted entry (RuntimeError):
# that file is left out, the rest of the download is still read.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
               RuntimeError)


@dataclass
class Collected:
    """What a collection did: students written, files skipped with the reason, and notes."""

    students: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # display names, by student id


@dataclass
class _Student:
    """One owner's files as read so far."""

    owner: Owner
    tops: set[str]  # the top-level names that hold their files
    source: int  # the download they came from (a later download replaces an earlier one)
    budget: Budget
    notebooks: list[tuple[str, Path, str]] = field(default_factory=list)  # shown, staged, top
    pictures: list[tuple[str, Path]] = field(default_factory=list)  # name, staged
    full: bool = False  # over their limits: the rest is left out (said once)
    late: bool = False  # Canvas marked one of their files LATE


def collect(sources: list[Path], course_dir: Path, assignment: str, *,
            moodle: Path | None = None, canvas: Path | None = None,
            timezone_name: str | None = None) -> Collected:
    """Collect every student's lesson in ``sources`` into the course's ``submitted/``.

    ``moodle``/``canvas``: the platform's worksheet or gradebook export, for who handed
    in and when; ``timezone_name``: the zone the Moodle worksheet's times are in (default:
    this computer's).
    """
    course_dir = Path(course_dir)
    result = Collected()
    worksheet = MoodleWorksheet.read(moodle) if moodle else None
    export = CanvasExport.read(canvas) if canvas else None
    zone = handed_in.zone(timezone_name)
    reference = lesson_match.assignment_ids(course_dir, assignment)
    with tempfile.TemporaryDirectory(prefix=".collecting-", dir=course_dir) as staging:
        reader = _Reader(Path(staging), assignment, result)
        for index, source in enumerate(sources):
            reader.read_source(Path(source), index)
        students = _without_clashes(reader.students, result)
        _check_against(students, worksheet, export, result)
        due = _due_date(course_dir, assignment)
        records = {}
        for student in sorted(students.values(), key=lambda s: s.owner.student):
            record = _write_student(student, course_dir, assignment, reference, worksheet,
                                    export, zone, due, result)
            if record is not None:
                records[record.student] = record
    if records:
        platforms.save(course_dir, records)  # for `course return`: never guessed later
    _time_notes(students, worksheet, due, result)
    return result


# ---- whose files: the names at the top of a download -----------------------------------------

def owner_of(top: str, is_file: bool, assignment: str) -> Owner | None:
    """The owner of the download's top-level entry ``top`` (a folder, or a file when
    ``is_file``): as Moodle or Canvas named it, else as a person did; None when its name
    does not say (a bare ``mnist_cnn.ipynb``).

    Raises ValueError, naming the id, when a name given by a person cannot be a safe
    student id (``*``, ``..``, ``-rf``).
    """
    return (moodle.owner(top) or canvas.owner(top, is_file)
            or platforms.named_by_person(top, is_file, assignment))


def is_platform_name(top: str) -> bool:
    """Whether ``top`` is named the way Moodle or Canvas name a student's files."""
    return moodle.is_download_name(top) or canvas.is_download_name(top)


def plain_name(top: str) -> str:
    """A top-level file's name as the student gave it, without the platform's prefix
    (``peetersjan_31004_771001_7_mine.png`` -> ``7_mine.png``)."""
    return moodle.plain_name(top) or canvas.plain_name(top) or top


# ---- reading the downloads -----------------------------------------------------------------

class _Reader:
    """Reads downloads into a staging folder, file by file, within the limits."""

    def __init__(self, staging: Path, assignment: str, result: Collected):
        self.staging, self.assignment, self.result = staging, assignment, result
        self.students: dict[tuple, _Student] = {}
        self.staged = 0

    def read_source(self, source: Path, index: int) -> None:
        """Read one download (a zip, a folder or a file)."""
        if not source.exists():
            self.result.skipped.append(f"{source}: there is no such file or folder")
            return
        budget = Budget(downloads.MAX_DOWNLOAD_BYTES, downloads.MAX_DOWNLOAD_FILES)
        try:
            with downloads.opened(source) as entries:
                entries = [e for e in entries if not SKIP.search(e.path)]
                if _is_wrapped(entries):  # a download unpacked into a folder of its own
                    for entry in entries:
                        entry.parts = entry.parts[1:]
                for entry in entries:
                    self._top_entry(entry, index, budget)
                    if budget.files_left < 0 or budget.bytes_left <= 0:
                        self.result.skipped.append(
                            f"{source}: holds more than {downloads.MAX_DOWNLOAD_FILES:,} "
                            f"files or {downloads.MAX_DOWNLOAD_BYTES // MiB:,} MiB; the rest "
                            "was not read. Download the submissions in smaller groups.")
                        break
        except zipfile.BadZipFile:
            self.result.skipped.append(f"{source}: not a readable zip file")

    def _top_entry(self, entry: Entry, index: int, budget: Budget) -> None:
        top = entry.parts[0]
        try:
            owner = owner_of(top, len(entry.parts) == 1, self.assignment)
        except ValueError as error:
            self.result.skipped.append(f"{entry.path}: {error} Rename that folder or zip file "
                                       "to the student's id and collect again.")
            return
        if owner is None:
            kind = _kind(entry.parts[-1])
            self.result.skipped.append(f"{entry.path}: " + (
                "cannot tell whose notebook this is; put it in a folder named after the "
                "student" if kind == "notebook" else "cannot tell whose picture this is"
                if kind == "picture" else "not a notebook or a digit picture; left out"))
            return
        student = self.students.get(owner.key)
        if student is not None and student.source != index:
            self.result.notes.append(f"{owner.student}: in more than one download; took the "
                                     "files of the one given last")
            student = None
        if student is None:
            student = _Student(owner, set(), index, Budget(downloads.MAX_STUDENT_BYTES,
                                                           downloads.MAX_STUDENT_FILES))
            self.students[owner.key] = student
        student.tops.add(top)
        student.late |= owner.late
        self._file(student, entry, budget)

    def _file(self, student: _Student, entry: Entry, download: Budget) -> None:
        """Take one file of ``student``'s, opening it if it is their own zip."""
        if student.full:
            return
        download.take_file()
        if not student.budget.take_file():
            self._over(student, f"more than {downloads.MAX_STUDENT_FILES} files")
            return
        kind = _kind(entry.parts[-1])
        if kind is None:
            self._skip(student, entry, "not a notebook or a digit picture; left out")
            return
        if kind == "zip" and entry.depth >= downloads.MAX_ZIP_DEPTH:
            self._skip(student, entry, f"a zip inside zips {entry.depth} deep; not opened "
                                       "(hand in the lesson folder zipped once)")
            return
        limit = min(LIMITS[kind], max(student.budget.bytes_left, 0),
                    max(download.bytes_left, 0))
        try:
            data = entry.read(limit)
        except TooLarge as error:
            if limit == LIMITS[kind]:
                self._skip(student, entry, f"{error}; left out")
            else:
                self._over(student, f"more than {downloads.MAX_STUDENT_BYTES // MiB} MiB")
            return
        except _UNREADABLE as error:
            self._skip(student, entry, f"cannot be read from the download ({error}); left out")
            return
        student.budget.take_bytes(len(data))
        download.take_bytes(len(data))
        if kind == "zip":
            try:
                inner = downloads.inside(data, entry)
            except zipfile.BadZipFile:
                self._skip(student, entry, "not a readable zip file")
                return
            for item in inner:
                if not SKIP.search(item.path):
                    self._file(student, item, download)
            return
        staged = self.staging / str(self.staged)
        self.staged += 1
        staged.write_bytes(data)
        if kind == "notebook":
            student.notebooks.append((entry.path, staged, entry.parts[0]))
        else:
            name = plain_name(entry.parts[0]) if len(entry.parts) == 1 \
                else entry.parts[-1]
            student.pictures.append((name, staged))

    def _skip(self, student: _Student, entry: Entry, why: str) -> None:
        self.result.skipped.append(f"{student.owner.student}: {entry.path}: {why}")

    def _over(self, student: _Student, what: str) -> None:
        student.full = True
        self.result.skipped.append(
            f"{student.owner.student}: handed in {what}; the rest of their files was left "
            "out. Ask the student to hand in the lesson and their digit pictures only.")


def _kind(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    if suffix == ".ipynb":
        return "notebook"
    if suffix in DIGIT_SUFFIXES:
        return "picture"
    return "zip" if suffix == ".zip" else None


def _is_wrapped(entries: list[Entry]) -> bool:
    """Whether every file sits in one folder that is not a student's, with the students'
    folders or files in it (a platform's download unpacked into a folder)."""
    tops = {e.parts[0] for e in entries}
    return (len(tops) == 1 and all(len(e.parts) > 1 for e in entries)
            and not is_platform_name(next(iter(tops)))
            and any(is_platform_name(e.parts[1]) for e in entries))


# ---- who is who ----------------------------------------------------------------------------

def _without_clashes(students: dict[tuple, _Student], result: Collected
                     ) -> dict[tuple, _Student]:
    """The students whose id no other top-level name also gives (two are never merged)."""
    by_id: dict[str, list[_Student]] = {}
    for student in students.values():
        by_id.setdefault(student.owner.student, []).append(student)
    kept = {}
    for student_id, claimants in by_id.items():
        if len(claimants) == 1:
            kept[claimants[0].owner.key] = claimants[0]
            continue
        names = sorted(top for s in claimants for top in s.tops)
        result.skipped.append(
            f"{', '.join(names)}: each would become the student {student_id}; none collected "
            "(two students are never merged). Rename the folders or files so that each "
            "student has a name of their own, and collect again.")
    return kept


def _check_against(students: dict[tuple, _Student], worksheet: MoodleWorksheet | None,
                   export: CanvasExport | None, result: Collected) -> None:
    """Drop the participants the platform's spreadsheet does not list; refuse a
    spreadsheet that lists none of them (another assignment's or course's)."""
    for platform, sheet, listed, called in (
            (MOODLE, worksheet, worksheet.by_participant() if worksheet else {},
             "participant"),
            (CANVAS, export, export.by_user() if export else {}, "user")):
        if sheet is None:
            continue
        mine = [k for k, s in students.items() if s.owner.key[0] == platform]
        missing = [k for k in mine if k[1] not in listed]
        if mine and len(missing) == len(mine):
            raise CourseError(
                f"None of the {len(mine)} {platform.capitalize()} students in the download is "
                f"on {sheet.path.name}: is it the file of another assignment or course? Give "
                "the one of the assignment you downloaded. Nothing was collected.")
        for key in missing:
            student = students.pop(key)
            result.skipped.append(
                f"{student.owner.student}: {called} {key[1]} ({', '.join(sorted(student.tops))}) "
                f"is not on {sheet.path.name}; not collected. Download it again (with all "
                "participants shown) and collect again.")


# ---- writing each student ------------------------------------------------------------------

def _write_student(student: _Student, course_dir: Path, assignment: str,
                   reference: set[str] | None, worksheet: MoodleWorksheet | None,
                   export: CanvasExport | None, zone, due: datetime | None,
                   result: Collected) -> PlatformRecord | None:
    """Choose the lesson among the student's notebooks and write their submission; return
    their platform record (None for a folder named by a person, or when not collected)."""
    owner = student.owner
    names, notebooks, tops = [], [], []
    for shown, staged, top in student.notebooks:
        try:
            notebooks.append(nbformat.reads(staged.read_bytes().decode("utf-8"),
                                            as_version=4))
        except Exception as error:  # noqa: BLE001 - any parse failure: report, go on
            result.skipped.append(f"{owner.student}: {shown}: not a readable notebook "
                                  f"({str(error).splitlines()[0][:200]})")
            continue
        names.append(shown)
        tops.append(top)
    if not notebooks:
        if not student.notebooks:
            result.skipped.append(f"{owner.student}: no notebook in "
                                  f"{', '.join(sorted(student.tops))}; not collected")
        return None
    choice = lesson_match.choose(names, notebooks, reference, assignment)
    result.skipped.extend(f"{owner.student}: {reason}" for reason in choice.reasons)
    if choice.lesson is None:
        return None
    name, when = owner.name, None
    if owner.key[0] == MOODLE and worksheet is not None:
        row = worksheet.by_participant()[owner.key[1]]
        name = worksheet.name(row) or name
        try:
            when = worksheet.handed_in(row, zone)
        except ValueError as error:
            result.skipped.append(f"{owner.student}: the hand-in time {error}; recorded "
                                  "without one (never late)")
    elif owner.key[0] == CANVAS and export is not None:
        name = export.name(export.by_user()[owner.key[1]]) or name
    if owner.platform == CANVAS:
        when = handed_in.canvas_time(student.late, due)
    _replace_folder(step_folder(course_dir, "submitted", owner.student, assignment),
                    assignment, notebooks[choice.lesson], student.pictures, when)
    result.students.append(owner.student)
    result.names[owner.student] = name
    top = tops[choice.lesson]  # Canvas: the handed-in file (notebook or zip) it came in
    if owner.platform == MOODLE:
        return moodle.record(owner, name, top, when)
    if owner.platform == CANVAS:
        return canvas.record(owner, name, top, student.late, when)
    return None


def _replace_folder(folder: Path, assignment: str, notebook, pictures, when) -> None:
    """Write a student's submission into a new folder, then swap it for the old one whole."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    new = folder.with_name(f".{folder.name}.collecting")
    shutil.rmtree(new, ignore_errors=True)
    (new / "own_digits").mkdir(parents=True)
    nbformat.write(notebook, new / f"{assignment}.ipynb")
    if when is not None:
        (new / TIMESTAMP_FILE).write_text(handed_in.timestamp_text(when) + "\n")
    taken: set[str] = set()
    for name, staged in pictures:
        shutil.copyfile(staged, new / "own_digits" / _picture_name(name, taken))
    if folder.exists():
        old = folder.with_name(f".{folder.name}.replaced")
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        new.rename(folder)
        shutil.rmtree(old)
    else:
        new.rename(folder)


def _picture_name(name: str, taken: set[str]) -> str:
    """A safe file name for a handed-in picture, unique in ``own_digits/``; it keeps the
    digit the name starts with, which the lesson reads as the picture's label."""
    safe = re.sub(r"[^\w.-]+", "_", name).lstrip(".") or "digit"
    stem, suffix = Path(safe).stem or "digit", Path(safe).suffix.lower()
    candidate, number = f"{stem}{suffix}", 2
    while candidate.lower() in taken:
        candidate, number = f"{stem}-{number}{suffix}", number + 1
    taken.add(candidate.lower())
    return candidate


# ---- hand-in times -------------------------------------------------------------------------

def _due_date(course_dir: Path, assignment: str) -> datetime | None:
    """The assignment's due date in the gradebook (UTC), if the gradebook has one."""
    url = gradebook_url(course_dir)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None  # no gradebook yet: do not make one here
    from nbgrader.api import MissingEntry

    try:
        with open_gradebook(url) as book:
            due = book.find_assignment(assignment).duedate
    except MissingEntry:
        return None
    return due.replace(tzinfo=timezone.utc) if due else None


def _time_notes(students: dict[tuple, _Student], worksheet, due, result: Collected) -> None:
    """Say once where hand-in times could not come from the platform."""
    kinds = {s.owner.key[0] for s in students.values() if s.owner.student in result.students}
    if MOODLE in kinds and worksheet is None:
        result.notes.append(moodle.NO_TIMES_NOTE)
    late = [s.owner.student for s in students.values()
            if s.owner.platform == CANVAS and s.late and s.owner.student in result.students]
    if late:
        result.notes.append(canvas.late_note(late, due))
    if any(k == PERSON for k in kinds):
        result.notes.append(
            "Folders and files named by a person carry no hand-in time a student cannot "
            "change: collected without one (never late).")
