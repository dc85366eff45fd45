"""Train the lesson's reference network end to end, as the lesson does, in one call."""

from __future__ import annotations

from course_lib.data import load_mnist, one_hot, prepare_images, split_validation
from course_lib.model import DEFAULT_SEED, build_reference_cnn, set_seed
from course_lib.settings import profile_for


def train_reference(epochs: int | None = None, *, seed: int = DEFAULT_SEED, data=None,
                    verbose: int = 0) -> dict:
    """Train the reference CNN the way the lesson does and measure it on the test set.

    ``data`` is what :func:`course_lib.data.load_mnist` returns (loaded here if omitted);
    ``epochs`` defaults to the data profile's. Returns the model, its history and the
    numbers a report needs.
    """
    train, test, source = data if data is not None else load_mnist()
    profile = profile_for(source)
    epochs = profile.epochs if epochs is None else epochs
    (x_train, y_train), (x_val, y_val) = split_validation(*train, profile.validation_size)

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
