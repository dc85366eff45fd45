"""The teacher's demo: the whole nbgrader cycle on three made-up students, offline.

``course demo`` copies the course into a demo folder, generates the student version,
hands in three submissions (the full solution, one with typical mistakes, and the
untouched student version), autogrades them, writes feedback, exports grades to CSV and
prints a table of the scores.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import nbformat

from course_lib.teacher import course
from course_lib.teacher.autograde import autograde
from course_lib.teacher.summary import format_table, score_table

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n?", re.MULTILINE)

# The partial submission: each mistake replaces a piece of the model solution.
# Expected result: the named digit, the architecture and the interpretation fail, the
# tuned model is missing; the rest passes.
PARTIAL_MISTAKES = {
    "identify_digits": [("digit_100 = 9", "digit_100 = 4  # misread")],
    "build_network": [('layers.Dense(64, activation="relu"),',
                       'layers.Dense(32, activation="relu"),')],
    "interpret_predictions": [("correct_4 = most_likely_4 == digit_4",
                               "correct_4 = most_likely_4 != digit_4")],
    "tune_model": None,  # left as handed out
}
PARTIAL_FAILS = {"test_identify_digits", "test_architecture", "test_interpret_predictions",
                 "test_tuned_structure", "test_tuned_accuracy"}
DEMO_STUDENTS = ("demo-solution", "demo-partial", "demo-untouched")


def solution_sources(source_notebook: Path) -> dict[str, str]:
    """The model answers of the source notebook per answer cell, without solution markers."""
    notebook = nbformat.read(source_notebook, as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: SOLUTION_MARKERS.sub("", cell.source)
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def fill_in(release_notebook: Path, answers: dict[str, str | None]):
    """A copy of the student version with answer cells filled in (``None``: left as is)."""
    notebook = nbformat.read(release_notebook, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and answers.get(grade_id):
            cell.source = answers[grade_id]
    return notebook


def with_mistakes(answers: dict[str, str], mistakes: dict) -> dict[str, str | None]:
    """Apply ``mistakes`` (grade id to text replacements, or None to leave out) to answers."""
    changed = dict(answers)
    for grade_id, replacements in mistakes.items():
        if replacements is None:
            changed[grade_id] = None
            continue
        for old, new in replacements:
            if old not in changed[grade_id]:
                raise ValueError(f"The model answer of {grade_id} no longer contains {old!r}; "
                                 "update PARTIAL_MISTAKES in course_lib/teacher/demo.py.")
            changed[grade_id] = changed[grade_id].replace(old, new)
    return changed


def hand_in(course_dir: Path, assignment: str = course.ASSIGNMENT) -> list[str]:
    """Write the three demo submissions into ``submitted/``; return the student ids."""
    course_dir = Path(course_dir)
    release = course.step_folder(course_dir, "release", assignment=assignment)
    notebook_name = f"{assignment}.ipynb"
    source = course.step_folder(course_dir, "source", assignment=assignment)
    answers = solution_sources(source / notebook_name)
    versions = {
        "demo-solution": fill_in(release / notebook_name, answers),
        "demo-partial": fill_in(release / notebook_name, with_mistakes(answers, PARTIAL_MISTAKES)),
        "demo-untouched": nbformat.read(release / notebook_name, as_version=4),
    }
    for student, notebook in versions.items():
        folder = course.step_folder(course_dir, "submitted", student, assignment)
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(release, folder)
        nbformat.write(notebook, folder / notebook_name)
        if student != "demo-untouched":
            write_own_digits(folder / "own_digits")
    return list(versions)


OWN_DIGITS = (3, 5, 8)  # the demo students' "own" handwriting


def write_own_digits(folder: Path) -> list[Path]:
    """Write three handwritten digits into ``folder`` as a student's photos would be.

    They are digits of the embedded sample's test set, drawn dark on light paper and
    enlarged: a stand-in for a demo student's own handwriting.
    """
    from PIL import Image

    from course_lib.lesson.data import load_mnist

    _, (images, labels), _ = load_mnist(quiet=True, allow_download=False)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for digit in OWN_DIGITS:
        picture = 255 - images[list(labels).index(digit)]
        path = folder / f"{digit}_mine.png"
        Image.fromarray(picture).resize((112, 112), Image.BICUBIC).save(path)
        written.append(path)
    return written


def copy_course(project_dir: Path, demo_dir: Path) -> Path:
    """Copy the course's source, translations and settings into a fresh ``demo_dir``."""
    project_dir, demo_dir = Path(project_dir), Path(demo_dir)
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    shutil.copytree(project_dir / "source", demo_dir / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    if (project_dir / "translations").is_dir():  # so that the copy's lesson can change too
        shutil.copytree(project_dir / "translations", demo_dir / "translations")
    shutil.copy(project_dir / "nbgrader_config.py", demo_dir)
    return demo_dir


def run_demo(project_dir: Path, demo_dir: Path, report=print) -> dict:
    """Run the whole cycle in ``demo_dir``; return the paths and timings it produced."""
    from course_lib.lesson.data import load_mnist

    _, _, source = load_mnist(quiet=True, allow_download=False)
    report(f"Demo course in {demo_dir}, on {source}.")
    if not source.is_full:
        report("  (No full MNIST here, so the demo runs offline on the embedded sample, with "
               "its training lengths and pass marks. `course data status` says more.)")
    copy_course(project_dir, demo_dir)

    report("1. nbgrader generate_assignment: the student version")
    course.generate(demo_dir)
    report("2. hand in three submissions: " + ", ".join(hand_in(demo_dir)))
    report("3. nbgrader autograde, one student at a time")
    started = time.perf_counter()
    # The demo's own submissions are harmless: grade them even where no sandbox runs.
    outcomes = autograde(demo_dir, list(DEMO_STUDENTS), report=report, unsandboxed=True,
                         workers=1)
    autograde_seconds = time.perf_counter() - started
    report("4. nbgrader generate_feedback")
    pages = course.feedback(demo_dir)
    report("5. nbgrader export")
    csv_path = course.export(demo_dir)
    header, rows = score_table(demo_dir)
    report("\n" + format_table(header, rows) + "\n")
    report(f"Feedback pages: {', '.join(str(p) for p in pages)}")
    report(f"Grades: {csv_path}")
    report(f"Autograding took {autograde_seconds:.0f} s for {len(outcomes)} submissions.")
    return {"outcomes": outcomes, "feedback": pages, "csv": csv_path, "table": (header, rows)}
