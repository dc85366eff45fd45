"""Does any value of a notebook's language metadata give English, with a warning for the
grader when it is not a language, instead of stopping the student's grading?"""

from __future__ import annotations

import logging

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.tests import create_grade_cell

from course_lib.autograder import execute
from course_lib.autograder.execute import GradeInSandbox
from course_lib.autograder.handover import Verdict
from course_lib.lesson.language import current_language, notebook_language, speaking

JUNK = {
    "a list": {"course_lib": {"language": ["nl"]}},
    "a number": {"course_lib": {"language": 3}},
    "null": {"course_lib": {"language": None}},
    "an unknown language": {"course_lib": {"language": "klingon"}},
    "a nested object": {"course_lib": {"language": {"nl": {"deeper": [1, {"x": None}]}}}},
    "course_lib a string": {"course_lib": "nl"},
    "course_lib a list": {"course_lib": ["nl"]},
    "course_lib null": {"course_lib": None},
}


@pytest.mark.parametrize("metadata", JUNK.values(), ids=JUNK.keys())
def test_junk_language_metadata_gives_english_and_a_warning(metadata, caplog):
    """Is a malformed `metadata.course_lib.language` English, and does the log say what was
    found?"""
    with caplog.at_level(logging.WARNING, logger="course_lib.lesson.language"):
        assert notebook_language({"metadata": metadata}) == "en"
    [warning] = caplog.records
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith("The notebook's metadata.course_lib")
    assert warning.getMessage().endswith("its messages are in English.")


@pytest.mark.parametrize("notebook", [[], "nl", None, {"metadata": "nl"},
                                      {"metadata": None}, {"metadata": [1]}])
def test_a_notebook_or_metadata_that_is_not_an_object_gives_english(notebook, caplog):
    """Is a notebook whose metadata (or itself) is not an object English, with a warning?"""
    with caplog.at_level(logging.WARNING, logger="course_lib.lesson.language"):
        assert notebook_language(notebook) == "en"
    [warning] = caplog.records
    assert "not an object: its messages are in English." in warning.getMessage()


@pytest.mark.parametrize("notebook, language", [
    ({"metadata": {"course_lib": {"language": "nl"}}}, "nl"),
    ({"metadata": {"course_lib": {"language": "en"}}}, "en"),
    ({"metadata": {}}, "en"), ({"metadata": {"course_lib": {}}}, "en"), ({}, "en"),
])
def test_a_language_or_none_is_read_without_a_warning(notebook, language, caplog):
    """Is a proper language, or none at all, read quietly?"""
    with caplog.at_level(logging.WARNING, logger="course_lib.lesson.language"):
        assert notebook_language(notebook) == language
    assert caplog.records == []


@pytest.mark.parametrize("value", [["nl"], {"nl": 1}, None, 3, "klingon"])
def test_the_grader_speaks_english_for_any_value(value):
    """Does `speaking` take any value as English, and restore the language after?"""
    with speaking(value):
        assert current_language() == "en"
    with speaking("nl"):
        with speaking(value):
            assert current_language() == "en"
        assert current_language() == "nl"
    assert current_language() == "en"


class RecordingChecker:
    """Passes every cell and remembers the language it was asked in."""

    language = None

    def __init__(self, **options):
        pass

    def check(self, cells, submission, language):
        RecordingChecker.language = language
        return [Verdict(cell.grade_id, True) for cell in cells]

    def close(self):
        pass


@pytest.mark.parametrize("metadata", [JUNK["a list"], JUNK["course_lib a string"]],
                         ids=["a list", "course_lib a string"])
def test_the_grading_step_grades_a_notebook_with_junk_language(metadata, monkeypatch,
                                                               tmp_path, caplog):
    """Does the real grading step (unsandboxed, on a plain kernel) grade a notebook whose
    language metadata is junk, in English, instead of failing with a TypeError?"""
    monkeypatch.setattr(execute, "Checker", RecordingChecker)
    notebook = new_notebook(cells=[new_code_cell("x = 3"),
                                   create_grade_cell("assert x == 3", "code", "test_x", 1)],
                            metadata={"kernelspec": {"name": "python3",
                                                     "display_name": "Python 3",
                                                     "language": "python"}, **metadata})
    step = GradeInSandbox(require_sandbox=False, timeout=60)
    with caplog.at_level(logging.WARNING, logger="course_lib.lesson.language"):
        graded, _ = step.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert RecordingChecker.language == "en"
    assert graded.cells[1].outputs == []  # the verdict: passed
    assert "its messages are in English" in caplog.text
    assert current_language() == "en"
