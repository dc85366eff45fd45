"""Does `course collect` file downloads from learning platforms under the right students?"""

from __future__ import annotations

import zipfile

import nbformat
import pytest
from helpers.course import zip_bytes
from nbformat.v4 import new_code_cell, new_notebook

from course_lib.teacher.cli import main
from course_lib.teacher.collect import collect, student_id


def notebook_bytes(marker: str) -> bytes:
    return nbformat.writes(new_notebook(cells=[new_code_cell(f"# {marker}")])).encode()


@pytest.fixture
def course(tmp_path):
    """An empty course folder: its settings only."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text("c = get_config()\n")
    return folder


def collected_marker(course, student):
    path = course / "submitted" / student / "mnist_cnn" / "mnist_cnn.ipynb"
    return nbformat.read(path, as_version=4).cells[0].source


@pytest.mark.parametrize("path, expected", [
    ("alice/mnist_cnn.ipynb", "alice"),
    ("Alice Jones_1234_assignsubmission_file_/mnist_cnn.ipynb", "alice-jones"),
    ("jonesalice_late_123_456_mnist_cnn.ipynb", "jonesalice"),
    ("jonesalice_123_456_mnist_cnn-1.ipynb", "jonesalice"),
    ("mnist_cnn.ipynb", None),
])
def test_student_from_path(path, expected):
    """Is the student read from Moodle folders, Canvas file names and plain folders?"""
    from pathlib import PurePosixPath

    assert student_id(PurePosixPath(path), "mnist_cnn") == expected


def test_collect_moodle_zip_with_images_and_nested_student_zips(tmp_path, course):
    """Are notebooks and own digit images filed per student, nested zips opened?"""
    bulk = tmp_path / "download.zip"
    bulk.write_bytes(zip_bytes({
        "Alice Jones_11_assignsubmission_file_/mnist_cnn.ipynb": notebook_bytes("alice"),
        "Alice Jones_11_assignsubmission_file_/7_mine.png": b"\x89PNG fake",
        "Bob Smith_12_assignsubmission_file_/bob.zip": zip_bytes(
            {"work/mnist_cnn.ipynb": notebook_bytes("bob")}),
        "__MACOSX/._junk.ipynb": b"junk",
    }))
    result = collect([bulk], course, "mnist_cnn")
    assert result.students == ["alice-jones", "bob-smith"] and result.skipped == []
    assert collected_marker(course, "alice-jones") == "# alice"
    assert collected_marker(course, "bob-smith") == "# bob"
    image = course / "submitted" / "alice-jones" / "mnist_cnn" / "own_digits" / "7_mine.png"
    assert image.read_bytes() == b"\x89PNG fake"


def test_bad_files_are_reported_and_skipped(tmp_path, course):
    """Are a malformed notebook, a bare notebook and a corrupt zip skipped, the rest kept?"""
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "carol_1_2_mnist_cnn.ipynb").write_bytes(notebook_bytes("carol"))
    (folder / "dave_1_2_mnist_cnn.ipynb").write_text('{"cells": [ broken')
    (folder / "mnist_cnn.ipynb").write_bytes(notebook_bytes("nobody"))
    (folder / "erin.zip").write_bytes(b"PK not really a zip")
    (folder / "notes.md").write_text("remember to submit")
    result = collect([folder], course, "mnist_cnn")
    assert result.students == ["carol"]
    reasons = "\n".join(result.skipped)
    assert "dave_1_2_mnist_cnn.ipynb: not a readable notebook" in reasons
    assert "mnist_cnn.ipynb: cannot tell whose notebook this is" in reasons
    assert "erin.zip: not a readable zip file" in reasons
    assert "notes.md: not a notebook or a digit picture" in reasons


def test_the_time_of_handing_in_reaches_nbgrader(tmp_path, course):
    """The time a notebook has in the download becomes nbgrader's submission time, which
    its late penalties compare with the due date."""
    import datetime
    import os

    from nbgrader.coursedir import CourseDirectory

    bulk = tmp_path / "download.zip"
    with zipfile.ZipFile(bulk, "w") as archive:
        archive.writestr(zipfile.ZipInfo("Alice Jones_11_assignsubmission_file_/"
                                         "mnist_cnn.ipynb", date_time=(2026, 3, 2, 23, 59, 30)),
                         notebook_bytes("alice"))
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "carol_1_2_mnist_cnn.ipynb").write_bytes(notebook_bytes("carol"))
    handed_in = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=datetime.timezone.utc)
    os.utime(folder / "carol_1_2_mnist_cnn.ipynb", (handed_in.timestamp(),) * 2)
    assert collect([bulk, folder], course, "mnist_cnn").students == ["alice-jones", "carol"]
    read = CourseDirectory(root=str(course)).get_existing_timestamp
    alice = read(str(course / "submitted" / "alice-jones" / "mnist_cnn"))
    assert alice == datetime.datetime(2026, 3, 2, 23, 59, 30).astimezone(
        datetime.timezone.utc).replace(tzinfo=None)
    assert read(str(course / "submitted" / "carol" / "mnist_cnn")) == datetime.datetime(
        2026, 3, 1, 8, 0)


def test_collect_command_reports(tmp_path, capsys):
    """Does `course collect` print who was collected and what was skipped?"""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "frank_9_mnist_cnn.ipynb").write_bytes(notebook_bytes("frank"))
    (tmp_path / "in" / "gina_9_mnist_cnn.ipynb").write_text("nope")
    assert main(["--course", str(tmp_path), "collect", str(tmp_path / "in")]) == 0
    captured = capsys.readouterr()
    assert "Collected 1 submission(s): frank" in captured.out
    assert "gina_9_mnist_cnn.ipynb: not a readable notebook" in captured.err


def test_collect_outside_a_course_folder_refuses(tmp_path, capsys):
    """Does collecting into a folder that is not a course say so instead of writing there?"""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "frank_9_mnist_cnn.ipynb").write_bytes(notebook_bytes("frank"))
    elsewhere = tmp_path / "not-a-course"
    elsewhere.mkdir()
    assert main(["--course", str(elsewhere), "collect", str(tmp_path / "in")]) == 1
    assert "is not a course folder" in capsys.readouterr().err
    assert not (elsewhere / "submitted").exists()
