"""Is a student id checked wherever it enters: the class list, collected downloads and
folders, nbgrader's exchange, the folders in submitted/ and the command line? And does a
folder named `*` leave every other student's grading to that student alone?"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from helpers.course import ROOT, zip_bytes
from nbformat.v4 import new_code_cell, new_notebook

from course_lib.teacher import autograde as coordinator
from course_lib.teacher import course as teacher
from course_lib.teacher import hub, platforms
from course_lib.teacher.cli import build_parser
from course_lib.teacher.collect import collect
from course_lib.teacher.course import CourseError, step_folder
from course_lib.teacher.plan import plan
from course_lib.teacher.student_ids import MAX_ACCOUNT_LENGTH, MAX_LENGTH, check_student_id

BAD = ["*", "a/b", "..", "-rf"]
GOOD = "jan.peeters"


def notebook_bytes(marker: str) -> bytes:
    return nbformat.writes(new_notebook(cells=[new_code_cell(f"# {marker}")])).encode()


@pytest.fixture
def course(tmp_path):
    """An empty course folder: its settings only."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text("c = get_config()\n")
    return folder


# ---- the check itself ------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("*", "a pattern character"), ("a/b", "a folder separator"), ("..", "'..'"),
    ("-rf", "starts with '-'"), ("alice?", "a pattern character"),
    ("[ab]", "a pattern character"), ("{a,b}", "a pattern character"),
    ("a\\b", "a folder separator"), (".alice", "starts with '.'"), ("a..b", "'..'"),
    ("jan peeters", "a space"), ("jan\tpeeters", "white space"),
    ("a\x00b", "control character"), ("a\x1bb", "control character"), ("", "empty"),
    ("x" * (MAX_LENGTH + 1), f"{MAX_LENGTH + 1} characters long"),
    ("zoë", "the letter 'ë'"), (None, "not text"), (7, "not text"),
])
def test_an_unsafe_id_is_refused_with_what_is_allowed(text, reason):
    """Is each unsafe id refused, by name, with what is wrong, what is allowed and what to
    do?"""
    with pytest.raises(ValueError) as caught:
        check_student_id(text)
    message = str(caught.value)
    assert message.startswith(f"{text!r}")
    assert reason in message
    assert "may hold the letters a-z and A-Z, digits, '.', '_' and '-'" in message
    assert "e.g. jan.peeters" in message


@pytest.mark.parametrize("text", [GOOD, "alice", "Alice", "2b-jan_peeters", "12345",
                                  "x" * MAX_LENGTH, "_x"])
def test_a_schools_usual_ids_are_accepted(text):
    """Are firstname.lastname, student numbers and plain names accepted as they are?"""
    assert check_student_id(text) == text


@pytest.mark.parametrize("text, reason", [
    ("Jan.peeters", "capital letters"), ("2b", "starts with a digit"),
    ("x" * (MAX_ACCOUNT_LENGTH + 1), f"{MAX_ACCOUNT_LENGTH + 1} characters long"),
    ("zoë", "the letter 'ë'"),
])
def test_an_account_name_is_stricter(text, reason):
    """Are capitals, a leading digit, Unicode and more than 32 characters refused for a
    system account (and the id otherwise allowed, but for Unicode)?"""
    with pytest.raises(ValueError, match="cannot be an account name") as caught:
        check_student_id(text, account=True)
    assert reason in str(caught.value)
    assert check_student_id(GOOD, account=True) == GOOD


# ---- the class list (course hub) ------------------------------------------------------------

@pytest.mark.parametrize("bad", BAD)
def test_the_class_list_refuses_an_unsafe_id_by_line(tmp_path, bad):
    """Does the class list refuse an unsafe id, naming its line and the id?"""
    class_list = tmp_path / "class.csv"
    class_list.write_text(f"id,name\n{GOOD},Jan Peeters\n{bad},Someone\n")
    with pytest.raises(CourseError) as caught:
        hub.read_class_list(class_list)
    message = str(caught.value)
    assert message.startswith(f"Line 3 of class.csv: {bad!r} cannot be an account name")
    assert "Correct that line of the class list" in message


def test_the_class_list_takes_firstname_lastname(tmp_path):
    """Is `jan.peeters` a student of the class list (and an account name)?"""
    class_list = tmp_path / "class.csv"
    class_list.write_text(f"id,name\n{GOOD},Jan Peeters\nada,Ada Lovelace\n")
    assert [m.id for m in hub.read_class_list(class_list)] == [GOOD, "ada"]


# ---- collected downloads and folders --------------------------------------------------------

def test_collect_refuses_unsafe_folder_names_and_collects_the_rest(tmp_path, course):
    """Are folders named `*`, `..`, `-rf` or `a\\b` (a Windows path in a zip) skipped with
    the reason, and `jan.peeters` collected under that very id?"""
    download = tmp_path / "download.zip"
    download.write_bytes(zip_bytes({
        f"{GOOD}/mnist_cnn.ipynb": notebook_bytes(GOOD),
        "*/mnist_cnn.ipynb": notebook_bytes("star"),
        "../mnist_cnn.ipynb": notebook_bytes("above"),
        "-rf/mnist_cnn.ipynb": notebook_bytes("option"),
        "a\\b/mnist_cnn.ipynb": notebook_bytes("separator"),
    }))
    result = collect([download], course, "mnist_cnn")
    assert result.students == [GOOD]
    assert sorted(p.name for p in (course / "submitted").iterdir()) == [GOOD]
    assert not (course / "mnist_cnn").exists()
    reasons = "\n".join(result.skipped)
    for name, path in [("*", "*/mnist_cnn.ipynb"), ("..", "../mnist_cnn.ipynb"),
                       ("-rf", "-rf/mnist_cnn.ipynb"), ("a\\b", "a\\b/mnist_cnn.ipynb")]:
        assert f"{path}: {name!r} cannot be a student id" in reasons
    assert reasons.count("Rename that folder or zip file to the student's id") == 4


def test_collect_leaves_accents_off_a_folder_name(tmp_path, course):
    """Does a folder `Zoë` (in either Unicode spelling) become the student `zoe`?"""
    for spelling in ("Zo\u00eb", "Zoe\u0308"):
        (tmp_path / "in" / spelling).mkdir(parents=True)
        (tmp_path / "in" / spelling / "mnist_cnn.ipynb").write_bytes(notebook_bytes("zoe"))
        assert collect([tmp_path / "in"], course, "mnist_cnn").students == ["zoe"]
        shutil.rmtree(tmp_path / "in")


@pytest.mark.parametrize("bad", BAD)
def test_platform_records_with_an_unsafe_id_are_refused(course, bad):
    """Is a platform-records file (edited by hand) with an unsafe id refused by name?"""
    record = platforms.PlatformRecord(bad, platforms.MOODLE, "11", "Someone", "x")
    (course / platforms.RECORDS_FILE).write_text(json.dumps({bad: record.__dict__}))
    with pytest.raises(CourseError, match=rf"{platforms.RECORDS_FILE}: '.*' cannot be a "
                                          "student id"):
        platforms.load(course)


def test_platform_records_keep_firstname_lastname(course):
    record = platforms.PlatformRecord(GOOD, platforms.MOODLE, "11", "Jan Peeters", "x")
    platforms.save(course, {GOOD: record})
    assert platforms.load(course) == {GOOD: record}


# ---- nbgrader's exchange -----------------------------------------------------------------

def hand_in_to_exchange(exchange: Path, name: str) -> None:
    """A folder in the exchange's inbound, as `nbgrader submit` (or anyone) leaves it."""
    handed_in = "2026-03-01 08:00:00.000000 UTC"
    folder = exchange / "mnist-cnn" / "inbound" / f"{name}+mnist_cnn+{handed_in}+abc"
    folder.mkdir(parents=True)
    (folder / "mnist_cnn.ipynb").write_bytes(notebook_bytes(name))


def exchange_course(tmp_path: Path, settings: str) -> Path:
    """A course with ``settings`` whose exchange (in tmp_path) holds `jan.peeters`'s
    submission and hostile ones under `*` and `-rf`."""
    exchange = tmp_path / "exchange"
    for name in (GOOD, "*", "-rf"):
        hand_in_to_exchange(exchange, name)
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text(
        f"{settings}\nc.CourseDirectory.course_id = 'mnist-cnn'\n"
        f"c.Exchange.root = {str(exchange)!r}\n")
    return folder


def test_course_collect_leaves_unsafe_ids_in_the_exchange(tmp_path):
    """Does `course collect` from the exchange (even with settings that do not name the
    checked collector) collect `jan.peeters`, leave `*` and `-rf` out and say why?"""
    course = exchange_course(tmp_path, "c = get_config()")
    said = []
    assert teacher.collect_from_exchange(course, report=said.append) == [GOOD]
    assert sorted(p.name for p in (course / "submitted").iterdir()) == [GOOD]
    assert len(said) == 2
    assert any("Not collecting *+mnist_cnn+" in line and "'*' cannot be a student id" in line
               for line in said)
    assert any("'-rf' cannot be a student id" in line for line in said)


def test_nbgrader_collect_with_the_course_settings_leaves_unsafe_ids_out(tmp_path):
    """Does plain `nbgrader collect` (Formgrader's Collect) with the course's settings leave
    `*` out too?"""
    course = exchange_course(tmp_path, (ROOT / "nbgrader_config.py").read_text())
    done = teacher.nbgrader(course, "collect", "mnist_cnn")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (course / "submitted").iterdir()) == [GOOD]
    assert "'*' cannot be a student id" in done.stderr


# ---- the command line -------------------------------------------------------------------------

@pytest.mark.parametrize("bad", BAD)
def test_course_autograde_refuses_an_unsafe_student_before_grading(bad, capsys):
    """Is `course autograde STUDENT` refused for an unsafe id, before anything runs?"""
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["autograde", f"--student={bad}"])
    assert stopped.value.code == 2
    assert f"{bad!r} cannot be a student id" in capsys.readouterr().err


def test_course_autograde_takes_firstname_lastname():
    assert build_parser().parse_args(["autograde", "--student", GOOD]).students == [GOOD]


# ---- the folders in submitted/ --------------------------------------------------------------

def hand_in(course: Path, *students: str) -> None:
    for student in students:
        folder = course / "submitted" / student / "mnist_cnn"
        folder.mkdir(parents=True)
        (folder / "mnist_cnn.ipynb").write_bytes(notebook_bytes(student))


def test_the_plan_refuses_unsafe_folder_names_and_keeps_the_class(course):
    """Does the plan leave `*`, `..`, `-rf` and `a/b` out, with the reason, and grade the
    others?"""
    the_plan = plan(course, ["alice", *BAD, GOOD], "mnist_cnn", workers=1, force=True)
    assert the_plan.students == ["alice", GOOD]
    assert list(the_plan.refused) == BAD
    assert all(reason.startswith(f"{name!r} cannot be a student id")
               for name, reason in the_plan.refused.items())


@pytest.fixture
def stand_in_nbgrader(monkeypatch):
    """nbgrader's autograde as far as whom it grades: `--student` matched as nbgrader
    matches it (a file pattern) against the folders in submitted/; each match gets a graded
    notebook. Every call is recorded: (course folder, --student, students matched)."""
    calls = []

    def nbgrader(course_dir, *arguments, timeout=None, environment=None):
        assert arguments[0] == "autograde"
        pattern = arguments[arguments.index("--student") + 1]
        submitted = Path(course_dir) / "submitted"
        matched = sorted(p.name for p in submitted.iterdir() if fnmatch.fnmatch(p.name, pattern))
        calls.append((Path(course_dir), pattern, matched))
        for student in matched:
            graded = step_folder(course_dir, "autograded", student, "mnist_cnn")
            graded.mkdir(parents=True, exist_ok=True)
            shutil.copy(submitted / student / "mnist_cnn" / "mnist_cnn.ipynb", graded)
        return subprocess.CompletedProcess(arguments, 0, "", "")

    monkeypatch.setattr(teacher, "nbgrader", nbgrader)
    # The workers' copy of the course: its settings are all this stand-in needs.
    monkeypatch.setattr(coordinator, "pack_course", lambda course_dir, assignment: {
        "nbgrader_config.py": (Path(course_dir) / "nbgrader_config.py").read_bytes()})
    return calls


@pytest.mark.parametrize("workers", [1, 2])
def test_a_folder_named_star_grades_nobody_else(course, stand_in_nbgrader, workers):
    """With `submitted/*/` among the class, is every nbgrader run about one student only,
    in place and on workers (where the coordinator's replay would otherwise run over the
    class), is `*` reported as not graded with the reason, and the rest graded?"""
    hand_in(course, "alice", "*", GOOD)
    said = []
    outcomes = coordinator.autograde(course, report=said.append, unsandboxed=True,
                                     workers=workers)
    in_course = [(pattern, matched) for folder, pattern, matched in stand_in_nbgrader
                 if folder == course]
    assert sorted(in_course) == sorted([("alice", ["alice"]), (GOOD, [GOOD])])
    # On workers, each student is graded in a copy of the course first, then replayed here.
    assert len(stand_in_nbgrader) == 2 * workers
    assert all(matched == [pattern] for _, pattern, matched in stand_in_nbgrader)
    assert sorted((o.student, o.ok) for o in outcomes) == [
        ("*", False), ("alice", True), (GOOD, True)]
    text = "\n".join(said)
    assert "Not grading '*': '*' cannot be a student id: it contains '*'" in text
    assert "rename it to the student's id" in text
    assert "not graded: *: " in text
    assert "Retry just these" not in text
