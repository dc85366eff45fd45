"""Which of a student's notebooks is the lesson: found by its content, not its name.

A student may hand in the lesson under any name (``mnist_cnn (1).ipynb``,
``Peeters_lesson.ipynb``) and other notebooks beside it (``Untitled.ipynb``, notes). The
lesson is the notebook that holds the assignment's graded cells: nbgrader keeps each
answer and test cell's ``grade_id`` in the cell's metadata, and the student version in
``release/`` says which ids the assignment has. The notebook with the most of them is the
lesson; the others are reported and not graded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_solution

from course_lib.teacher.course import step_folder


def graded_ids(notebook: nbformat.NotebookNode) -> set[str]:
    """The grade ids of a notebook's answer and test cells."""
    return {cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
            if (is_grade(cell) or is_solution(cell))
            and cell.metadata["nbgrader"].get("grade_id")}


def assignment_ids(course_dir: Path, assignment: str) -> set[str] | None:
    """The grade ids of the assignment's graded cells, from its student version in
    ``release/`` (or ``source/`` before the first release); None if the course has
    neither."""
    for step in ("release", "source"):
        path = step_folder(course_dir, step, ".", assignment) / f"{assignment}.ipynb"
        if path.is_file():
            ids = graded_ids(nbformat.read(path, as_version=4))
            if ids:
                return ids
    return None


@dataclass
class Choice:
    """The notebook taken as the lesson (an index into the candidates, or None), and why
    the others were not."""

    lesson: int | None
    reasons: list[str]


def choose(names: list[str], notebooks: list[nbformat.NotebookNode],
           reference: set[str] | None, assignment: str) -> Choice:
    """Pick the lesson among one student's notebooks (``names`` for the messages).

    With ``reference`` (the assignment's grade ids): the notebook holding the most of them;
    on a tie, the one named ``<assignment>.ipynb``, else the first by name. A notebook
    without any of them is not the lesson, unless it is the student's only notebook (it is
    then graded as it is, and the reason says so). Without ``reference``: the notebook
    named ``<assignment>.ipynb``, else the only one.
    """
    expected = f"{assignment}.ipynb"
    order = sorted(range(len(names)), key=lambda i: (Path(names[i]).name != expected, names[i]))
    if reference is None:
        named = [i for i in order if Path(names[i]).name == expected]
        lesson = named[0] if named else (order[0] if len(order) == 1 else None)
        if lesson is None:
            return Choice(None, [f"{len(names)} notebooks and none named {expected}: cannot "
                                 "tell which is the lesson; keep only the lesson and collect "
                                 "again"])
        return Choice(lesson, [f"{names[i]}: another notebook; not graded"
                               for i in order if i != lesson])
    found = {i: len(graded_ids(notebooks[i]) & reference) for i in order}
    lesson = max(order, key=lambda i: found[i])  # max keeps the first of equals
    if found[lesson] == 0 and len(names) > 1:
        return Choice(None, [f"none of the {len(names)} notebooks ({', '.join(sorted(names))}) "
                             "holds the lesson's graded cells: cannot tell which is the "
                             "lesson"])
    reasons = []
    if found[lesson] == 0:
        reasons.append(f"{names[lesson]}: holds none of the lesson's graded cells (was it "
                       "made from the lesson?); graded as it is")
    for i in order:
        if i == lesson:
            continue
        if found[i] == found[lesson]:
            reasons.append(f"{names[i]}: the same lesson again; graded {names[lesson]}")
        else:
            reasons.append(f"{names[i]}: not the lesson ({found[i]} of its "
                           f"{len(reference)} graded cells); not graded")
    return Choice(lesson, reasons)
