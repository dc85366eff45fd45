"""Does `course return` write each platform id's grade from the gradebook, keep what the
platform already holds where it should, refuse a file that does not fit, and name the
feedback files the way each platform reads them back, quickly?

The gradebook is built with nbgrader's own API (an assignment worth 5 points: an autograded
check of 2 and a written answer of 3; students, submissions and their scores set directly),
so nothing is trained or autograded; the records are made from the download names as
``course collect`` reads them, and the worksheet and export as the platforms write them
(tests/helpers/platform_downloads.py). Only the feedback pages are written by a stand-in for
``nbgrader generate_feedback``: what the return does with them is what is tested here (the
slow tests/teacher/test_returns.py runs the real one).
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from helpers.platform_downloads import (
    ASSIGNMENT,
    MOODLE_HEADER,
    canvas_export,
    moodle_row,
    moodle_worksheet,
)

from course_lib.teacher import canvas, course, moodle, platforms, returns, summary
from course_lib.teacher.course import CourseError

# nbgrader's own add_submission warns while it mirrors the assignment; it works.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

TEST, WRITTEN = "test_answer", "explain"  # the autograded check, the written answer
# student id: (autograded points, written points or None when not graded yet, late penalty)
SCORES = {
    "moodle-2847565": (2, 2, 0),  # already graded in Moodle
    "moodle-2847566": (2, None, 0),  # written answer not graded yet
    "moodle-2847567": (2, 1, 1),  # late: one point off
    "moodle-2847568": (0, 0, 0),  # locked in Moodle's gradebook
    "canvas-31004": (2, 1, 0),
    "canvas-31005": (0, 2, 1),  # late
    "canvas-31006": (2, 2, 0),  # excused in Canvas
    "canvas-31007": (1, 0, 0),  # already scored in Canvas
    "canvas-anon-Qq2Mx": (2, 0, 0),  # graded anonymously
}
MOODLE_TOPS = {"moodle-2847565": "Jan Peeters_2847565_assignsubmission_file",
               "moodle-2847566": "Zoë Maes_2847566_assignsubmission_file",
               "moodle-2847567": "Dimitris Pappas_2847567_assignsubmission_file",
               "moodle-2847568": "Ann Locked_2847568_assignsubmission_file"}
CANVAS_TOPS = {"canvas-31004": "peetersjan_31004_5002_mnist_cnn.ipynb",
               "canvas-31005": "peetersjan_LATE_31005_5003_mnist_cnn.ipynb",
               "canvas-31006": "maeszoë_31006_5005_mnist_cnn.zip",
               "canvas-31007": "smithfrank_31007_5007_mnist_cnn.ipynb",
               "canvas-anon-Qq2Mx": "LATE_anon_Qq2Mx_5009_mnist_cnn.ipynb"}


@pytest.fixture(scope="module")
def class_course(tmp_path_factory) -> Path:
    """A course folder whose gradebook holds the class's scores, and the records of who
    each student is on Moodle or Canvas (the returns change neither)."""
    folder = tmp_path_factory.mktemp("returns") / "course"
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.course_id = "returns"\n')
    with course.open_gradebook(course.gradebook_url(folder)) as book:
        book.add_assignment(ASSIGNMENT)
        book.add_notebook(ASSIGNMENT, ASSIGNMENT)
        book.add_grade_cell(TEST, ASSIGNMENT, ASSIGNMENT, max_score=2, cell_type="code")
        book.add_grade_cell(WRITTEN, ASSIGNMENT, ASSIGNMENT, max_score=3,
                            cell_type="markdown")
        book.add_student("never-handed-in")
        for student, (auto, written, penalty) in SCORES.items():
            book.add_student(student)
            book.add_submission(ASSIGNMENT, student)
            test = book.find_grade(TEST, ASSIGNMENT, ASSIGNMENT, student)
            test.auto_score, test.needs_manual_grade = auto, False
            answer = book.find_grade(WRITTEN, ASSIGNMENT, ASSIGNMENT, student)
            answer.manual_score, answer.needs_manual_grade = written, written is None
            book.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student) \
                .late_submission_penalty = penalty
        book.db.commit()
    records = {}
    for student, top in MOODLE_TOPS.items():
        owner = moodle.owner(top)
        records[student] = moodle.record(owner, owner.name, top, None)
    for student, top in CANVAS_TOPS.items():
        owner = canvas.owner(top, True)
        records[student] = canvas.record(owner, owner.name, top, owner.late, None)
    platforms.save(folder, records)
    return folder


@pytest.fixture
def graded(class_course, monkeypatch) -> Path:
    """The graded course, with its feedback step stood in for."""

    def feedback(course_dir, assignment):
        """Stands in for `nbgrader generate_feedback`: a page per submission."""
        pages = []
        for student in SCORES:
            page = course.step_folder(course_dir, "feedback", student, assignment) / \
                f"{assignment}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(f"<p>feedback of {student}</p>")
            pages.append(page)
        return pages

    monkeypatch.setattr(course, "feedback", feedback)
    return class_course


def read_csv(path: Path, separator: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""),
                           delimiter=separator))


def zip_names(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def written_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def worksheet_rows(maximum: str = "5.00") -> list[list[str]]:
    """Moodle's worksheet: Jan already graded, Ann's grade locked, Erin without a
    submission."""
    return [moodle_row(2847565, "Jan Peeters", grade="3.50", maximum=maximum,
                       comment="Goed gewerkt."),
            moodle_row(2847566, "Zoë Maes", maximum=maximum),
            moodle_row(2847567, "Dimitris Pappas", maximum=maximum),
            moodle_row(2847568, "Ann Locked", maximum=maximum, changeable="No"),
            moodle_row(2847569, "Erin Li", maximum=maximum, status="No submission")]


def test_results_add_up_the_gradebook_with_the_late_penalty(graded):
    """Is each student's grade the gradebook's total minus its late penalty, with the
    autograded points and what is left to grade by hand?"""
    found = returns.results(graded)
    assert sorted(found) == sorted(SCORES)  # not the student who never handed in
    assert {s: (r.score, r.total, r.max_score, r.auto, r.auto_max) for s, r in found.items()
            if s.startswith("moodle")} == {
        "moodle-2847565": (4.0, 4.0, 5.0, 2.0, 2.0),
        "moodle-2847566": (2.0, 2.0, 5.0, 2.0, 2.0),
        "moodle-2847567": (2.0, 3.0, 5.0, 2.0, 2.0),
        "moodle-2847568": (0.0, 0.0, 5.0, 0.0, 2.0)}
    assert found["moodle-2847566"].manual_to_grade == [WRITTEN]
    assert found["moodle-2847568"].to_look_at == ["answer"]
    assert found["canvas-31005"].score == 1.0


def test_the_summary_table_shows_the_same_sums(graded):
    """Does `course summary` show per cell, the autograded sum, what is left to grade and the
    total, from the same sums as the return?"""
    header, rows = summary.score_table(graded)
    assert header == ["student", "answer", WRITTEN, "auto", "manual to grade", "total",
                      "sandbox"]
    by_student = {row[0]: row[1:-1] for row in rows}
    assert by_student["moodle-2847566"] == ["2/2", "to grade", "2/2", "3 points", "2/5"]
    assert by_student["moodle-2847567"] == ["2/2", "1/3", "2/2", "-", "3/5"]
    assert by_student["canvas-31007"] == ["1/2", "0/3", "1/2", "-", "1/5"]
    assert [row[0] for row in rows] == sorted(SCORES)


def test_moodle_worksheet_gets_each_participants_grade(graded, tmp_path):
    """Does each participant's row get its grade (late: one point off) and comment, a grade
    given in Moodle stay, a locked row stay, and each feedback file carry its participant's
    id?"""
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(moodle_worksheet(worksheet_rows()))
    done = moodle.return_to_moodle(graded, worksheet, tmp_path / "out")
    rows = read_csv(tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv")
    assert rows[0] == MOODLE_HEADER
    grades = {row[0]: (row[4], row[10]) for row in rows[1:]}
    assert grades["Participant 2847565"] == ("3.50", "Goed gewerkt.")
    assert grades["Participant 2847566"][0] == "2.00"
    assert grades["Participant 2847567"] == ("2.00", (
        "Autograded: 2 of 2 points; total 2 of 5. Handed in late: 1 point(s) off. Every "
        "autograded check passed. The feedback page explains each check."))
    assert grades["Participant 2847568"] == ("", "")
    assert grades["Participant 2847569"] == ("", "")
    assert ("moodle-2847565 (Jan Peeters): already has the grade 3.50 and the comment "
            "'Goed gewerkt.' on the platform; kept (ours: 4.00). Give --replace-grades to "
            "replace them.") in done.notes
    assert any(n.startswith("moodle-2847568 (Ann Locked): Moodle says this grade cannot be "
                            "changed") for n in done.notes)
    assert ("moodle-2847566: written answers not graded yet (Formgrader); their points "
            "count as 0 in this worksheet.") in done.notes
    assert "Participant 2847569: no submission collected here; left as it was." in done.notes
    pages = zip_names(tmp_path / "out" / f"moodle-feedback-files-{ASSIGNMENT}.zip")
    assert sorted(pages) == sorted(
        f"{name}_{number}_assignsubmission_file_{ASSIGNMENT}_feedback.html"
        for name, number in (("Jan Peeters", 2847565), ("Zoë Maes", 2847566),
                             ("Dimitris Pappas", 2847567), ("Ann Locked", 2847568)))
    assert pages[f"Zoë Maes_2847566_assignsubmission_file_{ASSIGNMENT}_feedback.html"] == \
        b"<p>feedback of moodle-2847566</p>"


def test_replace_grades_replaces_moodles_grade_but_not_a_locked_one(graded, tmp_path):
    """With --replace-grades, is the grade given in Moodle replaced, and a locked row still
    left?"""
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(moodle_worksheet(worksheet_rows()))
    done = moodle.return_to_moodle(graded, worksheet, tmp_path / "out", replace_grades=True)
    rows = read_csv(tmp_path / "out" / f"moodle-grading-worksheet-{ASSIGNMENT}.csv")
    assert (rows[1][4], rows[4][4]) == ("4.00", "")
    assert ("moodle-2847565 (Jan Peeters): replaced the grade 3.50 and the comment "
            "'Goed gewerkt.'.") in done.notes


@pytest.mark.parametrize("rows, message", [
    (lambda: worksheet_rows()[:1] + worksheet_rows()[2:],
     r"lacks students who handed in here: moodle-2847566 \(Zoë Maes, participant 2847566\)"),
    (lambda: [moodle_row(91, "Someone Else")],
     "None of the 4 students collected from Moodle is on worksheet.csv"),
    (lambda: worksheet_rows(maximum="10.00"),
     "gives '10.00' as the maximum grade, but the assignment here is worth 5 points"),
])
def test_a_worksheet_that_does_not_fit_is_refused(graded, tmp_path, rows, message):
    """Is a worksheet that lacks a participant, lists none of them, or has another maximum
    refused, with nothing written?"""
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_bytes(moodle_worksheet(rows()))
    with pytest.raises(CourseError, match=message):
        moodle.return_to_moodle(graded, worksheet, tmp_path / "out")
    assert written_files(tmp_path / "out") == []


CANVAS_STUDENTS = [("Peeters, Jan", 31004, ""), ("Peeters, Jan", 31005, ""),
                   ("Maes, Zoë", 31006, "EX"), ("Smith, Frank", 31007, "2,50"),
                   ("Li, Erin", 31099, "")]


def test_canvas_import_gets_each_users_grade(graded, tmp_path):
    """Does each Canvas user id get its grade (late: one point off), a score given in Canvas
    and an excused student stay, the anonymous student a note for SpeedGrader, and each
    feedback page the name of the file handed in?"""
    export = tmp_path / "export.csv"
    export.write_bytes(canvas_export(CANVAS_STUDENTS, points="5,00", separator=";"))
    done = canvas.return_to_canvas(graded, export, tmp_path / "out", column="1234")
    table = read_csv(tmp_path / "out" / f"canvas-gradebook-{ASSIGNMENT}.csv", separator=";")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                        "MNIST CNN (1234)"]
    assert {row[1]: row[5] for row in table[2:]} == {
        "31004": "3,00", "31005": "1,00", "31006": "EX", "31007": "2,50", "31099": ""}
    assert ("canvas-31007 (smithfrank): already has the score 2,50 on the platform; kept "
            "(ours: 1.00). Give --replace-grades to replace them.") in done.notes
    assert any(n.startswith("canvas-31006 (maeszoë): Canvas shows EX (excused); left as it "
                            "was") for n in done.notes)
    assert ("canvas-anon-Qq2Mx: graded anonymously on Canvas (anonymous id Qq2Mx); enter 2.00 "
            "in SpeedGrader, which shows that id: the gradebook import cannot grade unposted "
            "anonymous submissions.") in done.notes
    pages = zip_names(tmp_path / "out" / f"canvas-feedback-{ASSIGNMENT}.zip")
    assert sorted(pages) == sorted(f"{Path(top).stem}_feedback.html"
                                   for top in CANVAS_TOPS.values())
    assert pages["peetersjan_LATE_31005_5003_mnist_cnn_feedback.html"] == \
        b"<p>feedback of canvas-31005</p>"
    again = canvas.return_to_canvas(graded, export, tmp_path / "again", column="1234",
                                    replace_grades=True)
    table = read_csv(tmp_path / "again" / f"canvas-gradebook-{ASSIGNMENT}.csv", separator=";")
    assert {row[1]: row[5] for row in table[2:]}["31007"] == "1,00"
    assert "canvas-31007 (smithfrank): replaced the score 2,50." in again.notes


@pytest.mark.parametrize("students, points, message", [
    (CANVAS_STUDENTS[:3], "5.00",
     r"lacks students who handed in here: canvas-31007 \(smithfrank, Canvas user 31007\)"),
    (CANVAS_STUDENTS, "10.00", "gives '10.00' as the maximum grade"),
])
def test_a_canvas_export_that_does_not_fit_is_refused(graded, tmp_path, students, points,
                                                      message):
    """Is an export that lacks a student, or whose assignment is worth other points,
    refused with nothing written?"""
    export = tmp_path / "export.csv"
    export.write_bytes(canvas_export(students, points=points))
    with pytest.raises(CourseError, match=message):
        canvas.return_to_canvas(graded, export, tmp_path / "out", column="MNIST CNN (1234)")
    assert written_files(tmp_path / "out") == []
