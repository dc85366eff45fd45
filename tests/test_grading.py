"""Do the grading checks accept right answers and explain wrong ones in plain words?"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import grading

ASSESSMENT = {
    "test_accuracy": 0.886,
    "test_size": 1000,
    "source": "sample",
    "asked_predictions": {"4": np.eye(10)[4].tolist(), "100": (np.eye(10)[3] * 0.6 + 0.04)
                          .tolist()},
    "output_shape": [None, 10],
    "architecture": {"input_shape": [28, 28, 1], "parameters": 34826, "optimizer": "Adam",
                     "loss": "categorical_crossentropy",
                     "layers": [{"type": "Conv2D"}, {"type": "Flatten"},
                                {"type": "Dense", "units": 10, "activation": "softmax"}]},
}
HISTORY = {"accuracy": [0.5, 0.925]}


@pytest.mark.parametrize("name, value, message", [
    ("digit_4", "7", "whole number from 0 to 9"),
    ("digit_4", 12, "digit from 0 to 9, but it is 12"),
    ("digit_4", True, "whole number"),
])
def test_expect_digit(name, value, message):
    """Are strings, booleans and numbers outside 0-9 refused with a hint?"""
    with pytest.raises(AssertionError, match=message):
        grading.expect_digit(name, value)


def test_expect_fraction_hints_at_percentages():
    """Does 93 (a percentage) get the hint to write 0.93?"""
    with pytest.raises(AssertionError, match="93% is 0.93"):
        grading.expect_fraction("probability_4", 93)
    assert grading.expect_fraction("probability_4", np.float32(0.5)) == 0.5


def test_interpretation_right_and_wrong(monkeypatch):
    """Are right answers accepted, and a wrong 'correct' verdict explained?"""
    monkeypatch.setattr(grading, "fresh_training_labels", lambda indices: [4, 5])
    grading.check_interpretation(ASSESSMENT, {4: (4, 1.0, True), 100: (3, 0.64, False)})
    with pytest.raises(AssertionError, match="correct_100 should be False"):
        grading.check_interpretation(ASSESSMENT, {4: (4, 1.0, True), 100: (3, 0.64, True)})
    with pytest.raises(AssertionError, match="finds 3 most likely, not 5"):
        grading.check_interpretation(ASSESSMENT, {4: (4, 1.0, True), 100: (5, 0.64, False)})
    with pytest.raises(AssertionError, match="probability of 3 is 0.64, not 0.90"):
        grading.check_interpretation(ASSESSMENT, {4: (4, 1.0, True), 100: (3, 0.9, False)})


def test_accuracy_comparison():
    """Are consistent answers accepted and each inconsistency named?"""
    grading.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.886, 0.039, True)
    with pytest.raises(AssertionError, match="your model's test accuracy is 0.886, not 0.950"):
        grading.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.95, -0.025, True)
    with pytest.raises(AssertionError, match="says generalises_well = True"):
        grading.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.886, 0.039, False)
    with pytest.raises(AssertionError, match="`accuracy_gap` should be a number"):
        grading.check_accuracy_comparison(ASSESSMENT, HISTORY, 0.925, 0.886, "small", True)


def test_accuracy_thresholds_follow_the_data():
    """Does the lesson's network pass 0.80 on the sample, and the tuned one fail 0.94?"""
    grading.check_accuracy(ASSESSMENT, "reference")
    with pytest.raises(AssertionError, match="needs at least 0.94 on the sample data"):
        grading.check_accuracy(ASSESSMENT, "tuned")


def test_tuned_structure_rules():
    """Is a CNN within budget accepted, and a dense-only giant refused with both reasons?"""
    grading.check_tuned_structure(ASSESSMENT)
    dense = {**ASSESSMENT, "architecture": {**ASSESSMENT["architecture"], "parameters": 900_000,
                                            "layers": [{"type": "Flatten"}, {
                                                "type": "Dense", "activation": "softmax"}]}}
    with pytest.raises(AssertionError, match="no Conv2D layer.*900,000 parameters"):
        grading.check_tuned_structure(dense)


def test_own_digits_checks():
    """Are wrong shapes, ranges and predictions explained?"""
    images = np.zeros((3, 28, 28, 1))
    predictions = np.full((3, 10), 0.1)
    grading.check_own_digits(images, predictions, predictions.argmax(axis=1))
    with pytest.raises(AssertionError, match=r"shape \(n, 28, 28, 1\)"):
        grading.check_own_digits(np.zeros((3, 28, 28)), predictions, [0, 0, 0])
    with pytest.raises(AssertionError, match="between 0 and 1"):
        grading.check_own_digits(images + 255, predictions, [0, 0, 0])
    with pytest.raises(AssertionError, match="argmax"):
        grading.check_own_digits(images, predictions, [1, 1, 1])


def test_the_ready_made_network_is_not_an_answer():
    """Calling the course's own builder is not building the network: the check says why."""
    from course_lib.training import build_reference_cnn

    with pytest.raises(AssertionError, match="ready-made network"):
        grading.check_architecture(build_reference_cnn())
