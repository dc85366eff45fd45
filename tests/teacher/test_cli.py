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
