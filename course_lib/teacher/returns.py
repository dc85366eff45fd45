"""``course return``: grades and feedback back to where the students are.

Three routes, one command:

* **the classroom server** (nbgrader's exchange, here): feedback pages generated and
  released; each student fetches their own in the Assignments tab;
* **Moodle** (:mod:`course_lib.teacher.moodle`): the grading worksheet filled, and a zip of
  the feedback pages for "Upload multiple feedback files in a zip";
* **Canvas** (:mod:`course_lib.teacher.canvas`): the CSV its gradebook import takes, made
  from the gradebook export, and a zip of the feedback pages for "Re-upload submissions".

What the routes share is here: each student's result as the gradebook holds it, and the
rules both platforms' returns keep. Students are matched through the records ``course
collect`` kept (:mod:`course_lib.teacher.platforms`), never by their names. The grade is
nbgrader's: the total minus its late penalty (``AssignLatePenalties`` with
``LateSubmissionPlugin``), the same number ``course export`` writes to grades.csv and the
feedback page shows. A grade or comment already given on the platform is kept, and named,
unless the teacher asks to replace it; a row whose grade the platform will not change is
left, and named. A file that does not fit (another assignment's worksheet, a student
missing from it, a changed maximum grade) is refused with what was found and what to do,
and nothing is written; what is written is written whole, the way the file came (encoding,
separator, decimal commas; see :mod:`course_lib.teacher.sheets`).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.teacher import course, platforms, sheets
from course_lib.teacher.course import (
    ASSIGNMENT,
    CourseError,
    gradebook_url,
    open_gradebook,
    step_folder,
)
from course_lib.teacher.platforms import PlatformRecord, write_atomically

NOT_GRADED = {"", "-"}  # how the platforms' files show a grade not given yet


@dataclass(frozen=True)
class CellGrade:
    """One graded cell's points, as the gradebook holds them."""

    score: float | None  # None: neither autograded nor graded by hand
    max_score: float
    to_grade: bool  # a written answer nobody has graded yet


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
    total: float = 0.0  # the gradebook's total, before the late penalty
    manual_to_grade_max: float = 0.0  # the points of the written answers not graded yet
    cells: dict[str, CellGrade] = field(default_factory=dict)  # by graded cell's name

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
    with open_gradebook(gradebook_url(course_dir)) as book:
        return results_in(book, assignment)


def results_in(book, assignment: str = ASSIGNMENT) -> dict[str, Result]:
    """Every graded student's result in an open nbgrader ``Gradebook``, by student id: the
    one place where a submission's points are added up."""
    from nbgrader.api import MissingEntry

    found = {}
    for student in book.students:
        try:
            submission = book.find_submission(assignment, student.id)
        except MissingEntry:
            continue
        grades = [g for notebook in submission.notebooks for g in notebook.grades]
        auto = [g for g in grades if g.auto_score is not None]
        manual = [g for g in grades if g.needs_manual_grade]
        penalty = float(submission.late_submission_penalty or 0)
        found[student.id] = Result(
            student.id, max(0.0, float(submission.score) - penalty),
            float(submission.max_score),
            sum(float(g.score) for g in auto), sum(float(g.max_score) for g in auto),
            [g.name for g in manual],
            [_readable(g.name) for g in auto if g.score < g.max_score], penalty,
            float(submission.score), sum(float(g.max_score) for g in manual),
            {g.name: CellGrade(None if g.score is None else float(g.score),
                               float(g.max_score), bool(g.needs_manual_grade))
             for g in grades})
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

def platform_students(course_dir: Path, platform: str, graded: dict[str, Result]
                      ) -> dict[str, PlatformRecord]:
    """The graded students collected from ``platform``, by student id; refuses when there
    are none (the download was never collected here)."""
    records = {s: r for s, r in platforms.load(course_dir).items()
               if r.platform == platform and s in graded}
    if not records:
        raise CourseError(
            f"No graded student was collected from {platform.capitalize()}: `course "
            f"collect` records who is who when it reads {platform.capitalize()}'s download "
            "of the submissions. Collect that download, autograde, then return.")
    return records


def same_maximum(found: str, expected: float, path: Path, where: str) -> None:
    """Refuse a platform file whose maximum grade (``found``) is not the assignment's;
    ``where`` says where the teacher sets it on the platform."""
    value = sheets.number(found)
    if value is None or abs(value - expected) > 1e-6:
        raise CourseError(
            f"{path.name} gives {found!r} as the maximum grade, but the assignment here is "
            f"worth {expected:g} points. Set the maximum to {expected:g} in {where}, then "
            "download the file again.")


def require_everyone(records: dict[str, PlatformRecord], listed: set[str], called: str,
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


def who(record: PlatformRecord) -> str:
    """A student as the notes name them: the id, and the platform's name if known."""
    return f"{record.student} ({record.name})" if record.name else record.student


def kept(record: PlatformRecord, given: list[str], ours: Result) -> str:
    """The note for a grade or comment already ``given`` on the platform, kept."""
    return (f"{who(record)}: already has {' and '.join(given)} on the platform; kept (ours: "
            f"{ours.score:.2f}). Give --replace-grades to replace them.")


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` (name: contents), in the order of their names."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return out.getvalue()


def write_all(outputs: dict[Path, bytes]) -> list[Path]:
    """Write each file whole (or not at all), making its folder; return their paths."""
    for path, data in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
    return list(outputs)
