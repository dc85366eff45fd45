"""The lesson's reference network, built and trained as the lesson does (teachers only).

This module holds the answer to the lesson's architecture assignment, so it is left out
of the package students receive (:mod:`course_lib.teacher.package`).
"""

from __future__ import annotations

import keras
from keras import layers

from course_lib.lesson.data import lesson_split, load_mnist, one_hot, prepare_images
from course_lib.lesson.model import DEFAULT_SEED, INPUT_SHAPE, NUM_CLASSES, set_seed
from course_lib.lesson.settings import profile_for


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


def train_reference(epochs: int | None = None, *, seed: int = DEFAULT_SEED, data=None,
                    verbose: int = 0) -> dict:
    """Train the reference CNN the way the lesson does and measure it on the test set.

    ``data`` is what :func:`course_lib.lesson.data.load_mnist` returns (loaded here if omitted);
    ``epochs`` defaults to the data profile's. Returns the model, its history and the
    numbers a report needs.
    """
    (x_train, y_train), (x_val, y_val), test, source = lesson_split(
        data if data is not None else load_mnist())
    profile = profile_for(source)
    epochs = profile.epochs if epochs is None else epochs

    set_seed(seed)
    model = build_reference_cnn()
    history = model.fit(
        prepare_images(x_train), one_hot(y_train),
        epochs=epochs, batch_size=profile.batch_size,
        validation_data=(prepare_images(x_val), one_hot(y_val)), verbose=verbose,
    )
    _, test_accuracy = model.evaluate(prepare_images(test[0]), one_hot(test[1]), verbose=0)
    return {
        "model": model,
        "history": history,
        "source": source,
        "epochs": epochs,
        "train_size": len(x_train),
        "test_accuracy": float(test_accuracy),
    }
