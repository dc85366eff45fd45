"""Do grades and feedback go back into Moodle and Canvas in the platforms' own forms, and is
a file that does not fit refused with nothing written?

A small course (one autograded check of 2 points, one written answer of 2 points) is
collected from a Moodle download and a Canvas download, graded by nbgrader, and returned.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import nbformat
import pytest
from helpers.course import zip_bytes
from nbgrader.tests import create_grade_and_solution_cell, create_grade_cell, create_solution_cell

from course_lib.teacher import course, platforms
from course_lib.teacher.collect import collect
from course_lib.teacher.course import CourseError
from course_lib.teacher.returns import return_to_canvas, return_to_moodle

pytestmark = pytest.mark.slow

ASSIGNMENT = "mnist_cnn"
RIGHT, WRONG = "answer = 42", "answer = 7"


def lesson() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    notebook.cells = [
        create_solution_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", "code",
                             "answer"),
        create_grade_cell("assert answer == 42, 'the answer is not 42'", "code",
                          "test_answer", 2),
        create_grade_and_solution_cell("Why 42?", "markdown", "explain", 2),
    ]
    return notebook


def handed_in(answer: str) -> bytes:
    notebook = lesson()
    notebook.cells[0].source = answer
    notebook.cells[0].metadata.nbgrader["checksum"] = "changed"
    return nbformat.writes(notebook).encode()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Alice (right) and Bob (wrong) from Moodle, Carol (right) and Dave (wrong) from
    Canvas; Alice's written answer graded 1 of 2, the others' not yet."""
    folder = tmp_path_factory.mktemp("returns") / "course"
    (folder / "source" / ASSIGNMENT).mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id'
                                               ' = "returns"\n')
    nbformat.write(lesson(), folder / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    course.generate(folder)
    downloads = tmp_path_factory.mktemp("downloads")
    (downloads / "moodle.zip").write_bytes(zip_bytes({
        f"Alice Jones_11_assignsubmission_file_/{ASSIGNMENT}.ipynb": handed_in(RIGHT),
        f"Bob Smith_12_assignsubmission_file/{ASSIGNMENT}.ipynb": handed_in(WRONG)}))
    (downloads / "canvas.zip").write_bytes(zip_bytes({
        f"cartercarol_301_5001_{ASSIGNMENT}.ipynb": handed_in(RIGHT),
        f"doedave_LATE_302_5002_{ASSIGNMENT}.ipynb": handed_in(WRONG),
        "cartercarol_301_5003_7_mine.png": b"\x89PNG not really"}))
    collected = collect([downloads / "moodle.zip", downloads / "canvas.zip"], folder,
                        ASSIGNMENT)
    assert collected.students == ["alice-jones", "bob-smith", "cartercarol", "doedave"]
    course.checked(folder, "autograde", ASSIGNMENT, "--force")
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url(folder)) as book:
        grade = book.find_grade("explain", ASSIGNMENT, ASSIGNMENT, "alice-jones")
        grade.manual_score, grade.needs_manual_grade = 1, False  # as Formgrader does
        book.db.commit()
    return folder


MOODLE_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade",
                 "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                 "Online text", "Last modified (grade)", "Feedback comments"]


def moodle_worksheet(path: Path, rows=None, maximum="4.00", encoding="utf-8",
                     delimiter=",") -> Path:
    """A worksheet shaped as Moodle writes it, with an extra (online text) column and one
    participant who did not hand in."""
    rows = rows or [
        ["Participant 11", "Alice Jones", "alice@school.example", "Submitted for grading",
         "", maximum, "Yes", "Monday, 2 March 2026, 11:59 PM", "", "-", ""],
        ["Participant 12", "Bob Smith", "bob@school.example", "Submitted for grading", "",
         maximum, "Yes", "Monday, 2 March 2026, 10:02 PM", "see \"notes\", page 2", "-", ""],
        ["Participant 13", "Erin Li", "erin@school.example", "No submission", "", maximum,
         "Yes", "-", "", "-", ""]]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([MOODLE_HEADER, *rows])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def test_collect_keeps_who_each_student_is_on_the_platform(graded):
    records = platforms.load(graded)
    assert {s: (r.platform, r.platform_id, r.name, r.file_id) for s, r in records.items()} == {
        "alice-jones": ("moodle", "11", "Alice Jones", ""),
        "bob-smith": ("moodle", "12", "Bob Smith", ""),
        "cartercarol": ("canvas", "301", "cartercarol", "5001"),
        "doedave": ("canvas", "302", "doedave", "5002")}
    own = course.step_folder(graded, "submitted", "cartercarol", ASSIGNMENT) / "own_digits"
    assert [p.name for p in own.iterdir()] == ["7_mine.png"]  # Canvas' prefix taken off


def test_moodle_worksheet_is_filled_for_its_upload(graded, tmp_path):
    worksheet = moodle_worksheet(tmp_path / "Grades-course-MNIST CNN-77.csv")
    done = return_to_moodle(graded, worksheet, tmp_path / "out")
    sheet = tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv"
    rows = list(csv.reader(io.StringIO(sheet.read_text(encoding="utf-8"))))
    assert rows[0] == MOODLE_HEADER
    alice, bob, erin = rows[1:]
    assert alice[4] == "3.00" and bob[4] == "0.00" and erin[4] == ""
    assert alice[10] == ("Autograded: 2 of 2 points; total 3 of 4. Every autograded check "
                         "passed. The feedback page explains each check.")
    assert bob[10] == ("Autograded: 0 of 2 points; total 0 of 4. Written answers not graded "
                       "yet. Look at: answer. The feedback page explains each check.")
    assert bob[8] == 'see "notes", page 2'  # the other columns as Moodle wrote them
    assert erin == ["Participant 13", "Erin Li", "erin@school.example", "No submission", "",
                    "4.00", "Yes", "-", "", "-", ""]
    with zipfile.ZipFile(tmp_path / "out" / f"moodle-feedback-files-{ASSIGNMENT}.zip") as z:
        assert sorted(z.namelist()) == [
            "Alice Jones_11_assignsubmission_file_mnist_cnn_feedback.html",
            "Bob Smith_12_assignsubmission_file_mnist_cnn_feedback.html"]
        assert b"the answer is not 42" in z.read(
            "Bob Smith_12_assignsubmission_file_mnist_cnn_feedback.html")
    assert "Participant 13: no submission collected here; left as it was." in done.notes
    assert any(n.startswith("bob-smith: written answers not graded yet") for n in done.notes)


CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                 "Quiz 1 (998)", "MNIST CNN (1234)", "Current Score", "Final Score"]


def canvas_export(path: Path, points: str = "4.00") -> Path:
    """An entire-gradebook export shaped as Canvas writes it: the points row, a student
    with a comma in the name who did not hand in, other assignments and totals."""
    rows = [CANVAS_HEADER,
            ["    Points Possible", "", "", "", "", "10.00", points, "(read only)",
             "(read only)"],
            ["Carter, Carol", "301", "s301", "carol@school", "Class 5B", "8.00", "", "80",
             "80"],
            ["Doe, Dave", "302", "s302", "dave@school", "Class 5B", "9.00", "", "90", "90"],
            ["Smith, Frank", "303", "s303", "frank@school", "Class 5B", "7.00", "", "70",
             "70"]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_canvas_gradebook_import_is_made_from_the_export(graded, tmp_path):
    export = canvas_export(tmp_path / "2026-03-03T1200_Grades-MNIST.csv")
    with pytest.raises(CourseError, match="several assignments: 'Quiz 1 \\(998\\)', "
                                          "'MNIST CNN \\(1234\\)'"):
        return_to_canvas(graded, export, tmp_path / "out")
    done = return_to_canvas(graded, export, tmp_path / "out", column="1234")
    table = list(csv.reader(io.StringIO(
        (tmp_path / "out" / f"canvas-gradebook-{ASSIGNMENT}.csv").read_text())))
    assert table == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "MNIST CNN (1234)"],
        ["    Points Possible", "", "", "", "", "4.00"],
        ["Carter, Carol", "301", "s301", "carol@school", "Class 5B", "2.00"],
        ["Doe, Dave", "302", "s302", "dave@school", "Class 5B", "0.00"],
        ["Smith, Frank", "303", "s303", "frank@school", "Class 5B", ""]]
    with zipfile.ZipFile(tmp_path / "out" / f"canvas-feedback-{ASSIGNMENT}.zip") as z:
        assert sorted(z.namelist()) == ["cartercarol_301_5001_mnist_cnn_feedback.html",
                                        "doedave_LATE_302_5002_mnist_cnn_feedback.html"]
    assert "Smith, Frank: no submission collected here; left as it was." in done.notes


def written(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("make, message", [
    (lambda path: moodle_worksheet(path, rows=[
        ["Participant 91", "Someone Else", "", "", "", "4.00", "Yes", "-", "", "-", ""]]),
     "None of the 2 students collected from Moodle is on .*another assignment or course"),
    (lambda path: moodle_worksheet(path, rows=[
        ["Participant 11", "Alice Jones", "", "", "", "4.00", "Yes", "-", "", "-", ""]]),
     "lacks students who handed in here: bob-smith \\(Bob Smith, participant 12\\)"),
    (lambda path: moodle_worksheet(path, maximum="100.00"),
     "gives '100.00' as the maximum grade, but the assignment here is worth 4 points"),
    (lambda path: moodle_worksheet(path, rows=[
        ["Participant 11", "Alice Jonés", "", "", "", "4.00", "Yes", "-", "", "-", ""],
        ["Participant 12", "Bob Smith", "", "", "", "4.00", "Yes", "-", "", "-", ""]],
        encoding="cp1252"),
     "is not UTF-8 text .* save it as 'CSV UTF-8'"),
    (lambda path: moodle_worksheet(path, delimiter=";"),
     "separated by semicolons, as spreadsheet programs with Dutch or German settings"),
    (lambda path: (path.write_text("Name,Score\nAlice,3\n"), path)[1],
     "has no column 'Identifier', so it is not the grading worksheet"),
])
def test_a_worksheet_that_does_not_fit_is_refused_and_nothing_written(graded, tmp_path, make,
                                                                        message):
    with pytest.raises(CourseError, match=message):
        return_to_moodle(graded, make(tmp_path / "worksheet.csv"), tmp_path / "out")
    assert written(tmp_path / "out") == []


def test_a_canvas_export_with_other_points_is_refused(graded, tmp_path):
    with pytest.raises(CourseError, match="gives '10.00' as the maximum grade"):
        return_to_canvas(graded, canvas_export(tmp_path / "export.csv", points="10.00"),
                         tmp_path / "out", column="MNIST CNN (1234)")
    assert written(tmp_path / "out") == []


def test_the_command_says_what_to_upload_where(graded, tmp_path, capsys):
    from course_lib.teacher.cli import main

    worksheet = moodle_worksheet(tmp_path / "worksheet.csv")
    assert main(["--course", str(graded), "return", "--moodle", str(worksheet),
                 "--into", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert "Upload grading worksheet (the .csv)" in said
    assert "Upload multiple feedback files in a zip (the .zip)" in said
