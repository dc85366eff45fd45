"""Do the sanitize steps give every cell the role the gradebook gave it, and put deleted test
cells back where they can run? (nbgrader-style: hand-built cells, a gradebook in a file.)"""

from __future__ import annotations

import shutil

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import SaveCells
from nbgrader.tests import create_grade_cell, create_solution_cell
from nbgrader.utils import compute_checksum

from course_lib.autograder.repairs import ForgetRolesWithoutId, RestoreDeletedCells
from course_lib.teacher.course import open_gradebook


def lesson():
    """A source notebook: an answer, its test, a lesson cell, a second answer and test."""
    cells = [create_solution_cell("answer = 1", "code", "answer"),
             create_grade_cell("assert answer == 1", "code", "test_answer", 2),
             new_code_cell("computed = answer * 2"),
             create_solution_cell("second = 2", "code", "second"),
             create_grade_cell("assert computed == 2", "code", "test_computed", 1),
             create_solution_cell("last = 3", "code", "last")]
    for cell in cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
    return new_notebook(cells=cells)


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """A gradebook that knows the lesson's cells, as `nbgrader generate_assignment` leaves it."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with open_gradebook(f"sqlite:///{path}") as book:
        book.add_assignment("ps")
    SaveCells().preprocess(lesson(), {"nbgrader": {"db_url": f"sqlite:///{path}",
                                                   "assignment": "ps", "notebook": "lesson"}})
    return path


@pytest.fixture
def resources(gradebook, tmp_path):
    """A fresh copy of that gradebook for one test."""
    shutil.copy(gradebook, tmp_path / "gradebook.db")
    return {"nbgrader": {"db_url": f"sqlite:///{tmp_path / 'gradebook.db'}",
                         "assignment": "ps", "notebook": "lesson"}}


def repaired(notebook, resources):
    for step in (ForgetRolesWithoutId(), RestoreDeletedCells(add_missing_cells=True)):
        notebook, resources = step.preprocess(notebook, resources)
    return notebook


def test_a_test_cell_turned_into_an_answer_gets_its_role_back(resources):
    """Would it otherwise run in the student's kernel, hidden tests and all? It is a test
    cell again, with its points."""
    submission = lesson()
    test = submission.cells[1]
    test.metadata.nbgrader.update(solution=True, grade=False, points=50)
    repaired(submission, resources)
    assert (test.metadata.nbgrader["grade"], test.metadata.nbgrader["solution"],
            test.metadata.nbgrader["points"]) == (True, False, 2)


def test_graded_cells_the_gradebook_does_not_know_are_ordinary(resources):
    """A made-up 'bonus' test and a graded cell without an id earn nothing and stop nothing."""
    submission = lesson()
    bonus = create_grade_cell("print('bonus')", "code", "bonus", 100)
    nameless = new_code_cell("pass")
    nameless.metadata["nbgrader"] = {"grade": True, "points": 100}
    submission.cells += [bonus, nameless]
    repaired(submission, resources)
    assert "nbgrader" not in bonus.metadata and "nbgrader" not in nameless.metadata


def test_a_deleted_test_comes_back_after_what_it_checks(resources):
    """Deleted: the test of `computed`. It returns after the lesson cell that computes it
    (before the next graded cell the student kept), not right after the previous one."""
    submission = lesson()
    del submission.cells[4]
    cells = repaired(submission, resources).cells
    order = [c.metadata.get("nbgrader", {}).get("grade_id", c.source) for c in cells]
    assert order == ["answer", "test_answer", "computed = answer * 2", "second",
                     "test_computed", "last"]
