"""Do grades and feedback go back into Moodle and Canvas in the platforms' own forms, under
the platforms' ids, with nbgrader's late penalty, the platform's own grades respected, and
is a file that does not fit refused with nothing written?

A small course (one autograded check of 2 points, one written answer of 2 points, a due
date, and a late penalty of one point) is collected from a Moodle download with its grading
worksheet and from a Canvas download, graded by nbgrader, and returned. The files are
built as the platforms build them (tests/helpers/platform_downloads.py); what Moodle does
with the worksheet follows mod/assign/feedback/offline/locallib.php
(process_import_grades: a grade of a locked row, or one equal to the current grade, is
skipped) and mod/assign/feedback/file/importziplib.php (feedback files matched by
participant id); Canvas' import follows lib/gradebook_importer.rb (';' and decimal commas
read, students matched by ID) and Assignment#infer_comment_context_from_filename (user and
file ids in the feedback files' names).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from helpers.platform_downloads import (
    ASSIGNMENT,
    MOODLE_HEADER,
    RIGHT,
    WRONG,
    CanvasSubmission,
    MoodleSubmission,
    canvas_download,
    canvas_export,
    handed_in,
    moodle_download,
    moodle_row,
    moodle_worksheet,
    scratch_notebook,
    small_lesson,
    zip_of,
)

from course_lib.teacher import course, platforms
from course_lib.teacher.canvas import return_to_canvas
from course_lib.teacher.collect import collect
from course_lib.teacher.course import CourseError
from course_lib.teacher.moodle import return_to_moodle

pytestmark = pytest.mark.slow

NOTEBOOK = f"{ASSIGNMENT}.ipynb"
ON_TIME, LATE = "Monday, 2 March 2026, 11:58 PM", "Tuesday, 3 March 2026, 10:00 AM"
LATE_PENALTY_CONFIG = '''
from nbgrader.plugins import LateSubmissionPlugin


class OnePointOff(LateSubmissionPlugin):
    """Late: one point off."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return 1.0


c.AssignLatePenalties.plugin_class = OnePointOff
'''
GREEK = "Δημήτρης Παπαδόπουλος"


def worksheet_rows(maximum: str = "4.00") -> list[list[str]]:
    """Moodle's worksheet of the class: Jan (2847565) already graded in Moodle, Dimitris
    late, Ann's grade locked in the gradebook, Erin without a submission."""
    return [
        moodle_row(2847565, "Jan Peeters", ON_TIME, grade="3.50", maximum=maximum,
                   comment="Goed gewerkt, Jan; kijk nog eens naar vraag 3."),
        moodle_row(2847566, "Jan Peeters", ON_TIME, maximum=maximum),
        moodle_row(2847567, GREEK, LATE, maximum=maximum),
        moodle_row(2847568, "Ann Locked", ON_TIME, maximum=maximum, changeable="No"),
        moodle_row(2847569, "Erin Li", maximum=maximum, status="No submission"),
    ]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class collected from Moodle (with its worksheet) and Canvas, and graded:
    Dimitris' written answer graded 1 of 2 by hand, the others' not yet."""
    folder = tmp_path_factory.mktemp("returns") / "course"
    (folder / "source" / ASSIGNMENT).mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "returns"\n' + LATE_PENALTY_CONFIG)
    nbformat.write(small_lesson(), folder / "source" / ASSIGNMENT / NOTEBOOK)
    course.generate(folder)
    from nbgrader.api import Gradebook

    with Gradebook(course.gradebook_url(folder)) as book:  # due 2 March 2026, 23:59:59 CET
        book.update_or_create_assignment(ASSIGNMENT, duedate=datetime(2026, 3, 2, 22, 59, 59))
    downloads = tmp_path_factory.mktemp("downloads")
    (downloads / "moodle.zip").write_bytes(moodle_download([
        MoodleSubmission("Jan Peeters", 2847565, {NOTEBOOK: handed_in(RIGHT)}),
        MoodleSubmission("Jan Peeters", 2847566, {"Untitled.ipynb": scratch_notebook(),
                                                  NOTEBOOK: handed_in(RIGHT)}),
        MoodleSubmission(GREEK, 2847567, {NOTEBOOK: handed_in(RIGHT)}),
        MoodleSubmission("Ann Locked", 2847568, {NOTEBOOK: handed_in(WRONG)})]))
    (downloads / "worksheet.csv").write_bytes(moodle_worksheet(worksheet_rows()))
    (downloads / "canvas.zip").write_bytes(canvas_download([
        CanvasSubmission("Peeters, Jan", 31004, [(5001, "notes.ipynb", scratch_notebook()),
                                                 (5002, NOTEBOOK, handed_in(RIGHT))]),
        CanvasSubmission("Peeters, Jan", 31005, [(5003, NOTEBOOK, handed_in(RIGHT))],
                         late=True),
        CanvasSubmission("Maes, Zoë", 31006, [(5005, "mnist_cnn.zip", zip_of({
            f"mnist_cnn/{NOTEBOOK}": handed_in(RIGHT), "mnist_cnn/own_digits/3.png": b"png"}))]),
        CanvasSubmission("", 0, [(5009, NOTEBOOK, handed_in(WRONG))], anonymous_id="Qq2Mx"),
    ]))
    moodle = collect([downloads / "moodle.zip"], folder, ASSIGNMENT,
                     moodle=downloads / "worksheet.csv", timezone_name="Europe/Brussels")
    canvas = collect([downloads / "canvas.zip"], folder, ASSIGNMENT)
    assert moodle.students == [f"moodle-{n}" for n in range(2847565, 2847569)]
    assert canvas.students == ["canvas-31004", "canvas-31005", "canvas-31006",
                               "canvas-anon-Qq2Mx"]
    course.checked(folder, "autograde", ASSIGNMENT, "--force")
    with Gradebook(course.gradebook_url(folder)) as book:
        grade = book.find_grade("explain", ASSIGNMENT, ASSIGNMENT, "moodle-2847567")
        grade.manual_score, grade.needs_manual_grade = 1, False  # as Formgrader does
        book.db.commit()
    return folder


def read_csv(path: Path, encoding: str = "utf-8-sig", separator: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""),
                           delimiter=separator))


def test_collect_keeps_who_each_student_is_on_the_platform(graded):
    """Are the platform's ids, names and hand-in times recorded for the return?"""
    records = platforms.load(graded)
    assert {s: (r.platform_id, r.name, r.late) for s, r in records.items()} == {
        "moodle-2847565": ("2847565", "Jan Peeters", False),
        "moodle-2847566": ("2847566", "Jan Peeters", False),
        "moodle-2847567": ("2847567", GREEK, False),
        "moodle-2847568": ("2847568", "Ann Locked", False),
        "canvas-31004": ("31004", "peetersjan", False),
        "canvas-31005": ("31005", "peetersjan", True),
        "canvas-31006": ("31006", "maeszoë", False),
        "canvas-anon-Qq2Mx": ("", "", False)}
    assert records["moodle-2847567"].handed_in == "2026-03-03T09:00:00+00:00"


def test_moodle_worksheet_is_filled_with_penalties_and_the_teachers_grades_kept(graded,
                                                                                tmp_path):
    """Does each participant get nbgrader's grade (late: one point off), a grade already
    given in Moodle stay with a note, a locked row stay with a note, and each feedback file
    carry its participant's id?"""
    worksheet = tmp_path / "Grades-course-MNIST CNN-77.csv"
    worksheet.write_bytes(moodle_worksheet(worksheet_rows()))
    done = return_to_moodle(graded, worksheet, tmp_path / "out")
    rows = read_csv(tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv")
    assert rows[0] == MOODLE_HEADER
    jan, jan2, dimitris, ann, erin = rows[1:]
    assert (jan[4], jan[10]) == ("3.50", "Goed gewerkt, Jan; kijk nog eens naar vraag 3.")
    assert jan2[4] == "2.00"
    assert dimitris[4] == "2.00"  # 2 autograded + 1 written, late: 1 point off
    assert dimitris[10] == ("Autograded: 2 of 2 points; total 2 of 4. Handed in late: 1 "
                            "point(s) off. Every autograded check passed. The feedback page "
                            "explains each check.")
    assert ann == moodle_row(2847568, "Ann Locked", ON_TIME, changeable="No")
    assert erin == moodle_row(2847569, "Erin Li", status="No submission")
    assert ("moodle-2847565 (Jan Peeters): already has the grade 3.50 and the comment 'Goed "
            "gewerkt, Jan; kijk nog eens naar v…' on the platform; kept (ours: 2.00). Give "
            "--replace-grades to replace them.") in done.notes
    assert any(note.startswith("moodle-2847568 (Ann Locked): Moodle says this grade cannot "
                               "be changed") for note in done.notes)
    assert "Participant 2847569: no submission collected here; left as it was." in done.notes
    with zipfile.ZipFile(tmp_path / "out" / f"moodle-feedback-files-{ASSIGNMENT}.zip") as z:
        names = sorted(z.namelist())
        assert names == sorted(
            f"{name}_{number}_assignsubmission_file_{ASSIGNMENT}_feedback.html"
            for name, number in (("Jan Peeters", 2847565), ("Jan Peeters", 2847566),
                                 (GREEK, 2847567), ("Ann Locked", 2847568)))
        assert b"Late submission penalty" in z.read(
            f"{GREEK}_2847567_assignsubmission_file_{ASSIGNMENT}_feedback.html")


def test_the_late_penalty_is_the_same_in_worksheet_gradebook_csv_and_feedback(graded,
                                                                              tmp_path):
    """Does the grade that goes back equal nbgrader's grades.csv score and the feedback
    page's, penalty included?"""
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(moodle_worksheet(worksheet_rows()))
    return_to_moodle(graded, worksheet, tmp_path / "out")
    rows = read_csv(tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv")
    exported = {row["student_id"]: row for row in course.read_grades_csv(
        course.export(graded, tmp_path / "grades.csv"))}
    assert (exported["moodle-2847567"]["raw_score"], exported["moodle-2847567"][
        "late_submission_penalty"], exported["moodle-2847567"]["score"]) == ("3.0", "1.0", "2.0")
    assert float(rows[3][4]) == float(exported["moodle-2847567"]["score"])
    page = course.step_folder(graded, "feedback", "moodle-2847567", ASSIGNMENT) / \
        f"{ASSIGNMENT}.html"
    assert f"{ASSIGNMENT} (Score: 2.0 / 4.0)" in page.read_text()


def test_replace_grades_replaces_and_says_so(graded, tmp_path):
    """With --replace-grades, is the grade and comment given in Moodle replaced, with a
    note, and a locked row still left?"""
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(moodle_worksheet(worksheet_rows()))
    done = return_to_moodle(graded, worksheet, tmp_path / "out", replace_grades=True)
    rows = read_csv(tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv")
    assert rows[1][4] == "2.00" and rows[1][10].startswith("Autograded: 2 of 2 points")
    assert rows[4][4] == ""
    assert any(note.startswith("moodle-2847565 (Jan Peeters): replaced the grade 3.50 and "
                               "the comment") for note in done.notes)


def test_a_worksheet_saved_again_by_a_spreadsheet_is_filled_and_written_back_alike(graded,
                                                                                   tmp_path):
    """Is a worksheet in Windows-1252 with semicolons, decimal commas and CRLF (as Excel
    saves it in Dutch), which Moodle's upload form accepts, filled and written back the
    same way, its names (mangled by the encoding) only for display?"""
    rows = [moodle_row(2847565, "Jan Peeters", ON_TIME, maximum="4,00"),
            moodle_row(2847566, "Jan Peeters", ON_TIME, maximum="4,00"),
            moodle_row(2847567, "D?m?tr?s P?p?d?p??l?s", LATE, maximum="4,00"),
            moodle_row(2847568, "Ann Locked", ON_TIME, maximum="4,00", changeable="No"),
            moodle_row(2847569, "Zoë Maes", maximum="4,00")]
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(moodle_worksheet(rows, encoding="cp1252", separator=";",
                                           newline="\r\n", bom=False))
    done = return_to_moodle(graded, worksheet, tmp_path / "out")
    written = (tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv").read_bytes()
    assert not written.startswith(b"\xef\xbb\xbf") and b"\r\n" in written
    table = read_csv(tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv",
                     encoding="cp1252", separator=";")
    assert [row[4] for row in table[1:]] == ["2,00", "2,00", "2,00", "", ""]
    assert table[5][1] == "Zoë Maes"
    assert ("The worksheet is written as it came (encoding WINDOWS-1252, separator "
            "semicolon): choose the same in Moodle's upload form.") in done.notes


CANVAS_STUDENTS = [("Peeters, Jan", 31004, "3,50"), ("Peeters, Jan", 31005, ""),
                   ("Maes, Zoë", 31006, ""), ("Smith, Frank", 31099, "")]


def test_canvas_gradebook_import_is_made_from_the_export(graded, tmp_path):
    """From an export in Canvas' own ';' and decimal commas: does each user id get its grade
    (late: one point off), a score given in Canvas stay with a note, the zip hander-in get
    feedback named after her zip, and the anonymous student a note for SpeedGrader?"""
    export = tmp_path / "2026-03-04T0912_Grades-MNIST.csv"
    export.write_bytes(canvas_export(CANVAS_STUDENTS, points="4,00", separator=";"))
    with pytest.raises(CourseError, match="several assignments: 'Quiz 1 \\(998\\)', "
                                          "'MNIST CNN \\(1234\\)'"):
        return_to_canvas(graded, export, tmp_path / "out")
    done = return_to_canvas(graded, export, tmp_path / "out", column="1234")
    table = read_csv(tmp_path / "out" / f"canvas-gradebook-{ASSIGNMENT}.csv", separator=";")
    assert table == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "MNIST CNN (1234)"],
        ["    Points Possible", "", "", "", "", "4,00"],
        ["Peeters, Jan", "31004", "s31004", "u31004@school", "Class 5B", "3,50"],
        ["Peeters, Jan", "31005", "s31005", "u31005@school", "Class 5B", "1,00"],
        ["Maes, Zoë", "31006", "s31006", "u31006@school", "Class 5B", "2,00"],
        ["Smith, Frank", "31099", "s31099", "u31099@school", "Class 5B", ""]]
    assert ("canvas-31004 (peetersjan): already has the score 3,50 on the platform; kept "
            "(ours: 2.00). Give --replace-grades to replace them.") in done.notes
    assert ("canvas-anon-Qq2Mx: graded anonymously on Canvas (anonymous id Qq2Mx); enter 0.00 "
            "in SpeedGrader, which shows that id: the gradebook import cannot grade unposted "
            "anonymous submissions.") in done.notes
    assert "Smith, Frank: no submission collected here; left as it was." in done.notes
    with zipfile.ZipFile(tmp_path / "out" / f"canvas-feedback-{ASSIGNMENT}.zip") as z:
        assert sorted(z.namelist()) == sorted([
            "peetersjan_31004_5002_mnist_cnn_feedback.html",
            "peetersjan_LATE_31005_5003_mnist_cnn_feedback.html",
            "maeszoë_31006_5005_mnist_cnn_feedback.html",
            "anon_Qq2Mx_5009_mnist_cnn_feedback.html"])
    replaced = return_to_canvas(graded, export, tmp_path / "again", column="1234",
                                replace_grades=True)
    again = read_csv(tmp_path / "again" / f"canvas-gradebook-{ASSIGNMENT}.csv", separator=";")
    assert again[2][5] == "2,00"
    assert "canvas-31004 (peetersjan): replaced the score 3,50." in replaced.notes


def written(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("make, message", [
    (lambda path: path.write_bytes(moodle_worksheet([moodle_row(91, "Someone Else")])),
     "None of the 4 students collected from Moodle is on .*another assignment or course"),
    (lambda path: path.write_bytes(moodle_worksheet(worksheet_rows()[:1])),
     "lacks students who handed in here: moodle-2847566 \\(Jan Peeters, participant "
     "2847566\\)"),
    (lambda path: path.write_bytes(moodle_worksheet(worksheet_rows(maximum="100.00"))),
     "gives '100.00' as the maximum grade, but the assignment here is worth 4 points"),
    (lambda path: path.write_text("Name,Score\nAlice,3\n"),
     "has no column 'Identifier', so it is not the grading worksheet"),
])
def test_a_worksheet_that_does_not_fit_is_refused_and_nothing_written(graded, tmp_path, make,
                                                                        message):
    """Is another assignment's worksheet, one that lacks a student, has another maximum or
    is no worksheet at all, refused with nothing written?"""
    make(tmp_path / "worksheet.csv")
    with pytest.raises(CourseError, match=message):
        return_to_moodle(graded, tmp_path / "worksheet.csv", tmp_path / "out")
    assert written(tmp_path / "out") == []


def test_a_canvas_export_with_other_points_is_refused(graded, tmp_path):
    """Is an export whose assignment is worth other points refused with nothing written?"""
    export = tmp_path / "export.csv"
    export.write_bytes(canvas_export(CANVAS_STUDENTS, points="10.00"))
    with pytest.raises(CourseError, match="gives '10.00' as the maximum grade"):
        return_to_canvas(graded, export, tmp_path / "out", column="MNIST CNN (1234)")
    assert written(tmp_path / "out") == []


def test_the_command_says_what_to_upload_where(graded, tmp_path, capsys):
    """Does `course return --moodle` say which file to upload where?"""
    from course_lib.teacher.cli import main

    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(moodle_worksheet(worksheet_rows()))
    assert main(["--course", str(graded), "return", "--moodle", str(worksheet),
                 "--into", str(tmp_path / "out"), "--replace-grades"]) == 0
    said = capsys.readouterr().out
    assert "Upload grading worksheet (the .csv)" in said
    assert "Upload multiple feedback files in a zip (the .zip)" in said
    assert "note: moodle-2847565 (Jan Peeters): replaced the grade 3.50" in said
