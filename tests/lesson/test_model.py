"""Is the reference CNN exactly the lesson's network, and can grading compare others with it?"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from keras import layers

from course_lib.lesson.architecture import (
    REFERENCE_ARCHITECTURE,
    architecture_differences,
    describe_architecture,
)
from course_lib.lesson.model import set_seed
from course_lib.teacher.training import build_reference_cnn


@pytest.fixture(scope="module")
def reference():
    return build_reference_cnn()


def test_reference_layers_and_shapes(reference):
    """Does each layer have the lesson's type and output shape, and 93,322 parameters in all?"""
    found = [(type(layer).__name__, tuple(layer.output.shape[1:])) for layer in reference.layers]
    assert found == [
        ("Conv2D", (26, 26, 32)),
        ("MaxPooling2D", (13, 13, 32)),
        ("Conv2D", (11, 11, 64)),
        ("MaxPooling2D", (5, 5, 64)),
        ("Conv2D", (3, 3, 64)),
        ("Flatten", (576,)),
        ("Dense", (64,)),
        ("Dense", (10,)),
    ]
    assert reference.count_params() == 93322
    assert type(reference.optimizer).__name__ == "SGD"


def test_reference_matches_its_specification(reference):
    """Does the description of the reference equal the stored spec, and survive JSON?"""
    description = describe_architecture(reference)
    assert description.pop("name") == "reference_cnn"
    assert description == REFERENCE_ARCHITECTURE
    assert json.loads(json.dumps(description)) == REFERENCE_ARCHITECTURE
    assert architecture_differences(reference) == []


def functional_reference(loss="categorical_crossentropy"):
    """The same network written with the functional API and a loss object."""
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.SGD(), loss=loss, metrics=["accuracy"])
    return model


def test_equivalent_spellings_match():
    """Do the functional API, integer kernel sizes and a loss object count as the same network?"""
    model = functional_reference(loss=keras.losses.CategoricalCrossentropy())
    assert architecture_differences(model) == []


def sequential(*stack, optimizer="sgd", loss="categorical_crossentropy", shape=(28, 28, 1),
               metrics=("accuracy",)):
    model = keras.Sequential([keras.Input(shape), *stack] if shape else list(stack))
    if optimizer:
        model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


def reference_stack():
    return [
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.Flatten(),
        layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax"),
    ]


def with_layer(index, layer):
    stack = reference_stack()
    stack[index] = layer
    return stack


WRONG_MODELS = {
    "filters": (
        lambda: sequential(*with_layer(2, layers.Conv2D(32, 3, activation="relu"))),
        "Layer 3 (Conv2D) should have 64 filters, but yours has 32.",
    ),
    "kernel": (
        lambda: sequential(*with_layer(0, layers.Conv2D(32, 5, activation="relu"))),
        "Layer 1 (Conv2D) should have a 3x3 kernel, but yours has a 5x5 kernel.",
    ),
    "activation": (
        lambda: sequential(*with_layer(7, layers.Dense(10, activation="sigmoid"))),
        "Layer 8 (Dense) should have activation 'softmax', but yours has 'sigmoid'.",
    ),
    "units": (
        lambda: sequential(*with_layer(6, layers.Dense(128, activation="relu"))),
        "Layer 7 (Dense) should have 64 neurons, but yours has 128.",
    ),
    "layer type": (
        lambda: sequential(*with_layer(1, layers.AveragePooling2D(2))),
        "Layer 2 should be a MaxPooling2D layer, but yours is a AveragePooling2D layer.",
    ),
    "missing layers": (
        lambda: sequential(*reference_stack()[:5], layers.Flatten(),
                           layers.Dense(10, activation="softmax")),
        "Layer 7 (Dense) should have 64 neurons, but yours has 10.",
    ),
    "input": (
        lambda: sequential(*reference_stack(), shape=(28, 28, 3)),
        "The input should have shape (28, 28, 1), but your model takes (28, 28, 3). "
        "Start with keras.Input(shape=(28, 28, 1)).",
    ),
    "no activation": (
        lambda: sequential(*with_layer(6, layers.Dense(64))),
        "Layer 7 (Dense) should have activation 'relu', but yours has no activation given.",
    ),
    "no input": (
        lambda: sequential(*reference_stack(), shape=None),
        "Your model does not say what its input looks like: start the list of layers with "
        "keras.Input(shape=(28, 28, 1)).",
    ),
    "no accuracy metric": (
        lambda: sequential(*reference_stack(), metrics=()),
        "Compile with metrics=['accuracy']: without it, training does not report the "
        "accuracy that the rest of the lesson reads from history.history.",
    ),
    "optimizer": (
        lambda: sequential(*reference_stack(), optimizer="adam"),
        "The optimizer should be SGD, but your model uses Adam.",
    ),
    "loss": (
        lambda: sequential(*reference_stack(), loss="mse"),
        "The loss should be 'categorical_crossentropy', but your model uses 'mse'.",
    ),
    "not compiled": (
        lambda: sequential(*reference_stack(), optimizer=None),
        "The model is not compiled yet: call model.compile(...) on it.",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_MODELS))
def test_first_difference_in_plain_words(case):
    """Is the first difference from the reference named in words a student can act on?"""
    build, first = WRONG_MODELS[case]
    differences = architecture_differences(build())
    assert differences, "a different model must not match the reference"
    assert differences[0] == first


def test_missing_and_extra_layers_are_counted():
    """Are too few or too many layers reported with what is missing or extra?"""
    short = architecture_differences(sequential(*reference_stack()[:6]))
    assert short == ["Your model has 6 layers, the reference has 8: after layer 6 it still "
                     "needs Dense, Dense."]
    long = architecture_differences(sequential(*reference_stack(), layers.Dense(10)))
    assert long == ["Your model has 9 layers, the reference has 8: remove the extra Dense."]


def test_seeded_training_is_repeatable():
    """Do two seeded trainings on the same small slice end with identical weights?"""
    rng = np.random.default_rng(0)
    images = rng.random((64, 28, 28, 1), dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]

    def train():
        set_seed(7)
        model = build_reference_cnn()
        model.fit(images, labels, epochs=2, batch_size=16, verbose=0)
        return model.get_weights()

    first, second = train(), train()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    set_seed(8)
    other = build_reference_cnn().get_weights()
    assert not np.array_equal(other[0], first[0])
