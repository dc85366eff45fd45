"""Do the hidden checks judge what the grader measured, and explain it in plain words?"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_lib.autograder import checks
from course_lib.autograder.checks import Assessment

ASSESSMENT = Assessment(
    test_accuracy=0.886, test_size=1000, source="sample", output_units=10,
    asked_predictions={4: np.eye(10)[4].tolist(), 100: (np.eye(10)[3] * 0.6 + 0.04).tolist()},
    architecture={"input_shape": [28, 28, 1], "parameters": 34826, "optimizer": "Adam",
                  "loss": "categorical_crossentropy",
                  "layers": [{"type": "Conv2D"}, {"type": "Flatten"},
                             {"type": "Dense", "units": 10, "activation": "softmax"}]},
)
HISTORY = {"accuracy": [0.5, 0.925]}


READ = {4: 4, 100: 5}  # the digits the student read in the two pictures


def test_interpretation_right_and_wrong():
    """Are right answers accepted, and a wrong 'correct' verdict explained?"""
    checks.check_interpretation(ASSESSMENT, READ, {4: (4, 1.0, True), 100: (3, 0.64, False)})
    with pytest.raises(AssertionError, match="correct_100 should say whether"):
        checks.check_interpretation(ASSESSMENT, READ,
                                     {4: (4, 1.0, True), 100: (3, 0.64, True)})
    with pytest.raises(AssertionError, match="finds 3 most likely, not 5"):
        checks.check_interpretation(ASSESSMENT, READ,
                                     {4: (4, 1.0, True), 100: (5, 0.64, False)})
    with pytest.raises(AssertionError, match="probability of 3 is 0.64, not 0.90"):
        checks.check_interpretation(ASSESSMENT, READ,
                                     {4: (4, 1.0, True), 100: (3, 0.9, False)})


def test_the_lesson_examples_are_the_same_whatever_the_data(isolated_data, tmp_path,
                                                            monkeypatch):
    """A grader with other data (a full MNIST) asks about the same two pictures, with the
    same true digits: an answer typed on the sample holds there, and the other way round."""
    from helpers.mnist import tiny_mnist, write_npz

    from course_lib.lesson.data import lesson_examples, load_mnist

    on_sample = lesson_examples(), checks.lesson_example_labels()
    assert load_mnist(quiet=True)[2].kind == "sample"
    monkeypatch.setenv("COURSE_MNIST_PATH", str(write_npz(tmp_path / "mnist.npz",
                                                          tiny_mnist(6000, 100))))
    assert load_mnist(quiet=True)[2].kind == "full"
    np.testing.assert_array_equal(lesson_examples(), on_sample[0])
    assert checks.lesson_example_labels() == on_sample[1]
    checks.check_identified_digits(on_sample[1][4], on_sample[1][100])


def test_accuracy_comparison():
    """Are consistent answers accepted and each inconsistency named?"""
    checks.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.886, 0.039, True)
    with pytest.raises(AssertionError, match="your model's test accuracy is 0.886, not 0.950"):
        checks.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.95, -0.025, True)
    with pytest.raises(AssertionError, match="says generalises_well = True"):
        checks.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.886, 0.039, False)
    with pytest.raises(AssertionError, match="`accuracy_gap` should be a number"):
        checks.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.886, "small", True)


def test_accuracy_thresholds_follow_the_data():
    """Does the lesson's network pass 0.80 on the sample, and the tuned one fail 0.94?"""
    checks.check_accuracy(ASSESSMENT, "reference")
    with pytest.raises(AssertionError, match="needs at least 0.94 on the MNIST sample"):
        checks.check_accuracy(ASSESSMENT, "tuned")


def test_tuned_structure_rules():
    """Is a CNN within budget accepted, and a dense-only giant refused with both reasons?"""
    checks.check_tuned_structure(ASSESSMENT)
    dense = dataclasses.replace(ASSESSMENT, architecture={
        **ASSESSMENT.architecture, "parameters": 900_000,
        "layers": [{"type": "Flatten"}, {"type": "Dense", "activation": "softmax"}]})
    with pytest.raises(AssertionError, match="no Conv2D layer.*900,000 parameters"):
        checks.check_tuned_structure(dense)




def test_handed_in_own_digits_are_counted_by_the_grader():
    """Fewer than three counted pictures: the check says how many, and why not the others."""
    with pytest.raises(AssertionError, match=r"holds 2 digit picture.*not counted: "
                                             r"3\.png: the same file as 1\.png\)"):
        checks.check_handed_in_own_digits({"1.png": None, "2.png": None,
                                           "3.png": "the same file as 1.png"})
    checks.check_handed_in_own_digits({"1.png": None, "2.png": None, "3.png": None})
