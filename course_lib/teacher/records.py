"""What was graded and how: a small record beside each graded submission.

``course autograde`` resumes from these: a submission graded before and unchanged since
(the same files, by their fingerprint) is skipped, and ``course summary`` says which
submissions were graded without the sandbox.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from course_lib.teacher.course import step_folder

RECORD_NAME = "course-grading.json"


def record_path(course_dir: Path, student: str, assignment: str) -> Path:
    # Beside the student's graded assignment folder, not inside it: nbgrader replaces that.
    graded = step_folder(course_dir, "autograded", student, assignment)
    return graded.parent / f"{graded.name}-{RECORD_NAME}"


def submission_digest(course_dir: Path, student: str, assignment: str) -> str:
    """A fingerprint of everything the student handed in."""
    folder = step_folder(course_dir, "submitted", student, assignment)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def write_grading_record(course_dir: Path, student: str, assignment: str,
                         sandboxed: bool, submission: str = "",
                         measured: dict | None = None) -> Path:
    """Note beside the graded submission how it was graded, what was graded, and what the
    grader measured itself (``measured``: grade id -> facts, e.g. the tuned recipe's test
    accuracy, :func:`graded_measurements`)."""
    path = record_path(course_dir, student, assignment)
    path.write_text(json.dumps({"sandboxed": sandboxed, "submission": submission,
                                "measured": measured or {}}))
    return path


def graded_measurements(course_dir: Path, student: str, assignment: str) -> dict:
    """What the grader's checks measured themselves, by grade id, read from the test cells
    of the graded notebook (where the grader alone writes it; a test cell's role comes from
    the gradebook, so a cell a student made up is never read)."""
    import nbformat

    from course_lib.autograder.handover import MEASURED_KEY, is_test_cell

    found = {}
    graded = step_folder(course_dir, "autograded", student, assignment)
    for notebook in sorted(graded.glob("*.ipynb")):
        try:
            cells = nbformat.read(notebook, as_version=4).cells
        except (OSError, ValueError):
            continue
        for cell in cells:
            if is_test_cell(cell) and isinstance(cell.metadata.get(MEASURED_KEY), dict):
                found[cell.metadata.nbgrader["grade_id"]] = dict(cell.metadata[MEASURED_KEY])
    return found


def forget_grading_record(course_dir: Path, student: str, assignment: str) -> None:
    """Remove the grading record: the submission is (being) graded anew."""
    record_path(course_dir, student, assignment).unlink(missing_ok=True)


def read_grading_record(course_dir: Path, student: str, assignment: str) -> dict:
    """The grading record of a student's submission, or an empty dict if there is none."""
    try:
        return json.loads(record_path(course_dir, student, assignment).read_text())
    except (OSError, ValueError):
        return {}


def graded_without_sandbox(course_dir: Path, student: str, assignment: str) -> bool:
    """Whether this student's last grading ran without the sandbox."""
    return read_grading_record(course_dir, student, assignment).get("sandboxed") is False


def already_graded(course_dir: Path, student: str, assignment: str) -> bool:
    """Whether this submission was graded, unchanged since, and is in the gradebook."""
    record = read_grading_record(course_dir, student, assignment)
    graded = step_folder(course_dir, "autograded", student, assignment)
    return bool(record) and record.get("submission") == submission_digest(
        course_dir, student, assignment) and any(graded.glob("*.ipynb"))
