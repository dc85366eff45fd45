"""Does the checker turn each test cell, with the values handed over, into a fair verdict,
and stop a training that outlasts its safety net of time?"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.autograder import checker, own_digits
from course_lib.autograder.handover import (
    PROVIDED_BY_CHECKER,
    CellToCheck,
    CheckRequest,
    HandedOver,
    HandedValue,
)

BASE = {"np": np, "__builtins__": __builtins__}
TEST = '"""Is x three?"""\nassert x == 3, f"x should be 3, but it is {x}"\n'


def checked(tmp_path: Path, handed_over: HandedOver, source: str = TEST):
    """Write a one-cell request as the grader does, read it back, run the cell."""
    CheckRequest([CellToCheck("test_x", source, handed_over)]).write(tmp_path)
    [cell] = CheckRequest.read(tmp_path).cells
    return checker.run_cell(cell, tmp_path, BASE)


def test_a_right_answer_passes_and_a_wrong_one_fails_with_the_cells_message(tmp_path):
    assert checked(tmp_path, HandedOver({"x": HandedValue("json", 3)})).passed
    verdict = checked(tmp_path, HandedOver({"x": HandedValue("json", 4)}))
    assert (verdict.passed, verdict.ename, verdict.message) == (
        False, "AssertionError", "x should be 3, but it is 4")


@pytest.mark.parametrize("handed_over, ename, message", [
    (HandedOver(missing=["x"]), "NameError", "You have not defined `x` yet"),
    (HandedOver(refused={"x": "it is a function"}), "TypeError",
     "`x` could not be handed to the grader: it is a function."),
    (HandedOver(problem="the Python kernel died in cell 7"), "NotChecked",
     "The notebook stopped running before this check: the Python kernel died in cell 7"),
    (HandedOver({"x": HandedValue("npy", base64.b64encode(b"not an array").decode())}),
     "TypeError", "`x` could not be read by the grader"),
])
def test_what_could_not_be_handed_over_is_said_plainly(tmp_path, handed_over, ename, message):
    verdict = checked(tmp_path, handed_over)
    assert not verdict.passed and verdict.ename == ename and message in verdict.message


def test_arrays_arrive_as_arrays(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.full((2, 2), 3))
    data = base64.b64encode(buffer.getvalue()).decode()
    assert checked(tmp_path, HandedOver({"x": HandedValue("npy", data)}),
                   "assert x.shape == (2, 2) and (x == 3).all()").passed


def test_a_network_saved_again_for_the_next_cell_is_loaded_once(tmp_path):
    """Keras stamps every save with its time: is the same network, saved for two test
    cells, still loaded once, while other weights, or a file that is no network, are not
    taken for it?"""
    import keras
    from keras import layers

    network = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    first, again, changed = (tmp_path / name for name in ("a.keras", "b.keras", "c.keras"))
    network.save(first)
    time.sleep(1.1)  # the stamp counts seconds
    network.save(again)
    assert first.read_bytes() != again.read_bytes()
    network.layers[0].kernel.assign(network.layers[0].kernel + 1.0)
    network.save(changed)
    assert checker.network_key(first) == checker.network_key(again)
    assert checker.network_key(changed) != checker.network_key(first)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(first.read_bytes()[:100])
    assert checker.network_key(broken).startswith("bytes:")

    checker._loaded.clear()
    loaded = [checker._load_once(HandedValue("keras", file=path.name), tmp_path)
              for path in (first, again, changed)]
    assert loaded[0] is loaded[1] and loaded[2] is not loaded[0]
    checker._loaded.clear()


@pytest.mark.slow
def test_the_checker_defines_exactly_the_names_it_promises(isolated_data):
    """What the handover never asks the kernel for is what the checker provides."""
    namespace = checker.checker_namespace()
    assert set(namespace) - {"__builtins__"} == PROVIDED_BY_CHECKER


@pytest.mark.slow
def test_a_batch_longer_than_the_budget_is_given_up_on(tmp_path):
    """One batch of a heavy network (within the counted budget: 1,558 billion multiply-adds)
    outlasts the whole safety net of time: does the checker answer within the safety net and
    the margin after "go", say how far training got and that the submission is not graded,
    and end?"""
    import keras
    from keras import layers

    from course_lib.autograder.retrain import HARD_MARGIN_SECONDS

    heavy = keras.Sequential([
        keras.Input((28, 28, 1)),
        *[layers.Conv2D(64, 3, padding="same", activation="relu") for _ in range(6)],
        layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")])
    heavy.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    heavy.save(tmp_path / "heavy.keras")
    network = base64.b64encode((tmp_path / "heavy.keras").read_bytes()).decode()
    request = tmp_path / "request"
    budget = 2
    CheckRequest([CellToCheck(
        "test_tuned_accuracy",
        "from course_lib.autograder.checks import check_tuned_accuracy\n"
        "check_tuned_accuracy(tuned_model, tuned_epochs, tuned_batch_size)\n",
        HandedOver({"tuned_model": HandedValue("keras", network),
                    "tuned_epochs": HandedValue("json", 1),
                    "tuned_batch_size": HandedValue("json", 4096)}))], budget).write(request)
    (tmp_path / "submission").mkdir()
    own_digits.gather(tmp_path / "submission", request / checker.OWN_DIGITS)
    process = subprocess.Popen([sys.executable, "-I", "-m", checker.MODULE, str(request)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(15)  # the checker loads TensorFlow and the data before "go"
    started = time.perf_counter()
    out, _ = process.communicate("go\n", timeout=120)
    took = time.perf_counter() - started
    [verdict] = __import__("json").loads(out.strip().splitlines()[-1])
    assert "stopped after 0% of epoch 1 of 1" in verdict["message"], verdict
    assert verdict["ename"] == "GradingStopped", verdict
    assert took < budget + HARD_MARGIN_SECONDS + 5, took


@pytest.mark.slow
def test_the_checker_loads_keras_without_scikit_learn_or_pandas(tmp_path):
    """Installed (mlxtend brings them) but used by no check: are scikit-learn and pandas left
    out of the checker, which still loads Keras and its own data?"""
    from course_lib.autograder.limits import Limits

    probe = ("import sys\n"
             "assert 'keras' in sys.modules and profile.name, 'Keras or the data is missing'\n"
             "loaded = [name for name in ('sklearn', 'pandas') if sys.modules.get(name)]\n"
             "assert not loaded, f'the checker loaded {loaded}'\n")
    (tmp_path / "submission").mkdir()
    [verdict] = checker.Checker(sandboxed=False, limits=Limits()).check(
        [CellToCheck("test_modules", probe, HandedOver({}))], tmp_path / "submission")
    assert verdict.passed, verdict.message
    import importlib.util

    assert importlib.util.find_spec("sklearn") and importlib.util.find_spec("pandas")


def test_tensorflows_number_types_load_in_a_fraction_of_a_second():
    """ml_dtypes, TensorFlow's and Keras' number types, loads in every student kernel and
    every checker, so twice per submission graded. Version 0.7.0 spends over a second of
    CPU building its types as it loads (0.6.0 about a hundredth): does the installed one
    load quickly (the best of three starts)?"""
    probe = ("import time, numpy\n"
             "started = time.process_time()\n"
             "import ml_dtypes\n"
             "print(time.process_time() - started, ml_dtypes.__version__)\n")
    starts = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                             check=True).stdout.split() for _ in range(3)]
    seconds, version = min((float(took), version) for took, version in starts)
    assert seconds < 0.3, (f"ml_dtypes {version} took {seconds:.2f} s of CPU to load; "
                           "pyproject.toml keeps it below 0.7, whose start is that slow: "
                           "reinstall the course (pip install -e .)")


def test_the_wait_for_the_checker_follows_the_training_budget():
    """Does the grader wait at least 30 minutes, always 10 minutes past the training budget
    (so a raised budget is never cut short by the wait), or what the teacher set?"""
    assert checker.checking_timeout() == 30 * 60
    assert checker.checking_timeout(training_budget_seconds=3600) == 3600 + 600
    assert checker.checking_timeout(training_budget_seconds=3600, configured=90) == 90


def test_a_checker_that_outlasts_the_wait_leaves_the_submission_not_graded(tmp_path):
    """When the checking process does not answer in time (a slow or busy grading
    computer), is every cell's verdict "not graded" (GradingStopped), never a failed check
    worth 0, and does the grading of the submission stop with that reason?"""
    from course_lib.autograder.limits import Limits
    from course_lib.autograder.retrain import GradingStopped, raise_if_stopped

    slow = checker.Checker(sandboxed=False, limits=Limits(), timeout_seconds=0.5)
    (tmp_path / "submission").mkdir()
    cells = [CellToCheck(grade_id, TEST, HandedOver({"x": HandedValue("json", 3)}))
             for grade_id in ("test_x", "test_y")]
    started = time.perf_counter()
    verdicts = slow.check(cells, tmp_path / "submission")
    assert time.perf_counter() - started < 30
    assert [(v.grade_id, v.passed, v.ename) for v in verdicts] == [
        ("test_x", False, "GradingStopped"), ("test_y", False, "GradingStopped")]
    assert "the submission is not graded" in verdicts[0].message
    assert "c.GradeInSandbox.checking_timeout_seconds" in verdicts[0].message
    with pytest.raises(GradingStopped, match="test_x: .*not graded"):
        raise_if_stopped(verdicts)
