"""Feedback for students: the messages of failed tests, without the test code around them.

A failed test's traceback quotes the lines of the test cell, hidden tests included.
:class:`ShortenTestTracebacks` keeps only the last line, ``AssertionError: <message>``,
in the feedback. The autograded notebooks the teacher sees keep the full traceback.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


class ShortenTestTracebacks(Preprocessor):
    """Replace the traceback of every error in a graded test cell by its one-line message."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled").tag(
        config=True)

    def preprocess_cell(self, cell, resources, index):
        """Shorten the error outputs of one cell if it is an nbgrader test cell."""
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources
