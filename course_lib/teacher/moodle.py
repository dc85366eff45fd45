"""Moodle, both ways: whose files its download holds, its grading worksheet, and the return.

* **The download's names** (``mod/assign/classes/downloader.php``, ``get_student_prefix``):
  a folder ``Full Name_2847565_assignsubmission_file/`` per participant (``..._file_/``
  before Moodle 4.1), or, without folders, files ``Full Name_2847565_assignsubmission_file_NAME``.
  The full name has its ``_`` made spaces; with blind marking it is ``Participant`` (in the
  teacher's language). 2847565 is the participant id of the assignment, the number in the
  grading worksheet's "Participant 2847565" and the one the feedback-files upload reads
  back (``mod/assign/feedback/file/importziplib.php``).
* **The grading worksheet** (``mod/assign/gradingtable.php`` downloading, read back by
  ``mod/assign/feedback/offline/importgradeslib.php``): Identifier (``Participant
  2847565``), Full name, identity fields, Status, Grade, Maximum Grade, Grade can be changed,
  Last modified (submission), the submission plugins' columns, Last modified (grade),
  Feedback comments. Moodle's import reads the participant id after the words of
  Identifier, the Grade, the feedback columns and Last modified (grade); it skips a grade
  that equals the current one, one of a row whose grade cannot be changed (locked or
  overridden in the gradebook), and one graded in Moodle after the worksheet was downloaded.
  ``course collect`` reads it for who handed in, when, and under which name; ``course
  return`` fills it.
* **The return**: the worksheet, downloaded by the teacher, filled with each student's total
  and a short comment, ready for "Upload grading worksheet"; and a zip of the feedback pages
  named the way "Upload multiple feedback files in a zip" matches them to participants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from course_lib.teacher import handed_in, returns, sheets
from course_lib.teacher.course import ASSIGNMENT
from course_lib.teacher.platforms import MOODLE, Owner, PlatformRecord
from course_lib.teacher.returns import NOT_GRADED, Returned
from course_lib.teacher.sheets import Table

MOODLE_WORKSHEET = "the grading worksheet of the Moodle assignment"
_NAME = re.compile(r"^(?P<name>[^_]+)_(?P<participant>\d+)_assignsubmission_"
                   r"(?P<plugin>[a-z]+)(?:_(?P<rest>.*))?$", re.DOTALL)
_PARTICIPANT = re.compile(r"(\d+)\s*$")
# Said by `course collect` when Moodle's students came without the worksheet.
NO_TIMES_NOTE = (
    "Moodle's hand-in times are on its grading worksheet, not in the download (whose "
    "files carry the time the zip was made): give it with --moodle WORKSHEET.csv so "
    "that late penalties apply. Collected without times: never late.")


# ---- the download's names ------------------------------------------------------------------

def is_download_name(top: str) -> bool:
    """Whether ``top`` is named the way Moodle names a participant's folder or file."""
    return bool(_NAME.match(top))


def owner(top: str) -> Owner | None:
    """The participant a download's top-level folder or file belongs to, if Moodle named it."""
    moodle = _NAME.match(top)
    if not moodle:
        return None
    participant = moodle["participant"]
    return Owner((MOODLE, participant), f"moodle-{participant}", moodle["name"])


def plain_name(top: str) -> str | None:
    """A top-level file's name without Moodle's prefix, if Moodle named it so."""
    found = _NAME.match(top)
    return found["rest"] if found and found["rest"] else None


def record(student: Owner, name: str, top: str, when: datetime | None) -> PlatformRecord:
    """What ``course return`` needs to know of a participant collected from Moodle: ``top``
    is the folder (or file) they handed in, which the feedback files are named after."""
    return PlatformRecord(student.student, MOODLE, student.key[1], name, top,
                          handed_in=when.isoformat() if when else "")


def feedback_file_name(record: PlatformRecord, assignment: str) -> str:
    """The name under which Moodle's feedback-files upload gives a participant their page:
    the prefix of the folder they handed in, with the participant id in it."""
    return (f"{record.original.split('_assignsubmission_')[0]}_assignsubmission_file_"
            f"{assignment}_feedback.html")


# ---- the grading worksheet -----------------------------------------------------------------

@dataclass
class MoodleWorksheet:
    """A grading worksheet and where its columns are."""

    path: Path
    table: Table
    identifier: int
    grade: int
    maximum: int
    full_name: int | None
    changeable: int | None
    submitted: int | None
    comments: int | None

    @classmethod
    def read(cls, path: Path) -> MoodleWorksheet:
        """Read a worksheet; refuse a file without the columns Moodle writes."""
        table = sheets.read(path, MOODLE_WORKSHEET)
        header = table.rows[0]

        def required(name: str) -> int:
            return sheets.require(sheets.column(header, name), name, header, path,
                                  MOODLE_WORKSHEET)

        return cls(Path(path), table, required("Identifier"), required("Grade"),
                   required("Maximum Grade"), sheets.column(header, "Full name"),
                   sheets.column(header, "Grade can be changed"),
                   sheets.column(header, "Last modified (submission)"),
                   sheets.column(header, "Feedback comments"))

    @property
    def body(self) -> list[list[str]]:
        """The rows under the header, each as long as the header."""
        width = len(self.table.rows[0])
        for row in self.table.rows[1:]:
            row.extend([""] * (width - len(row)))
        return self.table.rows[1:]

    def participant(self, row: list[str]) -> str | None:
        """The participant id of a row ('Participant 2847565' -> '2847565'), if any."""
        found = _PARTICIPANT.search(row[self.identifier])
        return found[1] if found else None

    def by_participant(self) -> dict[str, list[str]]:
        """The rows, by participant id."""
        return {p: row for row in self.body if (p := self.participant(row))}

    def name(self, row: list[str]) -> str:
        """The row's full name ('' when the worksheet has none)."""
        return row[self.full_name].strip() if self.full_name is not None else ""

    def handed_in(self, row: list[str], zone) -> datetime | None:
        """When the row's participant handed in ("Last modified (submission)", read in
        ``zone``), None without that column; ValueError for a time that cannot be read."""
        if self.submitted is None:
            return None
        return handed_in.moodle_time(row[self.submitted], zone)

    def locked(self, row: list[str]) -> bool:
        """Whether Moodle says this row's grade cannot be changed."""
        return self.changeable is not None and row[self.changeable].strip().lower() == "no"

    def decimal_comma(self) -> bool:
        """Whether the worksheet writes its numbers with a decimal comma."""
        return sheets.decimal_comma([row[self.maximum] for row in self.body])


# ---- the return ----------------------------------------------------------------------------

def return_to_moodle(course_dir: Path, worksheet: Path, into: Path | None = None,
                     assignment: str = ASSIGNMENT, replace_grades: bool = False) -> Returned:
    """Fill Moodle's grading worksheet and zip the feedback pages for its upload.

    A grade or comment already in the worksheet is kept (and named) unless
    ``replace_grades``; a row Moodle says cannot be changed is left as it is (and named).
    """
    sheet = MoodleWorksheet.read(worksheet)
    graded = returns.results(course_dir, assignment)
    records = returns.platform_students(course_dir, MOODLE, graded)
    by_participant = {r.platform_id: r for r in records.values()}
    rows = sheet.by_participant()
    returns.require_everyone(records, set(rows), "participant", (
        f"None of the {len(records)} students collected from Moodle is on "
        f"{sheet.path.name}: is it the worksheet of another assignment or course? Download "
        "the worksheet of the assignment you collected."), (
        f"{sheet.path.name} lacks students who handed in here: {{missing}}. Download the "
        "worksheet again (with all participants shown) and return again."))
    comma = sheet.decimal_comma()
    notes = []
    for number, row in enumerate(sheet.body, start=2):
        record = by_participant.get(sheet.participant(row) or "")
        if record is None:
            notes.append(f"{row[sheet.identifier] or f'row {number}'}: no submission collected "
                         "here; left as it was.")
            continue
        result = graded[record.student]
        returns.same_maximum(row[sheet.maximum], result.max_score, sheet.path,
                             "the Moodle assignment's settings (Grade ▸ Maximum grade)")
        if sheet.locked(row):
            notes.append(f"{returns.who(record)}: Moodle says this grade cannot be changed "
                         "(locked or overridden in the gradebook), so it would skip it; left "
                         f"as it was (ours: {result.score:.2f}). Unlock it in the gradebook "
                         "and return again.")
            continue
        given = [f"the grade {row[sheet.grade].strip()}"] \
            if row[sheet.grade].strip() not in NOT_GRADED else []
        if sheet.comments is not None and row[sheet.comments].strip():
            given.append(f"the comment {_shorter(row[sheet.comments])!r}")
        if given and not replace_grades:
            notes.append(returns.kept(record, given, result))
            continue
        if given:
            notes.append(f"{returns.who(record)}: replaced {' and '.join(given)}.")
        row[sheet.grade] = sheets.points(result.score, comma)
        if sheet.comments is not None:
            row[sheet.comments] = result.comment()
        if result.manual_to_grade:
            notes.append(f"{record.student}: written answers not graded yet (Formgrader); "
                         "their points count as 0 in this worksheet.")
    if sheet.comments is None:
        notes.append("The worksheet has no 'Feedback comments' column: turn on Feedback "
                     "comments in the assignment's settings to return the comments too.")
    if (sheet.table.encoding, sheet.table.separator) != (sheets.UTF8, ","):
        notes.append(f"The worksheet is written as it came ({sheet.table.describe()}): choose "
                     "the same in Moodle's upload form.")
    into = Path(into or course_dir)
    pages = returns.feedback_pages(course_dir, assignment)
    files = {feedback_file_name(r, assignment): pages[s].read_bytes()
             for s, r in records.items() if s in pages}
    written = returns.write_all({
        into / f"moodle-grading-worksheet-{assignment}.csv": sheets.to_bytes(sheet.table),
        into / f"moodle-feedback-files-{assignment}.zip": returns.zip_bytes(files)})
    return Returned(written, notes)


def _shorter(text: str, length: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1] + "…"
