"""Canvas, both ways: whose files its download holds, its gradebook export, and the return.

* **The download's names** (``lib/content_zipper.rb``, ``get_filename``): each file
  ``sortablename_31004_771001_NAME`` (``sortablename_LATE_31004_...`` when late), where
  31004 is the user id (the gradebook export's ``ID``) and 771001 the id of the handed-in
  file, which "Re-upload submissions" reads back. With anonymous grading:
  ``anon_Xk3Pq_771001_NAME`` (``LATE_anon_...``), Xk3Pq being the submission's anonymous id.
* **The gradebook export** (``lib/gradebook_exporter.rb``, read back by
  ``lib/gradebook_importer.rb``): Student (or LastName and FirstName), ID, SIS User ID, SIS
  Login ID, Section, a column per assignment named ``Title (assignment id)``, totals; under
  the header, a "Points Possible" row and, for assignments posted by hand, a "Manual
  Posting" row. A score is empty when not graded, ``EX`` when excused and ``N/A`` when the
  student cannot be graded there (not assigned, or anonymous grades not posted yet).
  ``course collect`` reads it for who handed in and under which name; ``course return``
  fills it.
* **The return**: the export turned into the CSV that Canvas' gradebook import takes
  (Student, ID, SIS User ID, SIS Login ID, Section, the assignment's column with its id);
  and a zip of the feedback pages named after the original submissions, which "Re-upload
  submissions" attaches as comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from course_lib.teacher import returns, sheets
from course_lib.teacher.course import ASSIGNMENT, CourseError
from course_lib.teacher.platforms import CANVAS, CANVAS_ANONYMOUS, Owner, PlatformRecord
from course_lib.teacher.returns import NOT_GRADED, Returned
from course_lib.teacher.sheets import Table

CANVAS_EXPORT = "the Canvas gradebook export"
CANVAS_IDENTITY = ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID",
                   "Integration ID", "Root Account", "Section")
_NAME = re.compile(r"^(?:(?P<name>.*?)_)?(?:(?P<late>LATE)_)?(?P<user>\d+)_"
                   r"(?P<file>\d+)_(?P<rest>.+)$", re.DOTALL)
_ANONYMOUS = re.compile(r"^(?:(?P<late>LATE)_)?anon_(?P<anonymous>[A-Za-z0-9]+)_"
                        r"(?P<file>\d+)_(?P<rest>.+)$", re.DOTALL)
_ASSIGNMENT_COLUMN = re.compile(r"^(?P<name>.*)\((?P<id>\d+)\)\s*$")


# ---- the download's names ------------------------------------------------------------------

def is_download_name(top: str) -> bool:
    """Whether ``top`` is named the way Canvas names a handed-in file."""
    return bool(_ANONYMOUS.match(top) or _NAME.match(top))


def owner(top: str, is_file: bool) -> Owner | None:
    """The student a download's top-level file belongs to, if Canvas named it (Canvas
    names files only, never folders)."""
    if not is_file:
        return None
    anonymous = _ANONYMOUS.match(top)
    if anonymous:
        return Owner((CANVAS_ANONYMOUS, anonymous["anonymous"]),
                     f"canvas-anon-{anonymous['anonymous']}", "", bool(anonymous["late"]),
                     anonymous["file"])
    canvas = _NAME.match(top)
    if canvas:
        return Owner((CANVAS, canvas["user"]), f"canvas-{canvas['user']}",
                     canvas["name"] or "", bool(canvas["late"]), canvas["file"])
    return None


def plain_name(top: str) -> str | None:
    """A top-level file's name without Canvas' prefix, if Canvas named it so
    (``peetersjan_31004_771001_7_mine.png`` -> ``7_mine.png``)."""
    for pattern in (_ANONYMOUS, _NAME):
        found = pattern.match(top)
        if found and found["rest"]:
            return found["rest"]
    return None


def record(student: Owner, name: str, top: str, late: bool, when: datetime | None
           ) -> PlatformRecord:
    """What ``course return`` needs to know of a student collected from Canvas: ``top`` is
    the handed-in file (notebook or zip) the lesson came in, whose id the re-upload reads."""
    anonymous = student.key[0] == CANVAS_ANONYMOUS
    return PlatformRecord(
        student.student, CANVAS, "" if anonymous else student.key[1], name, top,
        file_id=owner(top, True).file_id, anonymous_id=student.key[1] if anonymous else "",
        late=late, handed_in=when.isoformat() if when else "")


def late_note(late: list[str], due: datetime | None) -> str:
    """What ``course collect`` says of the students Canvas marked late (``late``, not
    empty): Canvas says only that they were, not when they handed in."""
    if due is None:
        return (f"Canvas marks {', '.join(sorted(late))} late, but the gradebook has no due "
                "date for this assignment: no late penalty. Set it (nbgrader db assignment "
                "add ASSIGNMENT --duedate ...) before collecting to apply nbgrader's penalty.")
    return (f"Canvas marks {', '.join(sorted(late))} late without saying by how much: "
            "recorded as handed in one second after the due date.")


def feedback_file_name(record: PlatformRecord) -> str:
    """The name under which "Re-upload submissions" attaches a student's page: that of the
    file they handed in, which holds their user (or anonymous) id and the file's id."""
    return f"{Path(record.original).stem}_feedback.html"


# ---- the gradebook export ------------------------------------------------------------------

@dataclass
class CanvasExport:
    """A gradebook export and where its columns and rows are."""

    path: Path
    table: Table
    student: int  # Student, or LastName
    first_name: int | None
    user: int
    identity: list[int]  # the columns Canvas' import needs to know the students

    @classmethod
    def read(cls, path: Path) -> CanvasExport:
        """Read an export; refuse a file without Canvas' student columns."""
        table = sheets.read(path, CANVAS_EXPORT)
        header = table.rows[0]
        student = sheets.column(header, "Student")
        first_name = None
        if student is None and sheets.column(header, "LastName") is not None:
            student = sheets.column(header, "LastName")
            first_name = sheets.column(header, "FirstName")
        student = sheets.require(student, "Student", header, path, CANVAS_EXPORT)
        user = sheets.require(sheets.column(header, "ID"), "ID", header, path, CANVAS_EXPORT)
        identity = [i for name in CANVAS_IDENTITY
                    if (i := sheets.column(header, name)) is not None]
        return cls(Path(path), table, student, first_name, user, identity)

    @property
    def header(self) -> list[str]:
        """The header row."""
        return self.table.rows[0]

    @property
    def body(self) -> list[list[str]]:
        """The rows under the header, each as long as the header."""
        width = len(self.header)
        for row in self.table.rows[1:]:
            row.extend([""] * (width - len(row)))
        return self.table.rows[1:]

    def is_student(self, row: list[str]) -> bool:
        """Whether a row is a student's, not "Points Possible" or "Manual Posting"."""
        return bool(row[self.user].strip()) and "points possible" not in row[self.student].lower()

    def points_rows(self) -> list[list[str]]:
        """The "Points Possible" row(s)."""
        return [row for row in self.body if "points possible" in row[self.student].lower()]

    def by_user(self) -> dict[str, list[str]]:
        """The students' rows, by Canvas user id."""
        return {row[self.user].strip(): row for row in self.body if self.is_student(row)}

    def name(self, row: list[str]) -> str:
        """A student row's name, as the export writes it."""
        if self.first_name is None:
            return row[self.student].strip()
        return f"{row[self.first_name].strip()} {row[self.student].strip()}".strip()

    def assignment_column(self, column: str | None) -> int:
        """The assignment's column: the one named (or numbered) by the teacher, or the
        only one."""
        header = self.header
        candidates = [i for i, title in enumerate(header) if _ASSIGNMENT_COLUMN.match(title)]
        if column:
            chosen = [i for i in candidates if header[i].strip() == column.strip()
                      or _ASSIGNMENT_COLUMN.match(header[i])["id"] == column.strip()]
            if len(chosen) == 1:
                return chosen[0]
            raise CourseError(f"{self.path.name} has no assignment column {column!r}. Its "
                              "assignment columns are: "
                              + ", ".join(repr(header[i]) for i in candidates))
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise CourseError(f"{self.path.name} has no assignment column (a name with its "
                              "id, such as 'MNIST CNN (1234)'): is it Canvas' gradebook "
                              "export?")
        raise CourseError(f"{self.path.name} has several assignments: "
                          + ", ".join(repr(header[i]) for i in candidates)
                          + ". Say which with --column, e.g. --column "
                          + repr(header[candidates[0]]) + ".")

    def decimal_comma(self, target: int) -> bool:
        """Whether the export writes its numbers with a decimal comma (Canvas does so, with
        ';' between the columns, in languages such as Dutch and German)."""
        return sheets.decimal_comma([row[target] for row in self.body])


# ---- the return ----------------------------------------------------------------------------

def return_to_canvas(course_dir: Path, export: Path, into: Path | None = None,
                     column: str | None = None, assignment: str = ASSIGNMENT,
                     replace_grades: bool = False) -> Returned:
    """The gradebook CSV Canvas imports, and the feedback pages zipped for re-upload.

    A score already in the export is kept (and named) unless ``replace_grades``; an
    excused student (``EX``) and one Canvas cannot grade there (``N/A``) are left as they
    are. Students graded anonymously are not in the gradebook under their ids until
    Canvas posts the grades: their grades are listed for SpeedGrader instead.
    """
    sheet = CanvasExport.read(export)
    target = sheet.assignment_column(column)
    graded = returns.results(course_dir, assignment)
    collected = returns.platform_students(course_dir, CANVAS, graded)
    records = {s: r for s, r in collected.items() if not r.anonymous_id}
    by_user = {r.platform_id: r for r in records.values()}
    rows = sheet.by_user()
    returns.require_everyone(records, set(rows), "Canvas user", (
        f"None of the {len(records)} students collected from Canvas is in {sheet.path.name}: "
        "is it the gradebook of another course? Export the gradebook of the course you "
        "collected."), (
        f"{sheet.path.name} lacks students who handed in here: {{missing}}. Export the "
        "entire gradebook again."))
    for row in sheet.points_rows():
        if "read only" in row[target].lower():
            raise CourseError(f"{sheet.path.name}: Canvas marks {sheet.header[target]!r} read "
                              "only, so its import would change nothing.")
        returns.same_maximum(row[target], max(r.max_score for r in graded.values()),
                             sheet.path, "the Canvas assignment's settings (Points)")
    comma = sheet.decimal_comma(target)
    notes = []
    for row in sheet.body:
        if not sheet.is_student(row):
            continue
        record = by_user.get(row[sheet.user].strip())
        if record is None:
            notes.append(f"{sheet.name(row)}: no submission collected here; left as it was.")
            continue
        result, given = graded[record.student], row[target].strip()
        if given.upper() in ("EX", "N/A"):
            notes.append(f"{returns.who(record)}: Canvas shows {given} (" + (
                "excused" if given.upper() == "EX" else "not to be graded here: not assigned "
                "to them, or anonymous grades not posted yet") + f"); left as it was (ours: "
                f"{result.score:.2f}).")
            continue
        if given not in NOT_GRADED and not replace_grades:
            notes.append(returns.kept(record, [f"the score {given}"], result))
            continue
        if given not in NOT_GRADED:
            notes.append(f"{returns.who(record)}: replaced the score {given}.")
        row[target] = sheets.points(result.score, comma)
        if result.manual_to_grade:
            notes.append(f"{record.student}: written answers not graded yet (Formgrader); "
                         "their points count as 0 here.")
    for record in sorted(collected.values(), key=lambda r: r.student):
        if record.anonymous_id:
            notes.append(f"{record.student}: graded anonymously on Canvas (anonymous id "
                         f"{record.anonymous_id}); enter {graded[record.student].score:.2f} in "
                         "SpeedGrader, which shows that id: the gradebook import cannot "
                         "grade unposted anonymous submissions.")
    keep = sheet.identity + [target]
    sheet.table.rows = [[row[i] for i in keep] for row in sheet.table.rows]
    if sheet.table.encoding != sheets.UTF8:
        notes.append(f"{sheet.path.name} came as {sheet.table.describe()}; Canvas reads UTF-8, "
                     "so the import file is written in UTF-8.")
    pages = returns.feedback_pages(course_dir, assignment)
    files = {feedback_file_name(r): pages[s].read_bytes()
             for s, r in collected.items() if s in pages}
    into = Path(into or course_dir)
    written = returns.write_all({
        into / f"canvas-gradebook-{assignment}.csv": sheets.to_bytes(sheet.table, sheets.UTF8),
        into / f"canvas-feedback-{assignment}.zip": returns.zip_bytes(files)})
    return Returned(written, notes)
