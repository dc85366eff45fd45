"""Does the grader train a recipe fairly: the rules first, the counted budget, and a safety
net of time that holds inside an epoch?"""

from __future__ import annotations

import keras
import pytest
from keras import layers

from course_lib.autograder import checks

pytestmark = pytest.mark.slow


def compiled(network):
    network.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return network


def test_rules_break_the_accuracy_check_too(isolated_data):
    """A network over the budget earns no accuracy points, whatever it would reach."""
    big = compiled(keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(128, 3),
                                     layers.Flatten(), layers.Dense(10, activation="softmax")]))
    with pytest.raises(AssertionError, match="earns no accuracy points either"):
        checks.check_tuned_accuracy(big, 1, 64)


def test_a_long_epoch_within_the_budget_stops_at_the_safety_net_as_not_graded(isolated_data):
    """Batch size 1 on a heavy network, one epoch: within the counted budget, but longer than
    a safety net of 3 s. Is it stopped inside the epoch, saying how far, and not graded
    rather than failed (which would score 0)?"""
    import time

    from course_lib.autograder.retrain import GradingStopped

    heavy = compiled(keras.Sequential([
        keras.Input((28, 28, 1)),
        *[layers.Conv2D(32, 3, padding="same", activation="relu") for _ in range(6)],
        layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")]))
    checks.grading_data()
    checks.set_training_budget(3)
    try:
        started = time.perf_counter()
        with pytest.raises(GradingStopped, match=r"Not graded: .* within the budget of 2,400 "
                                                 r"billion, but after the grader's time limit "
                                                 r"of 3 s its training was stopped after \d+% "
                                                 r"of epoch 1 of 1"):
            checks.check_tuned_accuracy(heavy, 1, 1)
        assert time.perf_counter() - started < 3 + 2
    finally:
        checks.set_training_budget(None)
