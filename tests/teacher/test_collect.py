"""Does `course collect` file downloads from Moodle and Canvas under the right students, with
the right notebook and the platform's own hand-in times, within limits?

Downloads, worksheets and exports are built as the platforms build them
(tests/helpers/platform_downloads.py follows Moodle's mod/assign/classes/downloader.php and
files/classes/local/archive_writer/zip_writer.php, mod/assign/gradingtable.php; Canvas'
lib/content_zipper.rb, lib/gradebook_exporter.rb and lib/csv_with_i18n.rb).
"""

from __future__ import annotations

import zipfile
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest
from helpers.course import zip_bytes
from helpers.platform_downloads import (
    ASSIGNMENT,
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
    nested_zip,
    scratch_notebook,
    small_lesson,
    zip_of,
)

from course_lib.teacher import platforms
from course_lib.teacher.cli import main
from course_lib.teacher.collect import collect, owner_of
from course_lib.teacher.course import CourseError

NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def notebook_bytes(marker: str) -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(f"# {marker}")])).encode()


@pytest.fixture
def course(tmp_path):
    """A course folder: its settings and the student version of a small lesson."""
    folder = tmp_path / "course"
    (folder / "release" / ASSIGNMENT).mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text("c = get_config()\n")
    nbformat.write(small_lesson(), folder / "release" / ASSIGNMENT / NOTEBOOK)
    return folder


def submitted(course: Path, student: str) -> Path:
    return course / "submitted" / student / ASSIGNMENT


def answer_of(course: Path, student: str) -> str:
    """The answer cell of the notebook collected for ``student``."""
    return nbformat.read(submitted(course, student) / NOTEBOOK, as_version=4).cells[0].source


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def timestamp(course: Path, student: str):
    """The hand-in time nbgrader reads for ``student`` (naive UTC), or None."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(root=str(course)).get_existing_timestamp(
        str(submitted(course, student)))


# ---- who is who ----------------------------------------------------------------------------

def test_moodle_participants_are_their_ids_whatever_their_names(tmp_path, course):
    """Are two participants called "Jan Peeters" two students, and is a Greek name collected
    under its participant id, with the worksheet's names for display?"""
    download = write(tmp_path / "MNIST-CNN-77.zip", moodle_download([
        MoodleSubmission("Jan Peeters", 2847565, {NOTEBOOK: handed_in(RIGHT, "first jan")}),
        MoodleSubmission("Jan Peeters", 2847566, {NOTEBOOK: handed_in(WRONG, "second jan")}),
        MoodleSubmission("Δημήτρης Παπαδόπουλος", 2847567,
                         {NOTEBOOK: handed_in(RIGHT, "dimitris"), "7_mine.png": b"png 7"}),
    ]))
    worksheet = write(tmp_path / "worksheet.csv", moodle_worksheet([
        moodle_row(2847565, "Jan Peeters"), moodle_row(2847566, "Jan Peeters"),
        moodle_row(2847567, "Δημήτρης Παπαδόπουλος"), moodle_row(2847599, "Ann Absent")]))
    result = collect([download], course, ASSIGNMENT, moodle=worksheet)
    assert result.students == ["moodle-2847565", "moodle-2847566", "moodle-2847567"]
    assert result.skipped == []
    assert answer_of(course, "moodle-2847565").endswith("# first jan")
    assert answer_of(course, "moodle-2847566").endswith("# second jan")
    assert answer_of(course, "moodle-2847567").endswith("# dimitris")
    own = submitted(course, "moodle-2847567") / "own_digits"
    assert [p.name for p in own.iterdir()] == ["7_mine.png"]
    assert result.names["moodle-2847567"] == "Δημήτρης Παπαδόπουλος"
    records = platforms.load(course)
    assert {s: (r.platform, r.platform_id, r.name) for s, r in records.items()} == {
        "moodle-2847565": ("moodle", "2847565", "Jan Peeters"),
        "moodle-2847566": ("moodle", "2847566", "Jan Peeters"),
        "moodle-2847567": ("moodle", "2847567", "Δημήτρης Παπαδόπουλος")}


@pytest.mark.parametrize("unpacked", [False, True], ids=["zip", "unpacked-into-a-folder"])
def test_canvas_users_are_their_ids_whatever_their_names(tmp_path, course, unpacked):
    """Are two "peetersjan" two students, a Greek name in rubyzip's unmarked UTF-8 read as
    it was, and the user and file ids kept for the return, also from an unpacked download?"""
    data = canvas_download([
        CanvasSubmission("Peeters, Jan", 31004, [(5001, NOTEBOOK, handed_in(RIGHT, "a"))]),
        CanvasSubmission("Peeters, Jan", 31005, [(5002, NOTEBOOK, handed_in(WRONG, "b"))],
                         late=True),
        CanvasSubmission("Παπαδόπουλος, Δημήτρης", 31010,
                         [(5010, NOTEBOOK, handed_in(RIGHT, "c")), (5011, "3.png", b"png")]),
    ])
    source = write(tmp_path / "submissions.zip", data)
    if unpacked:
        source = tmp_path / "downloads"
        with zipfile.ZipFile(tmp_path / "submissions.zip") as archive:
            for info in archive.infolist():
                name = info.filename.encode("cp437").decode("utf-8") \
                    if not info.flag_bits & 0x800 else info.filename
                target = source / "mnist_cnn submissions" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))
    export = write(tmp_path / "export.csv", canvas_export([
        ("Peeters, Jan", 31004, ""), ("Peeters, Jan", 31005, ""),
        ("Παπαδόπουλος, Δημήτρης", 31010, "")]))
    result = collect([source], course, ASSIGNMENT, canvas=export)
    assert result.students == ["canvas-31004", "canvas-31005", "canvas-31010"]
    assert result.skipped == []
    assert answer_of(course, "canvas-31005").endswith("# b")
    records = platforms.load(course)
    assert {s: (r.platform_id, r.file_id, r.original, r.late) for s, r in records.items()} == {
        "canvas-31004": ("31004", "5001", "peetersjan_31004_5001_mnist_cnn.ipynb", False),
        "canvas-31005": ("31005", "5002", "peetersjan_LATE_31005_5002_mnist_cnn.ipynb", True),
        "canvas-31010": ("31010", "5010",
                         "παπαδόπουλοςδημήτρης_31010_5010_mnist_cnn.ipynb", False)}
    assert [p.name for p in (submitted(course, "canvas-31010") / "own_digits").iterdir()] \
        == ["3.png"]


def test_blind_and_anonymous_marking_keep_every_student(tmp_path, course):
    """Do Moodle's blind marking (every folder "Participant_...") and Canvas' anonymous
    grading ("anon_...") give one student each, anonymous still?"""
    moodle = write(tmp_path / "moodle.zip", moodle_download([
        MoodleSubmission("Jan Peeters", number, {NOTEBOOK: handed_in(RIGHT, str(number))})
        for number in (2847561, 2847562, 2847563)], blind=True))
    canvas = write(tmp_path / "canvas.zip", canvas_download([
        CanvasSubmission("Peeters, Jan", 771000 + n, [(771000 + n, NOTEBOOK, handed_in(RIGHT))],
                         anonymous_id=anonymous, late=n == 3)
        for n, anonymous in ((1, "Xk3Pq"), (2, "bR7wZ"), (3, "Qq2Mx"))]))
    result = collect([moodle, canvas], course, ASSIGNMENT)
    assert result.students == [
        "canvas-anon-Qq2Mx", "canvas-anon-Xk3Pq", "canvas-anon-bR7wZ",
        "moodle-2847561", "moodle-2847562", "moodle-2847563"]
    assert answer_of(course, "moodle-2847562").endswith("# 2847562")
    records = platforms.load(course)
    assert records["canvas-anon-Xk3Pq"].anonymous_id == "Xk3Pq"
    assert records["canvas-anon-Xk3Pq"].original == "anon_Xk3Pq_771001_mnist_cnn.ipynb"
    assert records["canvas-anon-Qq2Mx"].late is True
    assert not any("Peeters" in r.name for r in records.values())  # nothing gives a name


def test_two_names_that_make_one_id_are_never_merged(tmp_path, course):
    """Are two folders that would both become the id `zoe` both refused, with a line?"""
    download = write(tmp_path / "class.zip", zip_bytes({
        f"Zoë/{NOTEBOOK}": handed_in(RIGHT, "accented"), f"Zoe/{NOTEBOOK}": handed_in(WRONG),
        f"ada/{NOTEBOOK}": handed_in(RIGHT)}))
    result = collect([download], course, ASSIGNMENT)
    assert result.students == ["ada"]
    assert any(line.startswith("Zoe, Zoë: each would become the student zoe; none collected")
               for line in result.skipped)
    assert not submitted(course, "zoe").exists()


# ---- the right notebook --------------------------------------------------------------------

def test_the_lesson_is_found_by_its_content_not_its_name(tmp_path, course):
    """Is the notebook with the lesson's graded cells collected whatever its name, and a
    scratch notebook beside it reported, not graded?"""
    moodle = write(tmp_path / "moodle.zip", moodle_download([MoodleSubmission(
        "Jan Peeters", 2847565, {"Untitled.ipynb": scratch_notebook(),
                                 "mnist_cnn (1).ipynb": handed_in(RIGHT, "lesson")})]))
    canvas = write(tmp_path / "canvas.zip", canvas_download([CanvasSubmission(
        "Peeters, Jan", 31004, [(5001, "notes.ipynb", scratch_notebook("# my notes")),
                                (5002, "Peeters_lesson.ipynb", handed_in(RIGHT, "lesson"))])]))
    result = collect([moodle, canvas], course, ASSIGNMENT)
    assert result.students == ["canvas-31004", "moodle-2847565"]
    assert answer_of(course, "moodle-2847565").endswith("# lesson")
    assert answer_of(course, "canvas-31004").endswith("# lesson")
    assert platforms.load(course)["canvas-31004"].file_id == "5002"
    assert ("moodle-2847565: Jan Peeters_2847565_assignsubmission_file/Untitled.ipynb: not "
            "the lesson (0 of its 3 graded cells); not graded") in result.skipped
    assert ("canvas-31004: peetersjan_31004_5001_notes.ipynb: not the lesson (0 of its 3 "
            "graded cells); not graded") in result.skipped
    assert [p.name for p in submitted(course, "moodle-2847565").iterdir()] == [
        NOTEBOOK, "own_digits"]


# ---- hand-in times -------------------------------------------------------------------------

WORKSHEET_FORMS = {
    "as Moodle writes it": dict(dates=("Monday, 2 March 2026, 11:58 PM",
                                       "Tuesday, 3 March 2026, 10:00 AM")),
    "in Dutch, saved again by a spreadsheet": dict(
        dates=("maandag 2 maart 2026, 23:58", "dinsdag 3 maart 2026, 10:00"),
        encoding="cp1252", separator=";", newline="\r\n", bom=False),
}


@pytest.mark.parametrize("form", WORKSHEET_FORMS)
def test_moodle_hand_in_times_come_from_the_worksheet_not_the_zip(tmp_path, course, form):
    """Is the time nbgrader reads Moodle's "Last modified (submission)" (in the teacher's
    zone), though every zip entry carries the moment of downloading, two days later?"""
    settings = dict(WORKSHEET_FORMS[form])
    on_time, late = settings.pop("dates")
    download = write(tmp_path / "moodle.zip", moodle_download([
        MoodleSubmission("Jan Peeters", 2847565, {NOTEBOOK: handed_in(RIGHT)}),
        MoodleSubmission("Zoë Maes", 2847566, {NOTEBOOK: handed_in(RIGHT)})]))
    worksheet = write(tmp_path / "worksheet.csv", moodle_worksheet([
        moodle_row(2847565, "Jan Peeters", on_time), moodle_row(2847566, "Zoë Maes", late)],
        **settings))
    result = collect([download], course, ASSIGNMENT, moodle=worksheet,
                     timezone_name="Europe/Brussels")
    assert result.students == ["moodle-2847565", "moodle-2847566"]
    assert timestamp(course, "moodle-2847565") == datetime(2026, 3, 2, 22, 58)  # UTC
    assert timestamp(course, "moodle-2847566") == datetime(2026, 3, 3, 9, 0)
    assert platforms.load(course)["moodle-2847566"].name == "Zoë Maes"


def test_without_the_worksheet_no_time_is_taken_from_the_zip(tmp_path, course):
    """Without the worksheet, is no hand-in time recorded (never late), and does a note
    say where the times are?"""
    download = write(tmp_path / "moodle.zip", moodle_download([
        MoodleSubmission("Jan Peeters", 2847565, {NOTEBOOK: handed_in(RIGHT)})]))
    result = collect([download], course, ASSIGNMENT)
    assert result.students == ["moodle-2847565"]
    assert timestamp(course, "moodle-2847565") is None
    assert any("give it with --moodle WORKSHEET.csv" in note for note in result.notes)


def test_canvas_late_mark_reaches_nbgrader(tmp_path, course):
    """Is a submission Canvas marks LATE one second past the gradebook's due date, and one
    on time without a time (never late), whatever the zip's times?"""
    from nbgrader.api import Gradebook

    due = datetime(2026, 3, 2, 22, 59, 59)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        book.update_or_create_assignment(ASSIGNMENT, duedate=due)
    download = write(tmp_path / "canvas.zip", canvas_download([
        CanvasSubmission("Peeters, Jan", 31004, [(5001, NOTEBOOK, handed_in(RIGHT))]),
        CanvasSubmission("Maes, Zoë", 31005, [(5002, NOTEBOOK, handed_in(RIGHT))], late=True)]))
    result = collect([download], course, ASSIGNMENT)
    assert result.students == ["canvas-31004", "canvas-31005"]
    assert timestamp(course, "canvas-31004") is None
    assert timestamp(course, "canvas-31005") == datetime(2026, 3, 2, 23, 0, 0)
    assert platforms.load(course)["canvas-31005"].handed_in == datetime(
        2026, 3, 2, 23, 0, 0, tzinfo=timezone.utc).isoformat()


# ---- own zips, new downloads ---------------------------------------------------------------

def test_a_students_own_zip_is_theirs_whatever_it_holds(tmp_path, course):
    """Is a Canvas student's zip of the lesson folder collected and recorded for the return
    (its file id), and does a file in it named like another student's stay hers?"""
    own = zip_bytes({
        f"mnist_cnn/{NOTEBOOK}": handed_in(RIGHT, "hers"),
        "mnist_cnn/own_digits/3_mine.png": b"png 3",
        f"peetersjan_31005_9999_{NOTEBOOK}": handed_in(WRONG, "named like another's"),
    })
    download = write(tmp_path / "canvas.zip", canvas_download([
        CanvasSubmission("Maes, Zoë", 31006, [(5005, "mnist_cnn.zip", own)]),
        CanvasSubmission("Peeters, Jan", 31005, [(5002, NOTEBOOK, handed_in(RIGHT, "his"))])]))
    result = collect([download], course, ASSIGNMENT)
    assert result.students == ["canvas-31005", "canvas-31006"]
    assert answer_of(course, "canvas-31006").endswith("# hers")
    assert answer_of(course, "canvas-31005").endswith("# his")
    record = platforms.load(course)["canvas-31006"]
    assert (record.original, record.file_id) == ("maeszoë_31006_5005_mnist_cnn.zip", "5005")
    assert [p.name for p in (submitted(course, "canvas-31006") / "own_digits").iterdir()] \
        == ["3_mine.png"]


def test_a_new_download_replaces_a_student_whole(tmp_path, course):
    """Does collecting a re-submission replace the student's notebook, time and pictures
    whole, the old pictures gone?"""
    first = write(tmp_path / "first.zip", moodle_download([MoodleSubmission(
        "Jan Peeters", 2847565, {NOTEBOOK: handed_in(WRONG, "old"), "7_old.png": b"old"})]))
    second = write(tmp_path / "second.zip", moodle_download([MoodleSubmission(
        "Jan Peeters", 2847565, {NOTEBOOK: handed_in(RIGHT, "new"), "3_new.png": b"new"})]))
    worksheet = write(tmp_path / "worksheet.csv", moodle_worksheet([
        moodle_row(2847565, "Jan Peeters", "Monday, 2 March 2026, 11:58 PM")]))
    collect([first], course, ASSIGNMENT, moodle=worksheet, timezone_name="UTC")
    assert timestamp(course, "moodle-2847565") is not None
    collect([second], course, ASSIGNMENT)
    folder = submitted(course, "moodle-2847565")
    assert answer_of(course, "moodle-2847565").endswith("# new")
    assert sorted(p.name for p in (folder / "own_digits").iterdir()) == ["3_new.png"]
    assert timestamp(course, "moodle-2847565") is None  # the old time went with the old work
    assert sorted(p.name for p in folder.parent.iterdir()) == [ASSIGNMENT]


# ---- limits --------------------------------------------------------------------------------

def test_limits_cost_only_the_student_who_broke_them(tmp_path, course):
    """Is a 200 MiB picture in a small zip left out, a zip nested 1,200 deep left closed and
    a flood of files cut off, each with a line for that student alone, while every lesson
    (theirs too) is collected?"""
    bomb = zip_of({"own_digits/7.png": bytes(200 * 1024 * 1024)})
    assert len(bomb) < 450 * 1024
    download = write(tmp_path / "canvas.zip", canvas_download([
        CanvasSubmission("Bomb, Ben", 31001, [(5001, NOTEBOOK, handed_in(RIGHT, "ben")),
                                              (5002, "digits.zip", bomb)]),
        CanvasSubmission("Deep, Dora", 31002, [(5003, NOTEBOOK, handed_in(RIGHT, "dora")),
                                               (5004, "deep.zip", nested_zip(1200, {
                                                   "7.png": b"png"}))]),
        CanvasSubmission("Many, Max", 31003, [(5005, NOTEBOOK, handed_in(RIGHT, "max"))]
                         + [(6000 + n, f"{n % 10}_{n}.png", b"p") for n in range(600)]),
        CanvasSubmission("Fine, Fay", 31004, [(5006, NOTEBOOK, handed_in(RIGHT, "fay")),
                                              (5007, "4.png", b"png 4")]),
    ]))
    result = collect([download], course, ASSIGNMENT)
    assert result.students == ["canvas-31001", "canvas-31002", "canvas-31003", "canvas-31004"]
    for student, marker in (("canvas-31001", "ben"), ("canvas-31002", "dora"),
                            ("canvas-31003", "max"), ("canvas-31004", "fay")):
        assert answer_of(course, student).endswith(f"# {marker}")
    assert ("canvas-31001: bombben_31001_5002_digits.zip/own_digits/7.png: larger than 20 "
            "MiB; left out") in result.skipped
    assert any(line.startswith("canvas-31002: deepdora_31002_5004_deep.zip/level1198.zip/"
                               "level1197.zip: a zip inside zips 3 deep; not opened")
               for line in result.skipped)
    assert any(line.startswith("canvas-31003: handed in more than 500 files; the rest of "
                               "their files was left out") for line in result.skipped)
    assert not any(line.startswith("canvas-31004") for line in result.skipped)
    assert len(list((submitted(course, "canvas-31003") / "own_digits").iterdir())) == 499
    assert [p.name for p in (submitted(course, "canvas-31004") / "own_digits").iterdir()] \
        == ["4.png"]
    assert not (submitted(course, "canvas-31001") / "own_digits" / "7.png").exists()


# ---- the platform's spreadsheet ------------------------------------------------------------

def test_a_worksheet_of_another_assignment_is_refused_and_nothing_written(tmp_path, course):
    """Is a worksheet listing none of the download's participants refused, and one who is
    missing from it left out with a line?"""
    download = write(tmp_path / "moodle.zip", moodle_download([
        MoodleSubmission("Jan Peeters", 2847565, {NOTEBOOK: handed_in(RIGHT)}),
        MoodleSubmission("Zoë Maes", 2847566, {NOTEBOOK: handed_in(RIGHT)})]))
    other = write(tmp_path / "other.csv", moodle_worksheet([moodle_row(91, "Someone")]))
    with pytest.raises(CourseError, match="None of the 2 Moodle students in the download is "
                                          "on other.csv"):
        collect([download], course, ASSIGNMENT, moodle=other)
    assert not (course / "submitted").exists()
    partial = write(tmp_path / "partial.csv", moodle_worksheet([moodle_row(2847565, "Jan")]))
    result = collect([download], course, ASSIGNMENT, moodle=partial)
    assert result.students == ["moodle-2847565"]
    assert any(line.startswith("moodle-2847566: participant 2847566 (Zoë Maes_2847566_"
                               "assignsubmission_file) is not on partial.csv")
               for line in result.skipped)


# ---- plain folders and the command ---------------------------------------------------------

@pytest.mark.parametrize("top, is_file, expected", [
    ("Jan Peeters_2847565_assignsubmission_file", False, ("moodle-2847565", "Jan Peeters")),
    ("Jan Peeters_2847565_assignsubmission_file_", False, ("moodle-2847565", "Jan Peeters")),
    ("Jan Peeters_2847565_assignsubmission_file_mnist_cnn.ipynb", True,
     ("moodle-2847565", "Jan Peeters")),
    ("Participant_2847561_assignsubmission_file", False, ("moodle-2847561", "Participant")),
    ("peetersjan_31004_5001_mnist_cnn.ipynb", True, ("canvas-31004", "peetersjan")),
    ("peetersjan_LATE_31004_5001_mnist_cnn-1.ipynb", True, ("canvas-31004", "peetersjan")),
    ("o_brienjan_31007_5001_mnist_cnn.ipynb", True, ("canvas-31007", "o_brienjan")),
    ("anon_Xk3Pq_771001_mnist_cnn.ipynb", True, ("canvas-anon-Xk3Pq", "")),
    ("LATE_anon_Xk3Pq_771001_7_mine.png", True, ("canvas-anon-Xk3Pq", "")),
    ("alice", False, ("alice", "alice")),
    ("Alice.zip", True, ("alice", "Alice")),
    ("frank_9_mnist_cnn.ipynb", True, ("frank", "frank")),
])
def test_owner_from_the_download_names(top, is_file, expected):
    """Is the student read from Moodle's and Canvas' names (their ids) and from folders
    named by a person (the name)?"""
    found = owner_of(top, is_file, ASSIGNMENT)
    assert (found.student, found.name) == expected
    assert owner_of(NOTEBOOK, True, ASSIGNMENT) is None


def test_bad_files_are_reported_and_skipped(tmp_path, course):
    """Are a malformed notebook, a bare notebook and a corrupt zip skipped, the rest kept?"""
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "carol_1_2_mnist_cnn.ipynb").write_bytes(notebook_bytes("carol"))
    (folder / "dave_3_4_mnist_cnn.ipynb").write_text('{"cells": [ broken')
    (folder / "mnist_cnn.ipynb").write_bytes(notebook_bytes("nobody"))
    (folder / "erin.zip").write_bytes(b"PK not really a zip")
    (folder / "notes.md").write_text("remember to submit")
    result = collect([folder], course, ASSIGNMENT)
    assert result.students == ["canvas-1"]
    reasons = "\n".join(result.skipped)
    assert "canvas-3: dave_3_4_mnist_cnn.ipynb: not a readable notebook" in reasons
    assert "mnist_cnn.ipynb: cannot tell whose notebook this is" in reasons
    assert "erin: erin.zip: not a readable zip file" in reasons
    assert "notes.md: not a notebook or a digit picture" in reasons


def test_collect_command_reports(tmp_path, capsys):
    """Does `course collect DOWNLOAD --moodle WORKSHEET` print who was collected (ids, with
    the names for display) and what was skipped?"""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    download = write(tmp_path / "moodle.zip", moodle_download([
        MoodleSubmission("Jan Peeters", 2847565, {NOTEBOOK: notebook_bytes("jan")}),
        MoodleSubmission("Jan Peeters", 2847566, {NOTEBOOK: b"nope"})]))
    worksheet = write(tmp_path / "worksheet.csv", moodle_worksheet([
        moodle_row(2847565, "Jan Peeters", "Monday, 2 March 2026, 11:58 PM"),
        moodle_row(2847566, "Jan Peeters", "Monday, 2 March 2026, 11:50 PM")]))
    assert main(["--course", str(tmp_path), "collect", str(download), "--moodle",
                 str(worksheet), "--timezone", "Europe/Brussels"]) == 0
    captured = capsys.readouterr()
    assert "Collected 1 submission(s): moodle-2847565 (Jan Peeters)" in captured.out
    assert ("skipped moodle-2847566: Jan Peeters_2847566_assignsubmission_file/mnist_cnn.ipynb:"
            " not a readable notebook") in captured.err


def test_collect_outside_a_course_folder_refuses(tmp_path, capsys):
    """Does collecting into a folder that is not a course say so instead of writing there?"""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "frank_9_mnist_cnn.ipynb").write_bytes(notebook_bytes("frank"))
    elsewhere = tmp_path / "not-a-course"
    elsewhere.mkdir()
    assert main(["--course", str(elsewhere), "collect", str(tmp_path / "in")]) == 1
    assert "is not a course folder" in capsys.readouterr().err
    assert not (elsewhere / "submitted").exists()
