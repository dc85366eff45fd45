"""Is a recipe only a recipe? What the grader reads from a tuned network, keeps, resets and
refuses, and how the network it builds from that data alone looks."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from course_lib.lesson import checks
from course_lib.lesson.recipe import RecipeError, read_recipe
from course_lib.lesson.settings import PROFILES


def small_cnn(**conv_options) -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(8, (3, 3), activation="relu", **conv_options),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def compiled(network, optimizer="adam", loss="categorical_crossentropy"):
    network.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return network


def test_the_lessons_tuned_network_is_read_as_it_was_written():
    """Are the layers, their settings, the optimizer and the loss read, and nothing reset?"""
    network = compiled(keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.Sequential([layers.RandomRotation(0.1), layers.RandomZoom(0.1)]),
        layers.Conv2D(32, (3, 3), activation="relu", padding="same"),
        layers.BatchNormalization(), layers.MaxPooling2D((2, 2)), layers.Flatten(),
        layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ]), keras.optimizers.Adam(learning_rate=0.002))
    recipe = read_recipe(network)
    assert recipe.input_shape == (28, 28, 1)
    assert [spec.kind for spec in recipe.layers] == [
        "RandomRotation", "RandomZoom", "Conv2D", "BatchNormalization", "MaxPooling2D",
        "Flatten", "Dropout", "Dense"]
    conv = recipe.layers[2].settings
    assert (conv["filters"], conv["kernel_size"], conv["padding"], conv["activation"]) == \
        (32, [3, 3], "same", "relu")
    assert recipe.layers[6].settings == {"rate": 0.5}
    assert recipe.optimizer.kind == "Adam"
    assert recipe.optimizer.settings["learning_rate"] == pytest.approx(0.002)
    assert (recipe.loss, recipe.metrics, recipe.notes) == \
        ("categorical_crossentropy", ("accuracy",), ())
    built = recipe.build(seed=1)
    assert built.count_params() == network.count_params()
    assert type(built.optimizer).__name__ == "Adam"


def test_trained_values_in_the_settings_are_set_back_to_keras_defaults():
    """Initialisers holding a trained array, frozen layers, another data type, and an
    optimizer whose moving average or accumulation keeps the start: all reset, and named."""
    trained = np.random.default_rng(0).normal(size=(3, 3, 1, 8)).astype("float32")
    network = compiled(small_cnn(kernel_initializer=keras.initializers.Constant(trained),
                                 bias_initializer="ones", trainable=False, dtype="float64"),
                       keras.optimizers.Adam(use_ema=True, ema_momentum=1.0,
                                             gradient_accumulation_steps=10**6,
                                             clipvalue=1e-12))
    recipe = read_recipe(network)
    assert recipe.notes == (
        "layer 1 (Conv2D): trainable, dtype, kernel_initializer, bias_initializer",
        "the optimizer (Adam): clipvalue, use_ema, ema_momentum, "
        "gradient_accumulation_steps")
    built = recipe.build(seed=1)
    conv = built.layers[0]
    assert conv.trainable and conv.dtype == "float32"
    assert not np.allclose(conv.get_weights()[0], trained)
    assert not conv.get_weights()[1].any()  # Keras' default bias: zeros
    optimizer = built.optimizer
    assert not optimizer.use_ema and optimizer.gradient_accumulation_steps is None
    assert optimizer.clipvalue is None
    assert "The grader used Keras' defaults" in recipe.notes_sentence()


@pytest.mark.parametrize("network, message", [
    (lambda: compiled(keras.Sequential([keras.Input((28, 28, 1)),
                                        layers.Rescaling(np.ones((28, 28, 1))),
                                        layers.Flatten(), layers.Dense(10)])),
     "Layer 1 is a Rescaling, which a recipe may not contain"),
    (lambda: compiled(keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                        layers.Normalization(mean=0.1, variance=0.2),
                                        layers.Dense(10)])),
     "Layer 2 is a Normalization"),
    (lambda: compiled(small_cnn(), keras.optimizers.SGD(learning_rate=0.0)),
     "learning_rate of the optimizer \\(SGD\\) is 0.0; a recipe takes a number more than 0"),
    (lambda: compiled(small_cnn(), keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9))),
     "learning_rate is a schedule"),
    (lambda: compiled(small_cnn(), keras.optimizers.Lion()), "The optimizer is Lion"),
    (lambda: compiled(keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                        layers.Dense(10, activation="exponential")])),
     "activation of layer 2 \\(Dense\\) is \"exponential\""),
    (lambda: compiled(keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                        layers.Dense(10, kernel_regularizer=keras.regularizers
                                                     .OrthogonalRegularizer())])),
     "kernel_regularizer of layer 2"),
])
def test_what_a_recipe_may_not_contain_is_refused_with_what_it_may(network, message):
    with pytest.raises(RecipeError, match=message):
        read_recipe(network())


def test_a_network_that_is_not_one_chain_is_refused_and_one_that_is_is_read():
    inputs = keras.Input((28, 28, 1))
    features = layers.Conv2D(1, 3, padding="same")(inputs)
    branched = keras.Model(inputs, layers.Dense(10, activation="softmax")(
        layers.Flatten()(layers.Add()([inputs, features]))))
    with pytest.raises(RecipeError, match="one chain of layers"):
        read_recipe(branched)
    chain = keras.Model(inputs, layers.Dense(10, activation="softmax")(
        layers.Flatten()(layers.Conv2D(4, 3)(inputs))))
    assert [spec.kind for spec in read_recipe(compiled(chain)).layers] == \
        ["Conv2D", "Flatten", "Dense"]


def test_quick_check_names_what_the_grader_resets(capsys):
    """The student learns in the notebook that the grader will not use their initialiser."""
    network = compiled(small_cnn(kernel_initializer="zeros"))
    checks.check_tuned_model(network, PROFILES["sample"])
    assert "layer 1 (Conv2D): kernel_initializer" in capsys.readouterr().out


def test_rules_are_judged_on_the_recipe():
    """Over the parameter budget, or not compiled: the rules say so before any training."""
    big = compiled(keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(128, 3),
                                     layers.Flatten(), layers.Dense(10, activation="softmax")]))
    with pytest.raises(AssertionError, match="more than the budget of 500,000"):
        checks.check_tuned_model(big, PROFILES["sample"])
    with pytest.raises(AssertionError, match="it is not compiled"):
        checks.check_tuned_model(small_cnn(), PROFILES["sample"])
