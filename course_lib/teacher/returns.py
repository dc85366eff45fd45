"""``course return``: grades and feedback back to where the students are.

Three routes, one command:

* **the classroom server** (nbgrader's exchange): feedback pages generated and released;
  each student fetches their own in the Assignments tab;
* **Moodle**: the assignment's grading worksheet, downloaded by the teacher, filled with each
  student's total and a short comment, ready for "Upload grading worksheet"; and a zip of
  the feedback pages named the way "Upload multiple feedback files in a zip" matches them
  to participants;
* **Canvas**: the gradebook export, downloaded by the teacher, turned into the CSV that
  Canvas' gradebook import takes (Student, ID, SIS User ID, SIS Login ID, Section, the
  assignment's column with its id); and a zip of the feedback pages named after the
  original submissions, which "Re-upload submissions" attaches as comments.

Students are matched through the records ``course collect`` kept
(:mod:`course_lib.teacher.platforms`), never by their names. A file that does not fit (another
assignment's worksheet, a student missing from it, a changed maximum grade, a file saved
by a spreadsheet program as Windows-1252 or with semicolons) is refused with what was
found and what to do, and nothing is written; what is written is written whole.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.teacher import course, platforms
from course_lib.teacher.course import ASSIGNMENT, CourseError, gradebook_url, step_folder
from course_lib.teacher.platforms import CANVAS, MOODLE, PlatformRecord, write_atomically


@dataclass
class Result:
    """A student's grade for the assignment, from the gradebook."""

    student: str
    score: float
    max_score: float
    auto: float
    auto_max: float
    manual_to_grade: list[str] = field(default_factory=list)  # written answers not graded yet
    to_look_at: list[str] = field(default_factory=list)  # autograded parts not (fully) earned

    def comment(self) -> str:
        """A short comment for the platform: the scores and what to look at."""
        parts = [f"Autograded: {self.auto:g} of {self.auto_max:g} points; total "
                 f"{self.score:g} of {self.max_score:g}."]
        if self.manual_to_grade:
            parts.append("Written answers not graded yet.")
        if self.to_look_at:
            parts.append("Look at: " + ", ".join(self.to_look_at) + ".")
        else:
            parts.append("Every autograded check passed.")
        parts.append("The feedback page explains each check.")
        return " ".join(parts)


@dataclass
class Returned:
    """What ``course return`` wrote, and what the teacher should know about it."""

    files: list[Path]
    notes: list[str] = field(default_factory=list)


def results(course_dir: Path, assignment: str = ASSIGNMENT) -> dict[str, Result]:
    """Every graded student's result, by student id."""
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(gradebook_url(course_dir)) as book:
        for student in book.students:
            try:
                submission = book.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            grades = [g for notebook in submission.notebooks for g in notebook.grades]
            auto = [g for g in grades if g.auto_score is not None]
            found[student.id] = Result(
                student.id, float(submission.score), float(submission.max_score),
                sum(float(g.score) for g in auto), sum(float(g.max_score) for g in auto),
                [g.name for g in grades if g.needs_manual_grade],
                [_readable(g.name) for g in auto if g.score < g.max_score])
    return found


def _readable(cell: str) -> str:
    """A graded cell's id in words: test_tuned_accuracy -> 'tuned accuracy'."""
    return cell.removeprefix("test_").replace("_", " ")


def feedback_pages(course_dir: Path, assignment: str = ASSIGNMENT) -> dict[str, Path]:
    """Generate the feedback pages; each student's page, by student id."""
    pages = course.feedback(course_dir, assignment)
    root = step_folder(course_dir, "feedback", "*", assignment)
    depth = len(root.parts) - root.parts.index("*")  # the student's part, from the end
    return {page.parent.parts[-depth]: page for page in pages}


# ---- the classroom server ----------------------------------------------------------------

def release_feedback(course_dir: Path, assignment: str = ASSIGNMENT) -> Returned:
    """Generate the feedback pages and release them through nbgrader's exchange."""
    pages = feedback_pages(course_dir, assignment)
    course.checked(course_dir, "release_feedback", assignment)
    return Returned(sorted(pages.values()),
                    [f"Released {len(pages)} feedback page(s): each student fetches their "
                     "own in the Assignments tab (Fetch Feedback)."])


# ---- reading a platform's spreadsheet ------------------------------------------------------

def read_table(path: Path, what: str) -> tuple[list[list[str]], bool]:
    """The rows of a CSV file a platform wrote, and whether it began with a UTF-8 mark.

    Refuses, saying what to do, a file that is not UTF-8 or is separated by semicolons:
    spreadsheet programs with Dutch or German settings save CSV that way, and neither
    platform reads it back.
    """
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"There is no file {path}: give the path of the {what} you "
                          "downloaded.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CourseError(
            f"{path.name} is not UTF-8 text (byte {error.start} is {raw[error.start]:#x}): "
            f"it looks saved again by a spreadsheet program, in its own encoding. Download "
            f"the {what} again and give it as it came, or save it as 'CSV UTF-8'.") from None
    header = text.splitlines()[0] if text.strip() else ""
    if not header:
        raise CourseError(f"{path.name} is empty: download the {what} again.")
    if header.count(";") > header.count(","):
        raise CourseError(
            f"{path.name} is separated by semicolons, as spreadsheet programs with Dutch or "
            f"German settings save CSV; the platform reads commas only. Download the {what} "
            "again and give it as it came, or save it with commas.")
    return list(csv.reader(io.StringIO(text))), raw.startswith(b"\xef\xbb\xbf")


def _csv_bytes(rows: list[list[str]], bom: bool) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def _column(header: list[str], *names: str) -> int | None:
    """The index of the first column called one of ``names`` (case aside), or None."""
    wanted = {name.lower() for name in names}
    for index, title in enumerate(header):
        if title.strip().lower() in wanted:
            return index
    return None


def _require(index: int | None, name: str, header: list[str], path: Path, what: str) -> int:
    if index is None:
        raise CourseError(
            f"{path.name} has no column '{name}', so it is not {what}. Its columns are: "
            + ", ".join(repr(h) for h in header) + ". (The platform names columns in the "
            "language you use it in: switch it to English before downloading.)")
    return index


def _platform_students(course_dir: Path, platform: str, graded: dict[str, Result]
                       ) -> dict[str, PlatformRecord]:
    records = {s: r for s, r in platforms.load(course_dir).items()
               if r.platform == platform and s in graded}
    if not records:
        raise CourseError(
            f"No graded student was collected from {platform.capitalize()}: `course "
            f"collect` records who is who when it reads {platform.capitalize()}'s download "
            "of the submissions. Collect that download, autograde, then return.")
    return records


def _points(score: float) -> str:
    return f"{score:.2f}"


def _same_maximum(found: str, expected: float, path: Path, where: str) -> None:
    try:
        value = float(found.strip().replace(",", "."))
    except ValueError:
        value = None
    if value is None or abs(value - expected) > 1e-6:
        raise CourseError(
            f"{path.name} gives {found!r} as the maximum grade, but the assignment here is "
            f"worth {expected:g} points. Set the maximum to {expected:g} in {where}, then "
            "download the file again.")


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return out.getvalue()


def _write_all(outputs: dict[Path, bytes]) -> list[Path]:
    for path, data in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    return list(outputs)


# ---- Moodle ------------------------------------------------------------------------------

MOODLE_WORKSHEET = "the grading worksheet of the Moodle assignment"
_PARTICIPANT = re.compile(r"(\d+)\s*$")


def return_to_moodle(course_dir: Path, worksheet: Path, into: Path | None = None,
                     assignment: str = ASSIGNMENT) -> Returned:
    """Fill Moodle's grading worksheet and zip the feedback pages for its upload."""
    rows, bom = read_table(worksheet, MOODLE_WORKSHEET)
    worksheet = Path(worksheet)
    header, body = rows[0], rows[1:]
    identifier = _require(_column(header, "Identifier"),
                          "Identifier", header, worksheet, MOODLE_WORKSHEET)
    grade = _require(_column(header, "Grade"), "Grade",
                     header, worksheet, MOODLE_WORKSHEET)
    maximum = _require(_column(header, "Maximum grade"),
                       "Maximum grade", header, worksheet, MOODLE_WORKSHEET)
    comments = _column(header, "Feedback comments")
    graded = results(course_dir, assignment)
    records = _platform_students(course_dir, MOODLE, graded)
    by_participant = {r.platform_id: r for r in records.values()}
    participants = [_participant(row, identifier) for row in body]
    _require_everyone(records, set(participants) - {None}, "participant", (
        f"None of the {len(records)} students collected from Moodle is on {worksheet.name}: "
        "is it the worksheet of another assignment or course? Download the worksheet of the "
        "assignment you collected."), (
        f"{worksheet.name} lacks students who handed in here: {{missing}}. Download the "
        "worksheet again (with all participants shown) and return again."))
    notes, pages = [], feedback_pages(course_dir, assignment)
    for number, (row, participant) in enumerate(zip(body, participants, strict=True), start=2):
        record = by_participant.get(participant)
        if record is None:
            notes.append(f"{row[identifier] or f'row {number}'}: no submission collected "
                         "here; left as it was.")
            continue
        result = graded[record.student]
        _same_maximum(row[maximum], result.max_score, worksheet,
                      "the Moodle assignment's settings (Grade ▸ Maximum grade)")
        row[grade] = _points(result.score)
        if comments is not None:
            row[comments] = result.comment()
        if result.manual_to_grade:
            notes.append(f"{record.student}: written answers not graded yet (Formgrader); "
                         "their points count as 0 in this worksheet.")
    if comments is None:
        notes.append("The worksheet has no 'Feedback comments' column: turn on Feedback "
                     "comments in the assignment's settings to return the comments too.")
    into = Path(into or course_dir)
    files = {f"{r.original.split('_assignsubmission_')[0]}_assignsubmission_file_"
             f"{assignment}_feedback.html": pages[s].read_bytes()
             for s, r in records.items() if s in pages}
    written = _write_all({
        into / f"moodle-grading-worksheet-{assignment}.csv": _csv_bytes(rows, bom),
        into / f"moodle-feedback-files-{assignment}.zip": _zip_bytes(files)})
    return Returned(written, notes)


def _participant(row: list[str], identifier: int) -> str | None:
    """The Moodle participant id of a worksheet row ('Participant 123456'), if it has one."""
    found = _PARTICIPANT.search(row[identifier]) if len(row) > identifier else None
    return found[1] if found else None


def _require_everyone(records: dict[str, PlatformRecord], listed: set[str], called: str,
                      none_listed: str, some_missing: str) -> None:
    """Refuse a platform file that lists none, or not all, of the students collected from
    the platform; ``some_missing`` has a ``{missing}`` field for who is not listed."""
    missing = [f"{r.student} ({r.name}, {called} {r.platform_id})"
               for r in records.values() if r.platform_id not in listed]
    if len(missing) == len(records):
        raise CourseError(none_listed)
    if missing:
        raise CourseError(some_missing.replace("{missing}", "; ".join(missing)))


# ---- Canvas ------------------------------------------------------------------------------

CANVAS_EXPORT = "the Canvas gradebook export"
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
_ASSIGNMENT_COLUMN = re.compile(r"^(?P<name>.*)\((?P<id>\d+)\)\s*$")
_NOT_STUDENTS = ("points possible", "manual posting")  # rows under the header, not people


def return_to_canvas(course_dir: Path, export: Path, into: Path | None = None,
                     column: str | None = None, assignment: str = ASSIGNMENT) -> Returned:
    """The gradebook CSV Canvas imports, and the feedback pages zipped for re-upload."""
    rows, bom = read_table(export, CANVAS_EXPORT)
    export = Path(export)
    header, body = rows[0], rows[1:]
    identity = [_column(header, name) for name in CANVAS_IDENTITY]
    student_column = _require(identity[0], "Student", header, export, CANVAS_EXPORT)
    user = _require(identity[1], "ID", header, export, CANVAS_EXPORT)
    target = _assignment_column(header, column, export)
    graded = results(course_dir, assignment)
    records = _platform_students(course_dir, CANVAS, graded)
    by_user = {r.platform_id: r for r in records.values()}
    people = [row for row in body
              if row and row[student_column].strip().lower() not in _NOT_STUDENTS]
    points = [row for row in body
              if row and row[student_column].strip().lower() == "points possible"]
    _require_everyone(records, {row[user].strip() for row in people if len(row) > user},
                      "Canvas user", (
        f"None of the {len(records)} students collected from Canvas is in {export.name}: is "
        "it the gradebook of another course? Export the gradebook of the course you "
        "collected."), (
        f"{export.name} lacks students who handed in here: {{missing}}. Export the entire "
        "gradebook again."))
    notes = []
    for row in points:
        _same_maximum(row[target], max(r.max_score for r in graded.values()), export,
                      "the Canvas assignment's settings (Points)")
    keep = [index for index in identity if index is not None] + [target]
    table = [[header[i] for i in keep]]
    for row in body:
        row = row + [""] * (len(header) - len(row))
        record = by_user.get(row[user].strip())
        if record is not None:
            row[target] = _points(graded[record.student].score)
            if graded[record.student].manual_to_grade:
                notes.append(f"{record.student}: written answers not graded yet "
                             "(Formgrader); their points count as 0 here.")
        elif row[student_column].strip().lower() not in _NOT_STUDENTS:
            notes.append(f"{row[student_column]}: no submission collected here; left as it "
                         "was.")
        table.append([row[i] for i in keep])
    pages = feedback_pages(course_dir, assignment)
    files = {f"{Path(r.original).stem}_feedback.html": pages[s].read_bytes()
             for s, r in records.items() if s in pages}
    into = Path(into or course_dir)
    written = _write_all({
        into / f"canvas-gradebook-{assignment}.csv": _csv_bytes(table, bom),
        into / f"canvas-feedback-{assignment}.zip": _zip_bytes(files)})
    return Returned(written, notes)


def _assignment_column(header: list[str], column: str | None, path: Path) -> int:
    """The assignment's column: the one named (or numbered) by the teacher, or the only one."""
    candidates = [i for i, title in enumerate(header) if _ASSIGNMENT_COLUMN.match(title)]
    if column:
        chosen = [i for i in candidates if header[i].strip() == column.strip()
                  or _ASSIGNMENT_COLUMN.match(header[i])["id"] == column.strip()]
        if len(chosen) == 1:
            return chosen[0]
        raise CourseError(f"{path.name} has no assignment column {column!r}. Its assignment "
                          "columns are: " + ", ".join(repr(header[i]) for i in candidates))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise CourseError(f"{path.name} has no assignment column (a name with its id, such "
                          "as 'MNIST CNN (1234)'): is it Canvas' gradebook export?")
    raise CourseError(f"{path.name} has several assignments: "
                      + ", ".join(repr(header[i]) for i in candidates)
                      + ". Say which with --column, e.g. --column "
                      + repr(header[candidates[0]]) + ".")
