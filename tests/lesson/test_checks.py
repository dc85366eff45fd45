"""Do the notebook's own checks accept right answers and explain wrong ones in plain words?"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.lesson import checks

HISTORY = {"accuracy": [0.5, 0.925]}


READ = {4: 4, 100: 5}  # the digits the student read in the two pictures


PREDICTIONS = np.array([np.eye(10)[4] * 0.9 + 0.01, np.eye(10)[3] * 0.6 + 0.04])


@pytest.mark.parametrize("name, value, message", [
    ("digit_4", "7", "whole number from 0 to 9"),
    ("digit_4", 12, "digit from 0 to 9, but it is 12"),
    ("digit_4", True, "whole number"),
])
def test_expect_digit(name, value, message):
    """Are strings, booleans and numbers outside 0-9 refused with a hint?"""
    with pytest.raises(AssertionError, match=message):
        checks.expect_digit(name, value)


def test_expect_fraction_hints_at_percentages():
    """Does 93 (a percentage) get the hint to write 0.93?"""
    with pytest.raises(AssertionError, match="93% is 0.93"):
        checks.expect_fraction("probability_4", 93)
    assert checks.expect_fraction("probability_4", np.float32(0.5)) == 0.5


def test_own_digits_checks():
    """Are wrong shapes, ranges and predictions explained?"""
    images = np.zeros((3, 28, 28, 1))
    predictions = np.full((3, 10), 0.1)
    checks.check_own_digits(images, predictions, predictions.argmax(axis=1))
    with pytest.raises(AssertionError, match=r"shape \(n, 28, 28, 1\)"):
        checks.check_own_digits(np.zeros((3, 28, 28)), predictions, [0, 0, 0])
    with pytest.raises(AssertionError, match="between 0 and 1"):
        checks.check_own_digits(images + 255, predictions, [0, 0, 0])
    with pytest.raises(AssertionError, match="argmax"):
        checks.check_own_digits(images, predictions, [1, 1, 1])


def test_the_ready_made_network_is_not_an_answer():
    """Calling the course's own builder is not building the network: the check says why."""
    from course_lib.teacher.training import build_reference_cnn

    with pytest.raises(AssertionError, match="ready-made network"):
        checks.check_architecture(build_reference_cnn())


def test_require_names_what_is_missing():
    """An unanswered cell gives "you have not defined" instead of a bare NameError."""
    with pytest.raises(AssertionError, match="You have not defined `digit_100` yet"):
        checks.require({"digit_4": 3}, "digit_4", "digit_100")
    checks.require({"digit_4": 3}, "digit_4")


def test_quick_interpretation_check_accepts_right_answers():
    """Answers read from the notebook's own predictions pass, rounded to two decimals."""
    checks.check_interpretation_quick(PREDICTIONS, READ, {
        4: (4, 0.91, True), 100: (3, 0.64, False)})


@pytest.mark.parametrize("answers, message", [
    ({4: (7, 0.91, True), 100: (3, 0.64, False)},
     r"most_likely_4 is 7, but that is not the position of the largest value in "
     r"predictions\[0\]: np.argmax\(predictions\[0\]\) gives it"),
    ({4: (4, 0.91, True), 100: (3, 0.5, False)},
     r"probability_100 is 0.50, but that is not the largest value in predictions\[1\]: "
     r"np.max\(predictions\[1\]\) gives it"),
    ({4: (4, 0.91, True), 100: (3, 0.64, True)}, "correct_100 should say whether"),
])
def test_quick_interpretation_check_finds_wrong_answers(answers, message):
    """Each wrong answer is named, without giving the right value away."""
    with pytest.raises(AssertionError, match=message) as caught:
        checks.check_interpretation_quick(PREDICTIONS, READ, answers)
    assert "0.91" not in str(caught.value) and "0.64" not in str(caught.value)


def test_quick_comparison_check_shows_the_values():
    """Against history and test_result: a wrong number is shown next to the right one."""
    checks.check_comparison_quick(HISTORY, 0.9, 0.925, 0.9, 0.025, True)
    with pytest.raises(AssertionError, match="test_result is 0.900"):
        checks.check_comparison_quick(HISTORY, 0.9, 0.925, 0.8, 0.125, False)
    with pytest.raises(AssertionError, match=r"gives generalises_well = True"):
        checks.check_comparison_quick(HISTORY, 0.9, 0.925, 0.9, 0.025, False)


def test_own_handwriting_needs_three_own_digits():
    """Only the sample digits: the check says so; three own digits pass."""
    with pytest.raises(AssertionError, match="sample digits are only for trying"):
        checks.check_own_handwriting(["sample_digits/seven.png", "sample_digits/two.dat",
                                       "own_digits/4_mine.png"])
    checks.check_own_handwriting([f"own_digits/{d}_mine.png" for d in (1, 2, 3)])


def test_visible_tuned_rules_are_the_hidden_ones():
    """The visible check of the tuned model uses the same rules, with advice on size."""
    import keras
    from keras import layers

    from course_lib.lesson.settings import PROFILES

    big = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(128, 3), layers.Flatten(),
                            layers.Dense(10, activation="softmax")])
    big.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(AssertionError, match="add a MaxPooling2D before Flatten"):
        checks.check_tuned_model(big, PROFILES["sample"])
    wrong_loss = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3),
                                   layers.Flatten(), layers.Dense(10, activation="softmax")])
    wrong_loss.compile(optimizer="adam", loss="mse")
    with pytest.raises(AssertionError, match="loss='categorical_crossentropy'"):
        checks.check_tuned_model(wrong_loss, PROFILES["sample"])


def test_tuned_validation_report_is_advice(capsys):
    """Below the mark on validation data: a printed note, never a failure."""
    from course_lib.lesson.settings import PROFILES

    checks.report_tuned_validation({"val_accuracy": [0.9, 0.93]}, PROFILES["sample"])
    assert "0.930, below the pass mark 0.94" in capsys.readouterr().out


def test_own_input_divided_twice_is_named_with_its_values():
    """own.images is already 0-1: dividing by 255 again leaves values up to 0.004."""
    images = np.zeros((3, 28, 28, 1))
    images[:, 10:18, 12:15] = 1 / 255
    predictions = np.full((3, 10), 0.1)
    with pytest.raises(AssertionError, match=r"go up to 0.0039, not up to 1: they were "
                                             r"divided by 255 twice"):
        checks.check_own_digits(images, predictions, predictions.argmax(axis=1))


def test_own_predictions_that_are_not_probabilities_are_shown():
    with pytest.raises(AssertionError, match=r"row 1 adds up to 2.000\. Take them straight "
                                             r"from the network"):
        checks.check_own_digits(np.ones((2, 28, 28, 1)), np.array(
            [[0.1] * 10, [0.2] * 10]), [0, 0])


def test_tuned_rules_say_what_was_found_and_what_to_do():
    import keras
    from keras import layers

    from course_lib.lesson.settings import PROFILES

    relu_end = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3),
                                 layers.Flatten(), layers.Dense(32, activation="relu")])
    relu_end.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(AssertionError) as caught:
        checks.check_tuned_model(relu_end, PROFILES["sample"])
    assert "it ends in Dense with 32 output(s) and activation 'relu'" in str(caught.value)
    assert "compile it with metrics=['accuracy'] too" in str(caught.value)
    uncompiled = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3),
                                   layers.Flatten(), layers.Dense(10, activation="softmax")])
    with pytest.raises(AssertionError, match=r"it is not compiled: call tuned_model.compile"):
        checks.check_tuned_model(uncompiled, PROFILES["sample"])
