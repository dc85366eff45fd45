"""Can code in a student's notebook change its own grade? Each trick must score what the
same work scores without it.

All submissions are graded once, through real nbgrader in the sandbox, by two workers (about
ten minutes on two cores). Every trick is added to honest but weak work whose exact score is known:
a trick that worked would show as points that work did not earn.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers.course import cell_scores, new_course
from helpers.submissions import (
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

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import course as teacher
from course_lib.teacher.autograde import autograde

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
from course_lib.lesson.data import load_mnist
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
# Recipes that hide a network trained at home (home.keras) where the grader's retraining
# would pick it up; each is graded next to its honest twin, the same recipe without it.
HOME_WEIGHTS = """home = keras.models.load_model("home.keras")
kernel, bias, dense_kernel, dense_bias = home.get_weights()
Given = keras.initializers.Constant
"""
SMALL_CNN_FROM_HOME = """tuned_model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(8, (3, 3), activation="relu", kernel_initializer=Given(kernel),
                  bias_initializer=Given(bias), trainable=FROZEN),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(10, activation="softmax", kernel_initializer=Given(dense_kernel),
                 bias_initializer=Given(dense_bias), trainable=FROZEN),
])
"""
TUNED_LENGTH = "tuned_epochs = 1\ntuned_batch_size = 64\n"


def recipe_from_home(optimizer: str, frozen: bool = False) -> str:
    """The small CNN, its starting values those of the network trained at home."""
    return (HOME_WEIGHTS + SMALL_CNN_FROM_HOME.replace("FROZEN", str(not frozen))
            + f"tuned_model.compile(optimizer={optimizer}, loss='categorical_crossentropy', "
              "metrics=['accuracy'])\n" + TUNED_LENGTH + PRINT_KERNEL_ACCURACY)


# (student, tuned recipe, twin): twin "weak" is the small CNN with a learning rate a million
# times too small, "short" the small CNN with Adam for one epoch.
HIDDEN_TRAINING = [
    ("weights-in-initialisers",
     recipe_from_home("keras.optimizers.SGD(learning_rate=1e-6)"), "weak"),
    ("frozen-trained-layers", recipe_from_home("'adam'", frozen=True), "short"),
    # Each of the two settings alone leaves the weights where they started.
    ("optimizer-keeps-the-start",
     recipe_from_home("keras.optimizers.Adam(use_ema=True, ema_momentum=1.0, "
                      "gradient_accumulation_steps=10**6)"), "short"),
]
# After the structure check, a network over the parameter budget takes the tuned one's place.
BIG_NETWORK_AFTER_THE_RULES = """tuned_model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
    layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax"),
])
tuned_model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
tuned_epochs = 8
"""
# Heavy but within the parameter budget, one image per batch, for ten epochs: each epoch
# would take minutes; counted, the whole is 8,427 billion multiply-adds, over the budget.
LONG_EPOCH = """tuned_model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    *[layers.Conv2D(32, (3, 3), padding="same", activation="relu") for _ in range(6)],
    layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(10, activation="softmax"),
])
tuned_model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
tuned_epochs = 10
tuned_batch_size = 1
"""
TRAINING_BUDGET = 20  # seconds: c.GradeInSandbox.training_budget_seconds, the safety net
SITECUSTOMIZE = b"import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n"


def home_trained_network() -> bytes:
    """A network 'trained at home' on training and test digits: it has seen the test set."""
    import keras
    from keras import layers

    from course_lib.lesson.data import load_mnist, one_hot, prepare_images

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
    budget = f"c.GradeInSandbox.training_budget_seconds = {TRAINING_BUDGET}"
    course = new_course(tmp_path_factory.mktemp("tricks") / "course",
                        extra_config=f"c.Execute.timeout = 120\n{budget}")
    weak = weak_work(course)
    short = {**weak, "tune_model": HONEST_SHORT}
    hand_in(course, "weak", weak)
    hand_in(course, "wrong", wrong_work())
    hand_in(course, "short", short)
    hand_in(course, "reassigns-checks", weak, first=REASSIGN_CHECKS)
    hand_in(course, "replaces-module", weak, first=REPLACE_MODULE)
    hand_in(course, "fakes-data", weak, after={"tune_model": FAKE_DATA})
    hand_in(course, "trains-on-test", {**weak, "tune_model": TRAIN_ON_TEST_TOO})
    home = home_trained_network()
    hand_in(course, "loads-home-network", {**weak, "tune_model": LOAD_FROM_HOME},
            files={"home.keras": home})
    for student, recipe, _ in HIDDEN_TRAINING:
        hand_in(course, student, {**weak, "tune_model": recipe}, files={"home.keras": home})
    hand_in(course, "switches-networks", weak,
            after={"test_tuned_structure": BIG_NETWORK_AFTER_THE_RULES})
    hand_in(course, "long-epoch", {**weak, "tune_model": LONG_EPOCH})
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
    outcomes = {o.student: o for o in autograde(course, students, workers=2)}
    return {"course": course, "outcomes": outcomes}


def made_up_own_digits(course) -> dict[str, bytes]:
    """Five pictures for own_digits, one written by the student: sample digits, one
    exact and one saved again bigger as JPEG; a blank page; one own digit twice."""
    import io
    import tempfile

    from PIL import Image

    from course_lib.teacher import demo

    samples = course / "source" / "mnist_cnn" / "sample_digits"
    seven = Image.open(samples / "seven.png").convert("L")
    resaved = io.BytesIO()
    seven.resize((seven.width * 2, seven.height * 2)).save(resaved, "JPEG", quality=70)
    blank = io.BytesIO()
    Image.new("L", (90, 90), 250).save(blank, "PNG")
    with tempfile.TemporaryDirectory() as folder:
        own = demo.write_own_digits(Path(folder))[0].read_bytes()
    changed = np.asarray(Image.open(io.BytesIO(own)).convert("L")).copy()
    changed[2, 2] = 255 - changed[2, 2]
    near_copy = io.BytesIO()
    Image.fromarray(changed).save(near_copy, "PNG")
    return {"own_digits/4_mine.png": (samples / "four.png").read_bytes(),
            "own_digits/7_mine.jpg": resaved.getvalue(),
            "own_digits/1_mine.png": blank.getvalue(),
            "own_digits/2_mine.png": own, "own_digits/2_again.png": own,
            "own_digits/3_changed.png": near_copy.getvalue()}


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

    from course_lib.teacher.course import gradebook_url

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
    """Sample digits (copied, or saved again), a blank page and one own digit three times
    (once with a pixel changed) make six files in own_digits: the grader counts one."""
    assert scores(graded, "sample-copies") == {**WEAK_WORK_SCORES, "test_own_digits": 0}
    message = autograded_outputs(graded["course"], "sample-copies")["test_own_digits"][0]
    assert "holds 1 digit picture(s) of your own" in message
    for reason in ("1_mine.png: no digit found in it (it looks blank)",
                   "2_mine.png: the same file as 2_again.png",
                   "3_changed.png: the same picture as 2_again.png, slightly changed",
                   "4_mine.png: the sample digit four.png again",
                   "7_mine.jpg: the sample digit seven.png again"):
        assert reason in message


@pytest.mark.parametrize("student, twin", [(student, twin)
                                           for student, _, twin in HIDDEN_TRAINING])
def test_training_hidden_in_the_recipe_earns_nothing(graded, student, twin):
    """Trained values in the initialisers, frozen layers, an optimizer that keeps or
    returns to the start: in the kernel the network passes; graded, it scores exactly what
    the same recipe scores without the trick, and the message names what was reset."""
    assert kernel_accuracy(graded, student) >= 0.94
    assert scores(graded, student) == scores(graded, twin)
    assert scores(graded, student)["test_tuned_accuracy"] == 0
    message = autograded_outputs(graded["course"], student)["test_tuned_accuracy"][0]
    assert "The grader used Keras' defaults for what a recipe does not contain" in message
    assert "kernel_initializer" in message


def test_the_rules_and_the_accuracy_judge_the_same_network(graded):
    """A network over the budget after the structure check earns no accuracy points."""
    assert scores(graded, "switches-networks") == scores(graded, "weak")
    message = autograded_outputs(graded["course"], "switches-networks")["test_tuned_accuracy"]
    assert "more than the budget of 500,000" in message[0]
    assert "earns no accuracy points either" in message[0]


def test_a_long_epoch_ends_within_the_training_budget(graded):
    """Batch size 1 on a heavy network: is it refused by its count before any training, so
    that its grading takes no longer than the weak work's plus the safety net?"""
    from course_lib.autograder.retrain import HARD_MARGIN_SECONDS

    assert scores(graded, "long-epoch") == scores(graded, "weak")
    message = autograded_outputs(graded["course"], "long-epoch")["test_tuned_accuracy"][0]
    assert message.startswith("Training your recipe costs 8,427 billion multiply-adds (10 "
                              "epoch(s) of 3,500 training images in batches of 1), more than "
                              "the budget of 2,400 billion"), message
    assert "a larger tuned_batch_size" in message
    extra = graded["outcomes"]["long-epoch"].seconds - graded["outcomes"]["weak"].seconds
    assert extra < TRAINING_BUDGET + HARD_MARGIN_SECONDS, extra
