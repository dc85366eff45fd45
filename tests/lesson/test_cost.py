"""Is a recipe's training cost counted from its data alone, by hand-checkable arithmetic, and
does the notebook's quick check say it exactly as the grader counts it?"""

from __future__ import annotations

import math

import keras
import pytest
from helpers.networks import model_solution_network
from keras import layers

from course_lib.lesson import checks
from course_lib.lesson.cost import (
    FORWARD_AND_BACKWARD,
    LAYER_STEP_COST,
    POSITION_WEIGHTS,
    STEP_COST,
    VALUE_WEIGHT,
    VALUE_WEIGHTS,
    WEIGHT_STEP_COST,
    training_cost,
)
from course_lib.lesson.recipe import LayerSpec, OptimizerSpec, Recipe, RecipeError, read_recipe
from course_lib.lesson.settings import PROFILES


def recipe(*specs: tuple[str, dict]) -> Recipe:
    """A recipe written as data, the way the grader reads one: no network is built."""
    return Recipe((28, 28, 1), tuple(LayerSpec(kind, settings) for kind, settings in specs),
                  OptimizerSpec("Adam"), "categorical_crossentropy", ("accuracy",))




def test_a_small_network_costs_what_a_hand_count_gives():
    """Does Conv2D(2, 3x3) -> Flatten -> Dense(10), 2 epochs of 1,000 images in batches of
    100, cost what a count by hand gives?"""
    cost = training_cost(recipe(("Conv2D", {"filters": 2, "kernel_size": 3}),
                                ("Flatten", {}), ("Dense", {"units": 10})),
                         epochs=2, batch_size=100, examples=1000)
    # Conv2D: a 26x26x2 output, each value 3*3*1 multiply-adds; Flatten: none; Dense:
    # 1,352 inputs times 10 units. Every output value once more: 1,352 + 1,352 + 10.
    assert cost.per_example == 26 * 26 * 2 * 9 + 1352 * 10 + VALUE_WEIGHT * (1352 + 1352 + 10)
    assert cost.per_example == 52_828
    assert cost.weights == (9 * 2 + 2) + (1352 * 10 + 10) == 13_550
    assert cost.steps == 2 * 10
    assert cost.total == (FORWARD_AND_BACKWARD * 52_828 * 1000 * 2
                          + 20 * (STEP_COST + 3 * LAYER_STEP_COST + 13_550 * WEIGHT_STEP_COST))


def test_strides_padding_pooling_and_separable_convolutions_are_counted():
    """Are strides, padding, pooling windows and separable convolutions counted, each output
    side as Keras computes it and each kind with its own work per value?"""
    cost = training_cost(recipe(
        ("Conv2D", {"filters": 4, "kernel_size": [5, 5], "strides": 2, "padding": "same"}),
        ("MaxPooling2D", {"pool_size": 3, "strides": 2}),
        ("SeparableConv2D", {"filters": 8, "kernel_size": 3, "depth_multiplier": 2,
                             "padding": "same"}),
        ("Dropout", {"rate": 0.5}),
        ("GlobalAveragePooling2D", {}),
        ("Dense", {"units": 10}),
    ), epochs=1, batch_size=1, examples=1)
    conv = 14 * 14 * 4 * 25  # 'same' with stride 2: 28 -> 14
    pool = 6 * 6 * 4 * 9  # a 3x3 window with stride 2: (14 - 3) // 2 + 1 = 6
    separable = 6 * 6 * 8 * 9 + 6 * 6 * 8 * 8  # 4 channels x 2, then 8 filters mixing 8
    values = VALUE_WEIGHT * (14 * 14 * 4 + 6 * 6 * 4 + 6 * 6 * 8 + 8 + 10) \
        + VALUE_WEIGHTS["Dropout"] * 6 * 6 * 8 + POSITION_WEIGHTS["Dropout"] * 6 * 6
    assert cost.per_example == conv + pool + separable + 6 * 6 * 8 + 8 * 10 + values
    assert cost.weights == (25 * 4 + 4) + (8 * 9 + 8 * 8 + 8) + (8 * 10 + 10)


def test_the_batch_size_counts_only_through_the_steps():
    """Does the batch size count only through the steps: the same recipe in batches of 1 and
    of 64 differs by the extra steps alone?"""
    network = recipe(("Conv2D", {"filters": 8, "kernel_size": 3}), ("Flatten", {}),
                     ("Dense", {"units": 10}))
    one, many = (training_cost(network, 3, size, 3500) for size in (1, 64))
    assert one.per_example == many.per_example
    assert (one.steps, many.steps) == (3 * 3500, 3 * math.ceil(3500 / 64))
    assert one.total - many.total == (one.steps - many.steps) * one.per_step
    assert one.step_share > 0.95 > many.step_share


@pytest.mark.parametrize("extra", [
    [layers.Conv2D(16, 5, strides=2, padding="same", dilation_rate=1)],
    [layers.Conv2D(8, 3, dilation_rate=2), layers.AveragePooling2D(3, strides=1)],
    [layers.SeparableConv2D(12, (3, 5), depth_multiplier=3, strides=(1, 2))],
    [layers.MaxPooling2D(2, padding="same"), layers.BatchNormalization(),
     layers.Conv2D(6, 4, strides=3)],
])
def test_the_counted_shapes_and_weights_are_keras_own(extra):
    """Counted from the data alone, are the weights what Keras builds? The Dense layer after
    Flatten has as many weights as the counted image has values, so the shapes agree too."""
    network = keras.Sequential([keras.Input((28, 28, 1)), *extra, layers.Flatten(),
                                layers.Dense(10, activation="softmax")])
    network.compile(optimizer="adam", loss="categorical_crossentropy")
    counted = training_cost(read_recipe(network), 1, 64, 100)
    assert counted.weights == sum(math.prod(w.shape) for w in network.trainable_weights)


def test_layers_that_do_not_fit_are_said_so():
    """Are layers that do not fit said so? Thirteen 3x3 convolutions leave 2 pixels, so a
    fourteenth does not fit; nor does a convolution after Flatten."""
    shrinking = [("Conv2D", {"filters": 1, "kernel_size": 3})] * 14
    with pytest.raises(RecipeError, match=r"Layer 14 \(Conv2D\) has a window of 3 pixels, "
                                          r"more than the 2 pixels left"):
        training_cost(recipe(*shrinking), 1, 64, 100)
    with pytest.raises(RecipeError, match=r"Layer 2 \(Conv2D\) needs an image"):
        training_cost(recipe(("Flatten", {}), ("Conv2D", {"filters": 1, "kernel_size": 3})),
                      1, 64, 100)


def test_the_model_solution_uses_the_share_of_the_budget_the_readme_gives():
    """Does the model solution use the share of the budget the README gives: 558 billion of
    2,400 on the sample (23%), 2,921 billion of 6,000 on the full data (49%)?"""
    read = read_recipe(model_solution_network())
    sample = training_cost(read, 15, 64, PROFILES["sample"].training_examples)
    full = training_cost(read, 5, 64, PROFILES["full"].training_examples)
    assert (round(sample.total / 1e9), round(full.total / 1e9)) == (558, 2921)
    assert round(sample.total / PROFILES["sample"].tuned_max_cost, 2) == 0.23
    assert round(full.total / PROFILES["full"].tuned_max_cost, 2) == 0.49


def test_the_profiles_count_the_examples_the_grader_trains_on():
    """Do the profiles count the examples the grader trains on: 3,500 sample digits (4,000
    less 500 for validation), 55,000 full-size ones?"""
    from course_lib.lesson.data import lesson_split

    (images, _), *_ = lesson_split()
    assert len(images) == PROFILES["sample"].training_examples == 3500
    assert PROFILES["full"].training_examples == 60_000 - PROFILES["full"].validation_size


def test_the_quick_check_prints_the_cost_against_the_budget(capsys):
    """Within the budget, does the quick check print the count and its share of it?"""
    checks.check_training_cost(model_solution_network(), 15, 64, PROFILES["sample"])
    said = capsys.readouterr().out
    assert "Training your recipe costs 558 billion multiply-adds (15 epoch(s) of 3,500 " \
           "training images in batches of 64): 23% of the budget of 2,400 billion" in said


def test_the_quick_check_fails_over_the_budget_and_says_what_to_change():
    """Over the budget, does the quick check fail and say what to change: the epochs that
    would fit, and the batch size when the batches are most of the cost?"""
    with pytest.raises(AssertionError) as long:
        checks.check_training_cost(model_solution_network(), 100, 64, PROFILES["sample"])
    assert "costs 3,721 billion multiply-adds (100 epoch(s)" in str(long.value)
    assert "more than the budget of 2,400 billion: the grader does not train it" in \
        str(long.value)
    assert "at most 64 epoch(s) of this network, in these batches, fit" in str(long.value)
    assert "tuned_batch_size" not in str(long.value)
    with pytest.raises(AssertionError, match=r"a larger tuned_batch_size \(e.g. 64\)"):
        heavy = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3),
                                  layers.Flatten(), layers.Dense(10, activation="softmax")])
        heavy.compile(optimizer="adam", loss="categorical_crossentropy")
        checks.check_training_cost(heavy, 20, 1, PROFILES["sample"])


def test_printing_the_cost_before_training_never_fails(capsys):
    """Does print_training_cost say the same as advice only, so the student's cell goes on?"""
    checks.print_training_cost(model_solution_network(), 100, 64, PROFILES["sample"])
    assert "more than the budget of 2,400 billion" in capsys.readouterr().out


def test_the_cost_is_said_in_dutch_too(capsys):
    """Are the quick check's words in the notebook's language?"""
    from course_lib.lesson.language import speaking

    with speaking("nl"):
        checks.check_training_cost(model_solution_network(), 15, 64, PROFILES["sample"])
    assert "Je recept trainen kost 558 miljard rekenstappen" in capsys.readouterr().out
