"""Feedback for students: the messages of failed tests, without the test code around them.

* :class:`ClearHiddenTestsOfTestCells` removes the hidden tests from the test cells only:
  nbgrader's own ``ClearHiddenTests`` also reads the student's answer cells, and fails the
  whole feedback page when an answer quotes the lesson's "BEGIN HIDDEN TESTS" marker.
* :class:`ShortenTestTracebacks` keeps only the last line of a failed test's error,
  ``AssertionError: <message>``, so no traceback quotes test code.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool

from course_lib.autograder.handover import is_test_cell


class ClearHiddenTestsOfTestCells(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, applied to test cells and never to students' answers."""

    def preprocess_cell(self, cell, resources, cell_index):
        """Clear the hidden region of a test cell; leave every other cell as it is."""
        if not is_test_cell(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


class ShortenTestTracebacks(Preprocessor):
    """Replace the traceback of every error in a graded test cell by its one-line message."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled").tag(
        config=True)

    def preprocess_cell(self, cell, resources, index):
        """Shorten the error outputs of one cell if it is an nbgrader test cell."""
        if is_test_cell(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources
