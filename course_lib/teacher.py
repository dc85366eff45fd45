"""The teacher's nbgrader steps with this course's defaults: generate, autograde, feedback, export.

Each step runs the real ``nbgrader`` command in the course folder, so what works here also
works typed by hand. Autograding runs one student at a time in its own process: a
submission that crashes, hangs or fills the memory costs only that student's grade.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT = "mnist_cnn"
STUDENT_TIMEOUT_SECONDS = 45 * 60  # a whole submission; cells have their own 10-minute limit


class CourseError(RuntimeError):
    """A teacher's step could not be done; the message says why and what to do."""


def require_course(course_dir: Path) -> Path:
    """Return ``course_dir`` if it is a course folder; otherwise say how to get into one."""
    course_dir = Path(course_dir)
    if not (course_dir / "nbgrader_config.py").is_file():
        raise CourseError(f"{course_dir.resolve()} is not a course folder: it has no "
                          "nbgrader_config.py. Go to the course folder, or pass --course DIR.")
    return course_dir


def nbgrader(course_dir: Path, *arguments: str, timeout: float | None = None,
             environment: dict | None = None):
    """Run ``nbgrader ARGUMENTS`` in ``course_dir``; return the finished process."""
    course_dir = require_course(course_dir)
    environment = {**os.environ, **(environment or {})}
    # nbgrader starts `alembic` and the kernel from PATH; put this environment's first.
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                           environment.get("PATH", "")])
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, "-m", "nbgrader", *arguments]
    return subprocess.run(command, cwd=course_dir, env=environment, capture_output=True,
                          text=True, timeout=timeout, check=False)


def gradebook_url(course_dir: Path) -> str:
    """The gradebook's database URL: ``CourseDirectory.db_url`` of the course's settings
    (e.g. PostgreSQL), or nbgrader's default, ``gradebook.db`` in the course folder."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course_dir = require_course(course_dir).resolve()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    return CourseDirectory(config=config, root=str(course_dir)).db_url


def _checked(course_dir: Path, *arguments: str):
    done = nbgrader(course_dir, *arguments)
    if done.returncode != 0:
        raise CourseError(f"`nbgrader {' '.join(arguments)}` failed:\n{_tail(done)}")
    return done


def _tail(done, lines: int = 15) -> str:
    text = (done.stdout or "") + (done.stderr or "")
    return "\n".join(text.strip().splitlines()[-lines:])


def generate(course_dir: Path, assignment: str = ASSIGNMENT) -> Path:
    """Generate the student version in ``release/`` from ``source/``; return its folder."""
    _checked(course_dir, "generate_assignment", assignment, "--force")
    return Path(course_dir) / "release" / assignment


def submitted_students(course_dir: Path, assignment: str = ASSIGNMENT) -> list[str]:
    """The students with a submission of ``assignment`` in ``submitted/``."""
    root = Path(course_dir) / "submitted"
    return sorted(p.parent.name for p in root.glob(f"*/{assignment}") if p.is_dir())


@dataclass
class GradingOutcome:
    """How autograding one student's submission went."""

    student: str
    ok: bool
    seconds: float
    message: str = ""


def autograde(course_dir: Path, students: list[str] | None = None,
              assignment: str = ASSIGNMENT, report=print, unsandboxed: bool = False,
              workers: int | None = 1, force: bool = True,
              scheduler: str | None = None) -> list[GradingOutcome]:
    """Autograde each student's submission in its own nbgrader run; never stop at a failure.

    Without the sandbox nbgrader refuses to grade, unless ``unsandboxed`` says to go on
    knowingly; each student's grading record then says so (see :func:`score_table`).
    ``workers``, ``force`` and ``scheduler``: see
    :func:`course_lib.class_grading.grade_class`.
    """
    from course_lib.class_grading import grade_class
    from course_lib.sandbox import course_lib_conflict

    # nbgrader, started in the course folder, imports a course_lib found there first.
    own_copy = Path(course_dir) / "course_lib"
    conflict = course_lib_conflict(own_copy if (own_copy / "__init__.py").is_file() else None)
    if conflict:
        raise CourseError(f"Not grading: {conflict}.")
    return grade_class(course_dir, students, assignment=assignment, workers=workers,
                       force=force, unsandboxed=unsandboxed, report=report,
                       scheduler=scheduler)


def sandbox_arguments(unsandboxed: bool, report=print) -> list[str]:
    """nbgrader's arguments for this computer's sandbox; refuse, or warn loudly, without."""
    from course_lib.sandbox import sandbox_problem

    problem = sandbox_problem()
    if problem and not unsandboxed:
        raise CourseError(f"Not grading: {problem}. Without the sandbox, student code runs "
                          "with your rights and can read or change the course folder. "
                          "Install bubblewrap, or grade knowingly with `course autograde "
                          "--unsandboxed`.")
    if not problem:
        return []
    report("!" * 78 + f"\n! GRADING WITHOUT A SANDBOX: {problem}.\n! Student code runs "
           "with your rights; the scores are still judged outside the\n! student's "
           "kernel, but a hostile notebook can change files.\n" + "!" * 78)
    return ["--GradeInSandbox.require_sandbox=False"]


def autograde_one(course_dir: Path, student: str, assignment: str, extra: list[str],
                  environment: dict | None = None) -> GradingOutcome:
    """One ``nbgrader autograde`` run for one student; its outcome, never an exception."""
    import time

    started = time.perf_counter()
    try:
        done = nbgrader(course_dir, "autograde", assignment, "--student", student, "--force",
                        *extra, timeout=STUDENT_TIMEOUT_SECONDS, environment=environment)
        ok, message = done.returncode == 0, "" if done.returncode == 0 else _tail(done, 8)
    except subprocess.TimeoutExpired:
        ok, message = False, f"stopped after {STUDENT_TIMEOUT_SECONDS} s"
    return GradingOutcome(student, ok, time.perf_counter() - started, message)


RECORD_NAME = "course-grading.json"


def _record_path(course_dir: Path, student: str, assignment: str) -> Path:
    return Path(course_dir) / "autograded" / student / f"{assignment}-{RECORD_NAME}"


def write_grading_record(course_dir: Path, student: str, assignment: str,
                         sandboxed: bool, submission: str = "") -> Path:
    """Note beside the graded submission how it was graded, and what was graded."""
    import json

    path = _record_path(course_dir, student, assignment)
    path.write_text(json.dumps({"sandboxed": sandboxed, "submission": submission}))
    return path


def forget_grading_record(course_dir: Path, student: str, assignment: str) -> None:
    """Remove the grading record: the submission is (being) graded anew."""
    _record_path(course_dir, student, assignment).unlink(missing_ok=True)


def read_grading_record(course_dir: Path, student: str, assignment: str) -> dict:
    """The grading record of a student's submission, or an empty dict if there is none."""
    import json

    try:
        return json.loads(_record_path(course_dir, student, assignment).read_text())
    except (OSError, ValueError):
        return {}


def graded_without_sandbox(course_dir: Path, student: str, assignment: str) -> bool:
    """Whether this student's last grading ran without the sandbox."""
    return read_grading_record(course_dir, student, assignment).get("sandboxed") is False


def feedback(course_dir: Path, assignment: str = ASSIGNMENT) -> list[Path]:
    """Write an HTML feedback page per graded student into ``feedback/``; return them."""
    _checked(course_dir, "generate_feedback", assignment, "--force")
    return sorted((Path(course_dir) / "feedback").glob(f"*/{assignment}/*.html"))


def export(course_dir: Path, path: Path | None = None) -> Path:
    """Export all grades to a CSV file (default ``grades.csv`` in the course folder)."""
    path = Path(path or Path(course_dir) / "grades.csv").resolve()
    _checked(course_dir, "export", "--to", str(path))
    return path


def score_table(course_dir: Path, assignment: str = ASSIGNMENT) -> tuple[list[str], list[list]]:
    """Scores per student and per graded cell, from the gradebook: (header, rows)."""
    from nbgrader.api import Gradebook, MissingEntry

    url = gradebook_url(course_dir)
    database = Path(course_dir).resolve() / "gradebook.db"
    if url.startswith("sqlite:///") and not database.is_file():
        raise CourseError(f"There is no gradebook in {database.parent} yet: run "
                          "`course generate` and `course autograde` first.")
    with Gradebook(url) as book:
        try:
            cells = [cell.name for notebook in book.find_assignment(assignment).notebooks
                     for cell in notebook.grade_cells]
        except MissingEntry as error:
            raise CourseError(f"The gradebook has no assignment {assignment}: run "
                              "`course generate` first.") from error
        # "test_architecture" reads as "architecture" in a table that is all tests.
        header = ["student", *(name.removeprefix("test_") for name in cells), "auto",
                  "manual to grade", "total", "sandbox"]
        rows = []
        for student in sorted(s.id for s in book.students):
            try:
                submission = book.find_submission(assignment, student)
            except MissingEntry:
                continue
            grades = {g.name: g for nb in submission.notebooks for g in nb.grades}
            auto = [g for g in grades.values() if g.auto_score is not None]
            manual = [g for g in grades.values() if g.needs_manual_grade]
            row = [student]
            row += [_points(grades.get(name)) for name in cells]
            row.append(f"{sum(g.score for g in auto):g}/{sum(g.max_score for g in auto):g}")
            row.append(f"{sum(g.max_score for g in manual):g} points" if manual else "-")
            row.append(f"{submission.score:g}/{submission.max_score:g}")
            row.append("NONE" if graded_without_sandbox(course_dir, student, assignment)
                       else "yes")
            rows.append(row)
    return header, rows


def _points(grade) -> str:
    if grade is None:
        return "?"
    if grade.needs_manual_grade:
        return "to grade"
    return f"{grade.score:g}/{grade.max_score:g}"


def format_table(header: list[str], rows: list[list]) -> str:
    """Lay out a table in fixed-width columns for the terminal."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def read_grades_csv(path: Path) -> list[dict]:
    """Read the CSV written by :func:`export` as a list of rows."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
