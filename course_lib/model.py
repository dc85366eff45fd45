"""The lesson's reference network, and a helper that makes training repeatable."""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
DEFAULT_SEED = 42


def build_reference_cnn() -> keras.Model:
    """Build and compile the lesson's CNN (93,322 parameters).

    Three convolutions with ReLU, the first two followed by 2x2 max pooling, then a
    hidden dense layer of 64 neurons and a softmax output over the ten digits. Compiled
    with plain SGD and categorical cross-entropy, as in the lesson.
    """
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="reference_cnn",
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def set_seed(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and TensorFlow so that a training run can be repeated exactly.

    On a CPU, two runs after the same seed give identical weights.
    """
    keras.utils.set_random_seed(seed)
