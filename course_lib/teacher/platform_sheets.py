"""The platforms' own spreadsheets: Moodle's grading worksheet and Canvas' gradebook export.

``course collect`` reads them for who handed in, when, and under which name; ``course
return`` fills them. Their columns, as the platforms write them:

* **Moodle** (``mod/assign/gradingtable.php`` downloading, read back by
  ``mod/assign/feedback/offline/importgradeslib.php``): Identifier (``Participant
  2847565``), Full name, identity fields, Status, Grade, Maximum Grade, Grade can be changed,
  Last modified (submission), the submission plugins' columns, Last modified (grade),
  Feedback comments. Moodle's import reads the participant id after the words of
  Identifier, the Grade, the feedback columns and Last modified (grade); it skips a grade
  that equals the current one, one of a row whose grade cannot be changed (locked or
  overridden in the gradebook), and one graded in Moodle after the worksheet was downloaded.
* **Canvas** (``lib/gradebook_exporter.rb``, read back by ``lib/gradebook_importer.rb``):
  Student (or LastName and FirstName), ID, SIS User ID, SIS Login ID, Section, a column per
  assignment named ``Title (assignment id)``, totals; under the header, a "Points Possible"
  row and, for assignments posted by hand, a "Manual Posting" row. A score is empty when
  not graded, ``EX`` when excused and ``N/A`` when the student cannot be graded there (not
  assigned, or anonymous grades not posted yet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from course_lib.teacher import sheets
from course_lib.teacher.course import CourseError
from course_lib.teacher.sheets import Table

MOODLE_WORKSHEET = "the grading worksheet of the Moodle assignment"
CANVAS_EXPORT = "the Canvas gradebook export"
_PARTICIPANT = re.compile(r"(\d+)\s*$")
CANVAS_IDENTITY = ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID",
                   "Integration ID", "Root Account", "Section")
_ASSIGNMENT_COLUMN = re.compile(r"^(?P<name>.*)\((?P<id>\d+)\)\s*$")
NOT_GRADED = {"", "-"}


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

    def locked(self, row: list[str]) -> bool:
        """Whether Moodle says this row's grade cannot be changed."""
        return self.changeable is not None and row[self.changeable].strip().lower() == "no"

    def decimal_comma(self) -> bool:
        """Whether the worksheet writes its numbers with a decimal comma."""
        return sheets.decimal_comma([row[self.maximum] for row in self.body])


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
