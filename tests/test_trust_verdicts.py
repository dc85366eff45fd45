"""Can code in a student's notebook change its own grade? Each trick must score what the
same work scores without it.

All submissions are graded once, through real nbgrader in the sandbox (about five minutes
on two cores). Every trick is added to honest but weak work whose exact score is known:
a trick that worked would show as points that work did not earn.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from course_fixtures import cell_scores, new_course
from submissions import (
    FIT_HONESTLY,
    PRINT_KERNEL_ACCURACY,
    SHORT_RECIPE,
    SMALL_CNN,
    WEAK_WORK_SCORES,
    autograded_outputs,
    hand_in,
    printed_text,
    weak_work,
    wrong_work,
)

from course_lib import teacher
from course_lib.sandbox import sandbox_available

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")]

REASSIGN_CHECKS = """import course_lib.grading as grading
for name in ["check_accuracy", "check_tuned_structure", "check_tuned_accuracy",
             "check_interpretation", "check_identified_digits", "assess"]:
    setattr(grading, name, lambda *args, **kwargs: {"test_accuracy": 1.0})
"""
REPLACE_MODULE = """import sys, types
fake = types.ModuleType("course_lib.grading")
fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)
sys.modules["course_lib.grading"] = fake
"""
FAKE_DATA = """import os
from course_lib.data import load_mnist
(train_x, train_y), (test_x, test_y), _ = load_mnist(quiet=True)
said = tuned_model.predict(prepare_images(test_x), verbose=0).argmax(axis=1)
np.savez("fake_mnist.npz", x_train=train_x, y_train=train_y, x_test=test_x,
         y_test=said.astype("uint8"))
os.environ["COURSE_MNIST_PATH"] = os.path.abspath("fake_mnist.npz")
"""
TRAIN_ON_TEST_TOO = SHORT_RECIPE + """tuned_model.fit(np.concatenate([x_train, x_test]),
                np.concatenate([y_train, y_test]), epochs=15, batch_size=64, verbose=0)
""" + PRINT_KERNEL_ACCURACY
HONEST_SHORT = SHORT_RECIPE + FIT_HONESTLY + PRINT_KERNEL_ACCURACY
LOAD_FROM_HOME = """tuned_model = keras.models.load_model("home.keras")
tuned_epochs = 1
tuned_batch_size = 64
""" + PRINT_KERNEL_ACCURACY
SWALLOW_ERRORS = """get_ipython().set_custom_exc(
    (BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)
"""
ZERO_PASS_MARKS = """
import dataclasses
profile = dataclasses.replace(profile, reference_threshold=0.0, tuned_threshold=0.0)
"""
LAMBDA_IN_NETWORK = SMALL_CNN.replace(
    'layers.Flatten(),',
    'layers.Flatten(),\n    layers.Lambda(lambda x: x * 1.0),') + """tuned_model.compile(
    optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
tuned_epochs = 1
tuned_batch_size = 64
"""
FAKE_HANDOVER = """from IPython.display import publish_display_data
publish_display_data({"application/vnd.mnist-course.handover+json": {
    "values": {"tuned_epochs": {"kind": "json", "data": 15},
               "tuned_batch_size": {"kind": "json", "data": 64},
               "test_result": {"kind": "json", "data": 1.0}},
    "missing": [], "refused": {}}})
"""
FAKE_COURSE_LIB = b'''
def __getattr__(name):
    return lambda *args, **kwargs: None
'''
SITECUSTOMIZE = b"import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n"


def home_trained_network() -> bytes:
    """A network 'trained at home' on training and test digits: it has seen the test set."""
    import keras
    from keras import layers

    from course_lib.data import load_mnist, one_hot, prepare_images

    (train_x, train_y), (test_x, test_y), _ = load_mnist(quiet=True)
    images = prepare_images(np.concatenate([train_x, test_x]))
    labels = one_hot(np.concatenate([train_y, test_y]))
    keras.utils.set_random_seed(7)
    network = keras.Sequential([
        keras.Input(shape=(28, 28, 1)), layers.Conv2D(8, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax")])
    network.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    network.fit(images, labels, epochs=15, batch_size=64, verbose=0)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "home.keras"
        network.save(path)
        return path.read_bytes()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("tricks") / "course",
                        extra_config="c.Execute.timeout = 120")
    weak = weak_work(course)
    short = {**weak, "tune_model": HONEST_SHORT}
    hand_in(course, "weak", weak)
    hand_in(course, "wrong", wrong_work())
    hand_in(course, "short", short)
    hand_in(course, "reassigns-checks", weak, first=REASSIGN_CHECKS)
    hand_in(course, "replaces-module", weak, first=REPLACE_MODULE)
    hand_in(course, "fakes-data", weak, after={"tune_model": FAKE_DATA})
    hand_in(course, "trains-on-test", {**weak, "tune_model": TRAIN_ON_TEST_TOO})
    hand_in(course, "loads-home-network", {**weak, "tune_model": LOAD_FROM_HOME},
            files={"home.keras": home_trained_network()})
    hand_in(course, "swallows-errors", wrong_work(), first=SWALLOW_ERRORS)
    hand_in(course, "zero-pass-marks", weak, edits=[("profile = profile_for(source)",
                                                     "profile = profile_for(source)"
                                                     + ZERO_PASS_MARKS)])
    hand_in(course, "lies-about-accuracy", weak,
            before={"test_network_accuracy": "real_result, test_result = test_result, 0.99\n"},
            after={"test_network_accuracy": "test_result = real_result\n"})
    hand_in(course, "lambda-layer", {**weak, "tune_model": LAMBDA_IN_NETWORK})
    hand_in(course, "fake-course-lib", weak, files={
        "course_lib/__init__.py": b"", "course_lib/grading.py": FAKE_COURSE_LIB,
        "sitecustomize.py": SITECUSTOMIZE})
    hand_in(course, "fakes-handover", weak, after={"tune_model": FAKE_HANDOVER})
    samples = {"4": "four.png", "7": "seven.png", "2": "two.dat"}
    sample_folder = course / "source" / "mnist_cnn" / "sample_digits"
    hand_in(course, "sample-copies", weak, own_digits=False, files={
        f"own_digits/{digit}_mine{name[-4:]}": (sample_folder / name).read_bytes()
        for digit, name in samples.items()})
    students = teacher.submitted_students(course)
    outcomes = {o.student: o for o in teacher.autograde(course, students)}
    return {"course": course, "outcomes": outcomes}


def scores(graded, student):
    assert graded["outcomes"][student].ok, graded["outcomes"][student].message
    found = cell_scores(graded["course"], student)
    return {cell: found[cell] for cell in WEAK_WORK_SCORES}


def kernel_accuracy(graded, student) -> float:
    text = printed_text(graded["course"], student)
    return float(re.search(r"kernel-side tuned accuracy: ([0-9.]+)", text).group(1))


def test_controls_score_what_their_work_earns(graded):
    """The controls: weak work 13 exactly, wrong work 0, the short recipe misses the mark."""
    assert scores(graded, "weak") == WEAK_WORK_SCORES
    assert sum(scores(graded, "weak").values()) == 13
    assert set(scores(graded, "wrong").values()) == {0}
    assert scores(graded, "short") == WEAK_WORK_SCORES


@pytest.mark.parametrize("student", [
    "reassigns-checks", "replaces-module", "fakes-data", "zero-pass-marks",
    "lies-about-accuracy", "fake-course-lib", "fakes-handover",
])
def test_trick_on_weak_work_earns_nothing(graded, student):
    """Does the trick leave the weak work's score exactly as it was?"""
    assert scores(graded, student) == scores(graded, "weak")


def test_swallowing_errors_earns_nothing(graded):
    """Errors hidden from the kernel's own reports: wrong answers still score zero."""
    assert scores(graded, "swallows-errors") == scores(graded, "wrong")
    assert set(scores(graded, "swallows-errors").values()) == {0}


def test_training_on_test_images_earns_nothing(graded):
    """In the kernel the trick reaches the pass mark; graded, it scores as the honest recipe."""
    assert kernel_accuracy(graded, "trains-on-test") >= 0.94
    assert kernel_accuracy(graded, "short") < 0.94
    assert scores(graded, "trains-on-test") == scores(graded, "short")


def test_network_trained_at_home_earns_nothing(graded):
    """A network loaded from a file (trained on the test set) is graded by its recipe."""
    assert kernel_accuracy(graded, "loads-home-network") >= 0.94
    assert scores(graded, "loads-home-network") == scores(graded, "short")
    messages = autograded_outputs(graded["course"], "loads-home-network")
    assert "needs at least 0.94" in messages["test_tuned_accuracy"][0]


def test_code_inside_the_network_never_runs_in_the_checker(graded):
    """A Lambda layer is code: the checker refuses to load it, and says so."""
    expected = {**WEAK_WORK_SCORES, "test_tuned_structure": 0}
    assert scores(graded, "lambda-layer") == expected
    message = autograded_outputs(graded["course"], "lambda-layer")["test_tuned_structure"][0]
    assert "`tuned_model` could not be read by the grader" in message


def test_wrong_answers_get_plain_messages(graded):
    """The verdicts of wrong work say what is wrong, cell by cell."""
    messages = autograded_outputs(graded["course"], "wrong")
    assert "example 4 shows a" in messages["test_identify_digits"][0]
    assert "`tuned_epochs` should be a whole number" in messages["test_tuned_accuracy"][0]
    unanswered = autograded_outputs(graded["course"], "weak")
    assert unanswered["test_network_accuracy"][0].startswith("Your network classifies")


def test_copies_of_the_sample_digits_are_not_own_handwriting(graded):
    """The sample digits renamed into own_digits: the notebook is fooled, the grader is not."""
    assert scores(graded, "sample-copies") == {**WEAK_WORK_SCORES, "test_own_digits": 0}
    message = autograded_outputs(graded["course"], "sample-copies")["test_own_digits"][0]
    assert "copies of the sample digits do not count" in message
