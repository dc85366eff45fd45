"""Networks the tests build more than once."""

from __future__ import annotations


def model_solution_network():
    """The model solution's tuned network (source/mnist_cnn, cell tune_model), compiled.

    Seed first (``keras.utils.set_random_seed``) where its starting weights matter."""
    import keras
    from keras import layers

    network = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ])
    network.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return network
