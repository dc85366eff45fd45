"""Does the `course data` command prepare an offline classroom, and explain bad copies?"""

from __future__ import annotations

import numpy as np
from helpers.mnist import tiny_mnist, write_idx_folder

from course_lib.lesson.data import load_mnist
from course_lib.teacher.cli import main


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
