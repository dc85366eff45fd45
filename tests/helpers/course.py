"""Helpers for tests that run real nbgrader commands on a temporary copy of the course."""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import nbformat

from course_lib.teacher import demo

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "mnist_cnn.ipynb"


def new_course(folder: Path, extra_config: str = "", *, generate: bool = False) -> Path:
    """A fresh course in ``folder``: source and settings copied, release generated.

    The release is generated once per test run, from the current ``source/``, and copied:
    nbgrader's generate_assignment takes about 15 s for the two languages, and a dozen
    fixtures need a course. ``generate=True`` runs it in ``folder`` itself, for settings
    that change where generation writes (a gradebook in a database server, say).
    """
    if generate:
        return _generated_course(folder, extra_config)
    shutil.copytree(_template(), folder, symlinks=True)
    _add_settings(folder, extra_config)
    return folder


_TEMPLATE: list[Path] = []


def _template() -> Path:
    """The course generated once for this test run (removed when the run ends)."""
    if not _TEMPLATE:
        place = Path(tempfile.mkdtemp(prefix="course-template-"))
        atexit.register(shutil.rmtree, place, ignore_errors=True)
        _TEMPLATE.append(_generated_course(place / "course"))
    return _TEMPLATE[0]


def _add_settings(folder: Path, extra_config: str) -> None:
    if extra_config:
        with open(folder / "nbgrader_config.py", "a") as handle:
            handle.write("\n" + extra_config + "\n")


def _generated_course(folder: Path, extra_config: str = "") -> Path:
    from course_lib.teacher import course as teacher

    demo.copy_course(ROOT, folder)
    _add_settings(folder, extra_config)
    for assignment in teacher.assignments(folder):
        teacher.generate(folder, assignment)
    return folder


def course_with_submissions(folder: Path, students=("alice", "bob", "carol")) -> Path:
    """A bare course folder (an empty nbgrader_config.py) where each student handed in a
    placeholder notebook: enough for code that plans or records grading."""
    from course_lib.teacher.course import step_folder

    folder.mkdir()
    (folder / "nbgrader_config.py").write_text("c = get_config()\n")
    for student in students:
        submitted = step_folder(folder, "submitted", student, "mnist_cnn")
        submitted.mkdir(parents=True)
        (submitted / NOTEBOOK).write_text(f"{student}'s work")
    return folder


def stand_in_grader(graded: list | None = None, failing: tuple[str, ...] = ("bob",)):
    """A stand-in for one ``nbgrader autograde`` run (``course.autograde_one``): it writes a
    graded notebook, or fails as a dead kernel would for the ``failing`` students, and
    notes in ``graded`` whom it was asked for."""
    from course_lib.teacher.course import GradingOutcome, step_folder

    def grade(course_dir, student, assignment, extra, environment=None):
        if graded is not None:
            graded.append(student)
        if student in failing:
            return GradingOutcome(student, False, 1.0, "Traceback ...\nKernel died")
        out = step_folder(course_dir, "autograded", student, assignment)
        out.mkdir(parents=True, exist_ok=True)
        (out / "mnist_cnn.ipynb").write_text("graded")
        return GradingOutcome(student, True, 1.0)

    return grade


def hand_in_release_with(course: Path, student: str, answers: dict[str, str]) -> Path:
    """Hand in the student version with some answer cells replaced; return the file."""
    notebook = demo.fill_in(course / "release" / "mnist_cnn" / NOTEBOOK, answers)
    folder = course / "submitted" / student / "mnist_cnn"
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / NOTEBOOK)
    return folder / NOTEBOOK


def cell_scores(course: Path, student: str, assignment: str = "mnist_cnn") -> dict[str, float]:
    """Score of every graded cell of ``student``'s submission, from the gradebook."""
    from nbgrader.api import Gradebook

    from course_lib.teacher.course import gradebook_url

    with Gradebook(gradebook_url(course)) as book:
        submission = book.find_submission(assignment, student)
        return {grade.name: grade.score for nb in submission.notebooks for grade in nb.grades}


def auto_max_scores(course: Path) -> dict[str, float]:
    """Maximum points of every autograded test cell of the assignment."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        notebook = book.find_assignment("mnist_cnn").notebooks[0]
        return {cell.name: cell.max_score for cell in notebook.grade_cells
                if cell.cell_type == "code"}


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip archive of ``files`` (name -> contents), as a platform's download holds them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
