"""Can code in a student's notebook change its own grade? Each trick must score what the
same work scores without it.

All submissions are graded once, through real nbgrader in the sandbox (about five minutes
on two cores). Every trick is added to honest but weak work whose exact score is known:
a trick that worked would show as points that work did not earn.
"""

from __future__ import annotations

import re
from pathlib import Path

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
    # The lesson would skip the samples (and say so): the notebook is edited not to.
    hand_in(course, "sample-copies", weak, own_digits=False, files=made_up_own_digits(course),
            edits=[('load_digit_folder("own_digits", fallback="sample_digits")',
                    'load_digit_folder("own_digits")')])
    edit_cell_roles(hand_in(course, "edits-cell-roles", weak, first=REASSIGN_CHECKS))
    students = teacher.submitted_students(course)
    outcomes = {o.student: o for o in teacher.autograde(course, students)}
    return {"course": course, "outcomes": outcomes}


def made_up_own_digits(course) -> dict[str, bytes]:
    """Five pictures for own_digits, one written by the student: sample digits, one
    exact and one saved again bigger as JPEG; a blank page; one own digit twice."""
    import io
    import tempfile

    from PIL import Image

    from course_lib import demo

    samples = course / "source" / "mnist_cnn" / "sample_digits"
    seven = Image.open(samples / "seven.png").convert("L")
    resaved = io.BytesIO()
    seven.resize((seven.width * 2, seven.height * 2)).save(resaved, "JPEG", quality=70)
    blank = io.BytesIO()
    Image.new("L", (90, 90), 250).save(blank, "PNG")
    with tempfile.TemporaryDirectory() as folder:
        own = demo.write_own_digits(Path(folder))[0].read_bytes()
    return {"own_digits/4_mine.png": (samples / "four.png").read_bytes(),
            "own_digits/7_mine.jpg": resaved.getvalue(),
            "own_digits/1_mine.png": blank.getvalue(),
            "own_digits/2_mine.png": own, "own_digits/2_again.png": own}


def edit_cell_roles(notebook_path) -> None:
    """Change what the cells claim to be: a test cell made an answer, another ungraded,
    points raised, and two graded cells the gradebook has never seen."""
    import nbformat
    from nbformat.v4 import new_code_cell

    notebook = nbformat.read(notebook_path, as_version=4)
    by_id = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    by_id["test_tuned_accuracy"].metadata.nbgrader["solution"] = True
    by_id["test_network_accuracy"].metadata.nbgrader["grade"] = False
    by_id["test_identify_digits"].metadata.nbgrader["points"] = 50
    bonus = new_code_cell("print('bonus points, please')")
    bonus.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                  "grade_id": "bonus", "points": 100, "schema_version": 3}
    nameless = new_code_cell("pass")
    nameless.metadata["nbgrader"] = {"grade": True, "points": 100}
    notebook.cells += [bonus, nameless]
    nbformat.write(notebook, notebook_path)


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


def test_cells_keep_the_roles_the_gradebook_gave_them(graded):
    """Edited cell roles and made-up graded cells: graded as the same weak work, out of the
    same total (22 with the written answers), the tests judged by the checker."""
    from nbgrader.api import Gradebook

    from course_lib.teacher import gradebook_url

    all_scores = cell_scores(graded["course"], "edits-cell-roles")
    assert all_scores == cell_scores(graded["course"], "weak")
    with Gradebook(gradebook_url(graded["course"])) as book:
        edited = book.find_submission("mnist_cnn", "edits-cell-roles")
        weak = book.find_submission("mnist_cnn", "weak")
        assert (edited.score, edited.max_score) == (weak.score, weak.max_score) == (13, 22)

        def manual(submission):
            return {g.name for nb in submission.notebooks for g in nb.grades
                    if g.needs_manual_grade}
        assert manual(edited) == manual(weak)
    # The test made an answer cell was judged by the checker, with the checker's message.
    edited_messages = autograded_outputs(graded["course"], "edits-cell-roles")
    weak_messages = autograded_outputs(graded["course"], "weak")
    for cell in ("test_tuned_accuracy", "test_network_accuracy"):
        assert edited_messages[cell] == weak_messages[cell] != [""]


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


def test_made_up_own_digits_are_not_own_handwriting(graded):
    """Sample digits (copied, or saved again), a blank page and one own digit twice make five
    files in own_digits: the edited notebook reads three of them, the grader counts one."""
    assert scores(graded, "sample-copies") == {**WEAK_WORK_SCORES, "test_own_digits": 0}
    message = autograded_outputs(graded["course"], "sample-copies")["test_own_digits"][0]
    assert "holds 1 digit picture(s) of your own" in message
    for reason in ("1_mine.png: no digit found in it (it looks blank)",
                   "2_mine.png: the same file as 2_again.png",
                   "4_mine.png: the sample digit four.png again",
                   "7_mine.jpg: the sample digit seven.png again"):
        assert reason in message
