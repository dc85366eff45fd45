"""Does feedback show the checks' messages without any test code, and leave answers alone?"""

from __future__ import annotations

from nbformat.v4 import new_notebook, new_output
from nbgrader.tests import create_grade_cell, create_solution_cell

from course_lib.autograder.feedback import ClearHiddenTestsOfTestCells, ShortenTestTracebacks

HIDDEN = "check(x)\n### BEGIN HIDDEN TESTS\nsecret_check(x)\n### END HIDDEN TESTS\n"


def test_hidden_tests_leave_test_cells_and_answers_quoting_the_marker_are_kept():
    test = create_grade_cell(HIDDEN, "code", "test_x", 1)
    answer = create_solution_cell("# I read about '### BEGIN HIDDEN TESTS' here\nx = 1",
                                  "code", "x")
    notebook = new_notebook(cells=[answer, test])
    ClearHiddenTestsOfTestCells().preprocess(notebook, {})
    assert "secret_check" not in test.source and "check(x)" in test.source
    assert answer.source.startswith("# I read about '### BEGIN HIDDEN TESTS'")


def test_a_failed_check_shows_its_message_and_no_traceback():
    test = create_grade_cell(HIDDEN, "code", "test_x", 1)
    test.outputs = [new_output("error", ename="AssertionError", evalue="x should be 2",
                               traceback=["Traceback ...", "secret_check(x)", "boom"])]
    ShortenTestTracebacks().preprocess(new_notebook(cells=[test]), {})
    assert test.outputs[0]["traceback"] == ["AssertionError: x should be 2"]
