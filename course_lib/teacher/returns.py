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
(:mod:`course_lib.teacher.platforms`), never by their names. The grade is nbgrader's: the
total minus its late penalty (``AssignLatePenalties`` with ``LateSubmissionPlugin``), the
same number ``course export`` writes to grades.csv and the feedback page shows. A grade or
comment already given on the platform is kept, and named, unless the teacher asks to
replace it; a row whose grade the platform will not change is left, and named. A file that
does not fit (another assignment's worksheet, a student missing from it, a changed maximum
grade) is refused with what was found and what to do, and nothing is written; what is
written is written whole, the way the file came (encoding, separator, decimal commas;
see :mod:`course_lib.teacher.sheets`).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.teacher import course, platforms, sheets
from course_lib.teacher.course import ASSIGNMENT, CourseError, gradebook_url, step_folder
from course_lib.teacher.platform_sheets import NOT_GRADED, CanvasExport, MoodleWorksheet
from course_lib.teacher.platforms import CANVAS, MOODLE, PlatformRecord, write_atomically


@dataclass
class Result:
    """A student's grade for the assignment, from the gradebook."""

    student: str
    score: float  # what counts: the total minus nbgrader's late penalty, at least 0
    max_score: float
    auto: float
    auto_max: float
    manual_to_grade: list[str] = field(default_factory=list)  # written answers not graded yet
    to_look_at: list[str] = field(default_factory=list)  # autograded parts not (fully) earned
    late_penalty: float = 0.0

    def comment(self) -> str:
        """A short comment for the platform: the scores and what to look at."""
        parts = [f"Autograded: {self.auto:g} of {self.auto_max:g} points; total "
                 f"{self.score:g} of {self.max_score:g}."]
        if self.late_penalty:
            parts.append(f"Handed in late: {self.late_penalty:g} point(s) off.")
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
            penalty = float(submission.late_submission_penalty or 0)
            found[student.id] = Result(
                student.id, max(0.0, float(submission.score) - penalty),
                float(submission.max_score),
                sum(float(g.score) for g in auto), sum(float(g.max_score) for g in auto),
                [g.name for g in grades if g.needs_manual_grade],
                [_readable(g.name) for g in auto if g.score < g.max_score], penalty)
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


# ---- shared by both platforms ------------------------------------------------------------

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


def _same_maximum(found: str, expected: float, path: Path, where: str) -> None:
    value = sheets.number(found)
    if value is None or abs(value - expected) > 1e-6:
        raise CourseError(
            f"{path.name} gives {found!r} as the maximum grade, but the assignment here is "
            f"worth {expected:g} points. Set the maximum to {expected:g} in {where}, then "
            "download the file again.")


def _require_everyone(records: dict[str, PlatformRecord], listed: set[str], called: str,
                      none_listed: str, some_missing: str) -> None:
    """Refuse a platform file that lists none, or not all, of the students collected from
    the platform; ``some_missing`` has a ``{missing}`` field for who is not listed."""
    missing = [f"{r.student} ({r.name}, {called} {r.platform_id})" if r.name else
               f"{r.student} ({called} {r.platform_id})"
               for r in records.values() if r.platform_id not in listed]
    if records and len(missing) == len(records):
        raise CourseError(none_listed)
    if missing:
        raise CourseError(some_missing.replace("{missing}", "; ".join(missing)))


def _who(record: PlatformRecord) -> str:
    return f"{record.student} ({record.name})" if record.name else record.student


def _kept(record: PlatformRecord, given: list[str], ours: Result) -> str:
    return (f"{_who(record)}: already has {' and '.join(given)} on the platform; kept (ours: "
            f"{ours.score:.2f}). Give --replace-grades to replace them.")


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

def return_to_moodle(course_dir: Path, worksheet: Path, into: Path | None = None,
                     assignment: str = ASSIGNMENT, replace_grades: bool = False) -> Returned:
    """Fill Moodle's grading worksheet and zip the feedback pages for its upload.

    A grade or comment already in the worksheet is kept (and named) unless
    ``replace_grades``; a row Moodle says cannot be changed is left as it is (and named).
    """
    sheet = MoodleWorksheet.read(worksheet)
    graded = results(course_dir, assignment)
    records = _platform_students(course_dir, MOODLE, graded)
    by_participant = {r.platform_id: r for r in records.values()}
    rows = sheet.by_participant()
    _require_everyone(records, set(rows), "participant", (
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
        _same_maximum(row[sheet.maximum], result.max_score, sheet.path,
                      "the Moodle assignment's settings (Grade ▸ Maximum grade)")
        if sheet.locked(row):
            notes.append(f"{_who(record)}: Moodle says this grade cannot be changed (locked or "
                         "overridden in the gradebook), so it would skip it; left as it was "
                         f"(ours: {result.score:.2f}). Unlock it in the gradebook and return "
                         "again.")
            continue
        given = [f"the grade {row[sheet.grade].strip()}"] \
            if row[sheet.grade].strip() not in NOT_GRADED else []
        if sheet.comments is not None and row[sheet.comments].strip():
            given.append(f"the comment {_shorter(row[sheet.comments])!r}")
        if given and not replace_grades:
            notes.append(_kept(record, given, result))
            continue
        if given:
            notes.append(f"{_who(record)}: replaced {' and '.join(given)}.")
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
    pages = feedback_pages(course_dir, assignment)
    files = {f"{r.original.split('_assignsubmission_')[0]}_assignsubmission_file_"
             f"{assignment}_feedback.html": pages[s].read_bytes()
             for s, r in records.items() if s in pages}
    written = _write_all({
        into / f"moodle-grading-worksheet-{assignment}.csv": sheets.to_bytes(sheet.table),
        into / f"moodle-feedback-files-{assignment}.zip": _zip_bytes(files)})
    return Returned(written, notes)


def _shorter(text: str, length: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1] + "…"


# ---- Canvas ------------------------------------------------------------------------------

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
    graded = results(course_dir, assignment)
    collected = _platform_students(course_dir, CANVAS, graded)
    records = {s: r for s, r in collected.items() if not r.anonymous_id}
    by_user = {r.platform_id: r for r in records.values()}
    rows = sheet.by_user()
    _require_everyone(records, set(rows), "Canvas user", (
        f"None of the {len(records)} students collected from Canvas is in {sheet.path.name}: "
        "is it the gradebook of another course? Export the gradebook of the course you "
        "collected."), (
        f"{sheet.path.name} lacks students who handed in here: {{missing}}. Export the "
        "entire gradebook again."))
    for row in sheet.points_rows():
        if "read only" in row[target].lower():
            raise CourseError(f"{sheet.path.name}: Canvas marks {sheet.header[target]!r} read "
                              "only, so its import would change nothing.")
        _same_maximum(row[target], max(r.max_score for r in graded.values()), sheet.path,
                      "the Canvas assignment's settings (Points)")
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
            notes.append(f"{_who(record)}: Canvas shows {given} (" + (
                "excused" if given.upper() == "EX" else "not to be graded here: not assigned "
                "to them, or anonymous grades not posted yet") + f"); left as it was (ours: "
                f"{result.score:.2f}).")
            continue
        if given not in NOT_GRADED and not replace_grades:
            notes.append(_kept(record, [f"the score {given}"], result))
            continue
        if given not in NOT_GRADED:
            notes.append(f"{_who(record)}: replaced the score {given}.")
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
    pages = feedback_pages(course_dir, assignment)
    files = {f"{Path(r.original).stem}_feedback.html": pages[s].read_bytes()
             for s, r in collected.items() if s in pages}
    into = Path(into or course_dir)
    written = _write_all({
        into / f"canvas-gradebook-{assignment}.csv": sheets.to_bytes(sheet.table, sheets.UTF8),
        into / f"canvas-feedback-{assignment}.zip": _zip_bytes(files)})
    return Returned(written, notes)
