"""Can a broken or hostile submission stop or corrupt the grading of the others? It must not."""

from __future__ import annotations

import hashlib
import time

import pytest
from course_fixtures import NOTEBOOK, cell_scores, hand_in_release_with, new_course

from course_lib import teacher
from course_lib.sandbox import sandbox_available

pytestmark = pytest.mark.slow

RIGHT_DIGITS = "digit_4 = int(train_labels[4])\ndigit_100 = int(train_labels[100])\n"
VANDAL = RIGHT_DIGITS + '''
import pathlib, shutil
for target in ["../../../gradebook.db", "../../aaa-honest/mnist_cnn/mnist_cnn.ipynb",
               "../../../release/mnist_cnn/mnist_cnn.ipynb"]:
    try:
        pathlib.Path(target).write_text("vandalised")
    except OSError:
        pass
shutil.rmtree("../../../source", ignore_errors=True)
'''


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    # A short cell time limit, so that the endless loop costs seconds, not ten minutes.
    course = new_course(tmp_path_factory.mktemp("hostile") / "course",
                        extra_config="c.Execute.timeout = 20")
    hand_in_release_with(course, "aaa-honest", {"identify_digits": RIGHT_DIGITS})
    hand_in_release_with(course, "loops-forever",
                         {"identify_digits": RIGHT_DIGITS + "while True:\n    pass\n"})
    broken = course / "submitted" / "broken-json" / "mnist_cnn"
    broken.mkdir(parents=True)
    (broken / NOTEBOOK).write_text('{"cells": [ this is not JSON')
    vandals = []
    if sandbox_available():  # unsandboxed, the vandal would wreck this temporary course
        hand_in_release_with(course, "zz-vandal", {"identify_digits": VANDAL})
        vandals = ["zz-vandal"]

    [honest] = teacher.autograde(course, ["aaa-honest"])
    protected = {path: digest(path) for path in [
        course / "autograded" / "aaa-honest" / "mnist_cnn" / NOTEBOOK,
        course / "release" / "mnist_cnn" / NOTEBOOK,
        course / "source" / "mnist_cnn" / NOTEBOOK,
    ]}
    started = time.perf_counter()
    others = teacher.autograde(course, ["broken-json", "loops-forever", *vandals])
    outcomes = {o.student: o for o in [honest, *others]}
    return {"course": course, "outcomes": outcomes, "protected": protected,
            "seconds": time.perf_counter() - started}


def test_broken_notebook_fails_alone(hostile):
    """Does an unreadable notebook fail its own grading and leave the others graded?"""
    outcomes = hostile["outcomes"]
    assert not outcomes["broken-json"].ok
    assert all(outcome.ok for student, outcome in outcomes.items() if student != "broken-json")
    assert cell_scores(hostile["course"], "aaa-honest")["test_identify_digits"] == 2


def test_endless_loop_is_stopped_and_the_rest_still_graded(hostile):
    """Is a cell that never ends interrupted, with the cells after it still run and scored?"""
    scores = cell_scores(hostile["course"], "loops-forever")
    # The answers were set before the loop; their test runs after the interruption.
    assert scores["test_identify_digits"] == 2
    assert hostile["outcomes"]["loops-forever"].seconds < 120


@pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap (apt install bubblewrap)")
def test_vandal_cannot_touch_gradebook_or_other_students(hostile):
    """In the sandbox, do a submission's writes outside its own folder change nothing?"""
    course = hostile["course"]
    for path, before in hostile["protected"].items():
        assert path.exists() and digest(path) == before, f"{path} was changed"
    assert (course / "source" / "mnist_cnn" / "sample_digits").is_dir()
    # The gradebook still opens and still holds the honest student's grade.
    assert cell_scores(course, "aaa-honest")["test_identify_digits"] == 2
    assert cell_scores(course, "zz-vandal")["test_identify_digits"] == 2
