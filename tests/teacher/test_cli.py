"""Does the `course data` command prepare an offline classroom, and explain bad copies? Do
`course autograde`'s settings come from the course and the command line, and does the
teacher see the messages each level promises, where they belong?"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.course import course_with_submissions, stand_in_grader
from helpers.mnist import tiny_mnist, write_idx_folder

from course_lib.lesson.data import load_mnist
from course_lib.teacher.cli import build_parser, main
from course_lib.teacher.course import CourseError, step_folder


def test_import_makes_the_copy_the_course_uses(tmp_path, isolated_data, capsys):
    """After `course data import FOLDER`, does load_mnist use that copy from the keras cache?"""
    wanted = tiny_mnist(seed=9)
    assert main(["data", "import", str(write_idx_folder(tmp_path / "usb", wanted, gz=True))]) == 0
    assert (isolated_data / "datasets" / "mnist.npz").is_file()
    train, _, source = load_mnist()
    np.testing.assert_array_equal(train[0], wanted[0][0])
    assert "keras cache" in source.origin
    assert main(["data", "status"]) == 0
    assert "full MNIST" in capsys.readouterr().out


def test_import_of_a_bad_copy_fails_clearly_and_writes_nothing(tmp_path, isolated_data, capsys):
    """Does importing a broken file exit 1 with the reason, and leave no file behind?"""
    broken = tmp_path / "mnist.npz"
    broken.write_text("not really")
    assert main(["data", "import", str(broken)]) == 1
    assert "Cannot use the MNIST file" in capsys.readouterr().err
    assert not (isolated_data / "datasets").exists()


def test_status_without_full_set_says_how_to_get_it(capsys):
    """Does `course data status` name the sample and the commands that fetch the full set?"""
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "sample MNIST" in out and "4,000 training and 1,000 test" in out
    assert "course data fetch" in out


def test_fetch_offline_fails_with_advice(monkeypatch, capsys):
    """Does `course data fetch` without internet exit 1 and suggest importing a copy?"""
    import keras

    def offline():
        raise Exception("Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    assert main(["data", "fetch"]) == 1
    assert "course data import PATH" in capsys.readouterr().err


def _graded_as(monkeypatch, tmp_path, argv):
    """Run `course autograde ...` with a stand-in for the grading; what it was asked."""
    from course_lib.teacher import autograde, leaderboard

    for name in ("mnist_cnn", "mnist_cnn_nl"):
        (tmp_path / "source" / name).mkdir(parents=True, exist_ok=True)
    asked = {}

    def stand_in(course_dir, students, *, assignment, **options):
        asked.update(students=students, assignment=assignment)
        return []

    monkeypatch.setattr(autograde, "autograde", stand_in)
    monkeypatch.setattr(leaderboard, "publish", lambda course, assignment: course / "page.html")
    return main(["--course", str(tmp_path), "autograde", *argv]), asked


def test_autograde_takes_the_assignment_first_as_nbgrader_does(monkeypatch, tmp_path):
    """Does `course autograde mnist_cnn_nl --student S` grade S in the Dutch assignment?"""
    code, asked = _graded_as(monkeypatch, tmp_path,
                             ["mnist_cnn_nl", "--student", "jan.peeters", "--student", "ada"])
    assert code == 0
    assert asked == {"students": ["jan.peeters", "ada"], "assignment": "mnist_cnn_nl"}
    code, asked = _graded_as(monkeypatch, tmp_path, [])
    assert asked == {"students": None, "assignment": "mnist_cnn"}


def test_autograde_never_grades_a_student_name_as_an_assignment(monkeypatch, tmp_path, capsys):
    """Is the old shape `course autograde STUDENT` refused with the way to write it now?"""
    code, asked = _graded_as(monkeypatch, tmp_path, ["jan.peeters"])
    assert code == 1 and asked == {}
    said = capsys.readouterr().err
    assert "'jan.peeters' is not an assignment of this course (mnist_cnn, mnist_cnn_nl)" in said
    assert "course autograde mnist_cnn --student jan.peeters" in said


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A course with three submissions, graded by a stand-in for nbgrader that fails bob's,
    and for the workers (nothing is graded for real); what the workers were planned as."""
    from course_lib.teacher import autograde as coordinator
    from course_lib.teacher import leaderboard

    folder = course_with_submissions(tmp_path / "course")
    planned = {}

    grade = stand_in_grader()

    def by_workers(course_dir, the_plan, assignment, extra, progress, cluster=None):
        planned.update(workers=the_plan.workers, students=the_plan.students)
        return [grade(course_dir, s, assignment, extra) for s in the_plan.students]

    monkeypatch.setattr(coordinator, "autograde_one", grade)
    monkeypatch.setattr(coordinator, "_grade_by_workers", by_workers)
    monkeypatch.setattr(leaderboard, "publish", lambda course, assignment: course / "page.html")
    return folder, planned


def settings(folder, *lines):
    """Write ``lines`` into the course's nbgrader_config.py."""
    (folder / "nbgrader_config.py").write_text("c = get_config()\n" + "\n".join(lines) + "\n")


def autograde(folder, *words):
    """`course [WORDS] autograde --unsandboxed` on the stand-in course; its exit code."""
    before = [w for w in words if w in ("-q", "--quiet") or w.startswith("--log-level")]
    after = [w for w in words if w not in before]
    return main([*before, "--course", str(folder), "autograde", "--unsandboxed", *after])


def test_the_courses_workers_setting_plans_the_grading(stand_in, capsys):
    """Is a course whose nbgrader_config.py says c.CourseAutograde.workers = 3 graded by 3
    workers, and does --workers on the command line win over it?"""
    folder, planned = stand_in
    settings(folder, "c.CourseAutograde.workers = 3")
    assert autograde(folder) == 1  # bob's failed
    assert planned == {"workers": 3, "students": ["alice", "bob", "carol"]}
    assert "Grading 3 submission(s) with 3 worker(s)" in capsys.readouterr().out
    settings(folder, "c.CourseAutograde.workers = 3", "c.CourseAutograde.force = True")
    assert autograde(folder, "--workers", "2") == 1
    assert planned["workers"] == 2
    assert "Grading 3 submission(s) with 2 worker(s)" in capsys.readouterr().out


def test_force_comes_from_the_course_unless_the_command_line_says(stand_in, capsys):
    """With c.CourseAutograde.force = True, is everyone graded again, and does --no-force
    skip what was graded and is unchanged?"""
    folder, planned = stand_in
    settings(folder, "c.CourseAutograde.workers = 1")
    autograde(folder)
    capsys.readouterr()
    settings(folder, "c.CourseAutograde.workers = 1", "c.CourseAutograde.force = True")
    autograde(folder)
    assert "Grading 3 submission(s) with 1 worker(s)" in capsys.readouterr().out
    autograde(folder, "--no-force")
    said = capsys.readouterr().out
    assert "Skipping 2 submission(s) graded before and unchanged since (alice, carol)" in said
    assert "Grading 1 submission(s)" in said


@pytest.mark.parametrize("value", ["-2", "'three'", "2.5"])
def test_a_bad_workers_setting_is_refused_with_the_line_to_fix(stand_in, capsys, value):
    """Is c.CourseAutograde.workers = -2 (or a word, or a fraction) refused before grading,
    naming the setting, the file and what it takes?"""
    folder, planned = stand_in
    settings(folder, f"c.CourseAutograde.workers = {value}")
    assert autograde(folder) == 1
    said = capsys.readouterr()
    assert planned == {} and "Grading" not in said.out
    assert said.err.startswith("error: A setting of c.CourseAutograde in ")
    assert f"{folder / 'nbgrader_config.py'} cannot be used: c.CourseAutograde.workers " in said.err
    assert "Fix that line" in said.err


@pytest.mark.parametrize("value", ["-1", "three"])
def test_a_bad_workers_flag_is_refused_before_anything_runs(value, capsys):
    """Is `course autograde --workers -1` refused by the command line, saying what it takes?"""
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["autograde", "--workers", value])
    assert stopped.value.code == 2
    assert f"expected a number of submissions graded at once, 1 or more (or 0: as many as " \
           f"this computer allows), found '{value}'" in capsys.readouterr().err


def test_quiet_hides_the_progress_but_not_the_errors(stand_in, capsys):
    """Does `course -q autograde` print no progress lines, and still say on standard error,
    as an error, which submission was not graded?"""
    folder, _ = stand_in
    settings(folder, "c.CourseAutograde.workers = 1")
    assert autograde(folder) == 1
    loud = capsys.readouterr()
    assert "[2/3] bob: NOT graded" in loud.out and "Graded 2 of 3" in loud.out
    assert "error:" not in loud.err
    assert autograde(folder, "-q", "--force") == 1
    quiet = capsys.readouterr()
    assert quiet.out == ""
    assert quiet.err == "error: Not graded: bob. Run again without --quiet to see why.\n"


def test_a_warning_goes_to_standard_error_with_its_prefix(stand_in, capsys):
    """Is a folder of submitted/ that cannot be a student id warned about on standard
    error, as "warning: ...", also when -q hides the progress?"""
    folder, _ = stand_in
    settings(folder, "c.CourseAutograde.workers = 1")
    (step_folder(folder, "submitted", "*", "mnist_cnn")).mkdir(parents=True)
    for words in ([], ["--quiet"]):
        autograde(folder, *words, "--force")
        said = capsys.readouterr()
        assert said.err.startswith("warning: Not grading '*': ")
        assert "Not grading" not in said.out
    errors = main(["--course", str(folder / "nowhere"), "-q", "release"])
    assert errors == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_debug_shows_where_each_setting_came_from(stand_in, capsys):
    """Does --log-level DEBUG show debug lines, such as where each of autograde's settings
    came from, which the default level does not?"""
    folder, _ = stand_in
    settings(folder, "c.CourseAutograde.workers = 1")
    autograde(folder, "--log-level=DEBUG", "--scheduler", "")
    said = capsys.readouterr()
    assert "debug: autograde: workers = 1 (c.CourseAutograde.workers)\n" in said.err
    assert "debug: autograde: scheduler = '' (given)\n" in said.err
    assert "debug: autograde: force = False (c.CourseAutograde.force)\n" in said.err
    assert "Grading 3 submission(s)" in said.out
    autograde(folder, "--force")
    assert "debug:" not in capsys.readouterr().err


def test_the_library_refuses_a_negative_number_of_workers(stand_in):
    """Is autograde(..., workers=-1) refused before anything is graded, saying what it takes?"""
    from course_lib.teacher import autograde as coordinator

    folder, planned = stand_in
    with pytest.raises(CourseError, match=r"Cannot grade with -1 workers: give 1 or more"):
        coordinator.autograde(folder, workers=-1, unsandboxed=True, report=lambda line: None)
    assert planned == {}


def imported_modules(stderr: str) -> set[str]:
    """The modules a process imported, from what ``PYTHONPROFILEIMPORTTIME`` printed."""
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines()
            if line.startswith("import time:")}


def test_nbgrader_commands_start_without_the_iri_parsers(tmp_path):
    """Does every nbgrader command of the course start without ``rfc3987_syntax`` (over a
    second of Lark parsers built at import, for formats no notebook schema uses), while
    nbformat's validation and nbgrader itself load as before?"""
    import importlib.metadata

    from course_lib.teacher.course import nbgrader

    assert importlib.metadata.version("rfc3987-syntax"), "installed with nbformat's jsonschema"
    (tmp_path / "nbgrader_config.py").write_text("")
    done = nbgrader(tmp_path, "--version", environment={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0 and "nbgrader version" in done.stdout, done.stderr
    imported = imported_modules(done.stderr)
    assert {"nbformat.validator", "jsonschema._format", "nbgrader.apps"} <= imported
    # The name is looked up (and found absent); its parsers and Lark are never loaded.
    assert not {"lark", "rfc3987_syntax.syntax_helpers"} & imported


def test_the_course_command_reads_notebooks_without_the_iri_parsers():
    """Does ``course`` leave the IRI parsers out for the notebooks it reads itself (a
    Moodle download, the leaderboard, the demo), as its nbgrader commands do?"""
    import subprocess
    import sys

    reads_a_notebook = ("from course_lib.teacher.cli import main\n"
                        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
                        "import nbformat\nnbformat.validate(nbformat.v4.new_notebook())\n")
    done = subprocess.run([sys.executable, "-c", reads_a_notebook], capture_output=True,
                          text=True, timeout=120, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    imported = imported_modules(done.stderr)
    assert {"nbformat.validator", "jsonschema._format"} <= imported
    assert not {"lark", "rfc3987_syntax.syntax_helpers"} & imported


def test_nbgrader_commands_load_the_grader_without_picture_libraries(tmp_path):
    """Does an nbgrader command of the course load the grader's preprocessors (own digits
    included, whose pictures it lists) without Pillow and SciPy, which only the checker
    needs to open the pictures (a third of a second of every command's start)?"""
    from helpers.course import new_course

    from course_lib.teacher.course import nbgrader

    course = new_course(tmp_path / "course")
    done = nbgrader(course, "db", "student", "list",
                    environment={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    imported = imported_modules(done.stderr)
    assert {"course_lib.autograder.execute", "course_lib.autograder.own_digits"} <= imported
    assert not {name for name in imported if name.split(".")[0] in {"PIL", "scipy"}}


@pytest.fixture(scope="module")
def alembic_head(tmp_path_factory) -> str:
    """The revision `alembic heads` prints: what nbgrader.api.get_alembic_version asks."""
    import os
    import subprocess
    import sys

    from nbgrader.dbutil import write_alembic_ini

    tmp_path = tmp_path_factory.mktemp("alembic")
    write_alembic_ini(str(tmp_path / "alembic.ini"), "sqlite://")
    heads = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "alembic"), "-c",
         str(tmp_path / "alembic.ini"), "heads"],
        capture_output=True, text=True, check=True, timeout=120)
    [head] = heads.stdout.split()[:1]  # "e43177bfe90b (head)"
    assert len(head) == 12  # an alembic revision id
    return head


@pytest.fixture
def no_alembic(tmp_path, alembic_head):
    """The newest revision, and an environment whose PATH starts with a stand-in `alembic`
    that notes each start and fails."""
    import os

    stand_in = tmp_path / "bin" / "alembic"
    stand_in.parent.mkdir()
    stand_in.write_text(f"#!/bin/sh\necho started >> {tmp_path / 'alembic-started'}\nexit 3\n")
    stand_in.chmod(0o755)
    return {"head": alembic_head, "started": tmp_path / "alembic-started",
            "environment": {**os.environ, "PATH": f"{stand_in.parent}:{os.environ['PATH']}"}}


def recorded_revision(database: Path) -> list[tuple[str]]:
    """The schema revision a SQLite gradebook recorded when it was made."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchall()


def test_a_new_gradebook_gets_nbgraders_schema_version_without_an_alembic_process(
        tmp_path, no_alembic):
    """Does a course's first nbgrader command record the newest revision of nbgrader's
    gradebook schema, the one `alembic heads` prints, without starting `alembic` (over three
    seconds of CPU for every new gradebook, and so for every grading run's scratch one)?"""
    import subprocess
    import sys

    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'mnist'\n")
    # Any command that opens the gradebook makes it; this one does little else.
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.teacher.nbgrader_main", "db", "student", "list"],
        cwd=course, capture_output=True, text=True, timeout=300,
        env=no_alembic["environment"])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert not no_alembic["started"].exists()
    assert recorded_revision(course / "gradebook.db") == [(no_alembic["head"],)]


def test_the_courses_own_processes_make_a_gradebook_without_an_alembic_process(
        tmp_path, no_alembic):
    """Do the course's own processes that open the gradebook (the leaderboard, the returns,
    the grading records) make a new one the same way: the same revision, no `alembic`?"""
    import subprocess
    import sys

    database = tmp_path / "made-here.db"
    done = subprocess.run(
        [sys.executable, "-c", "import sys\n"
         "from course_lib.teacher.nbgrader_main import leave_out_unused_format_checkers\n"
         "leave_out_unused_format_checkers()  # as the course command starts\n"
         "from course_lib.teacher.course import open_gradebook\n"
         "with open_gradebook(sys.argv[1]) as book:\n"
         "    book.add_student('alice')\n", f"sqlite:///{database}"],
        capture_output=True, text=True, timeout=300, env=no_alembic["environment"])
    assert done.returncode == 0, done.stderr[-2000:]
    assert not no_alembic["started"].exists()
    assert recorded_revision(database) == [(no_alembic["head"],)]
