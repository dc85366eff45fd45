"""Measure a saved student model in a fresh Python process, away from the notebook's state.

Run as ``python -I -m course_lib.grade_worker MODEL.keras``. It loads the model in Keras'
safe mode, loads the data again through :func:`course_lib.data.load_mnist`, and prints one
JSON object: the architecture, the test accuracy, and the predictions for the training
examples the lesson asks about. Nothing the notebook did (reassigned variables, changed
functions) can reach this process.
"""

from __future__ import annotations

import json
import os
import sys

ASKED_EXAMPLES = (4, 100)  # the training examples the lesson asks about


def measure(model_path: str) -> dict:
    """Load the model at ``model_path`` and measure it on freshly loaded data."""
    import keras

    from course_lib.architecture import describe_architecture
    from course_lib.data import load_mnist, prepare_images, split_validation
    from course_lib.settings import profile_for

    model = keras.saving.load_model(model_path, safe_mode=True)
    train, test, source = load_mnist(quiet=True)
    profile = profile_for(source)
    (train_images, _), _ = split_validation(*train, profile.validation_size)

    test_probabilities = model.predict(prepare_images(test[0]), batch_size=500, verbose=0)
    asked = model.predict(prepare_images(train_images[list(ASKED_EXAMPLES)]), verbose=0)
    return {
        "architecture": describe_architecture(model),
        "output_shape": [None if d is None else int(d) for d in model.outputs[0].shape],
        "test_accuracy": float((test_probabilities.argmax(axis=1) == test[1]).mean()),
        "test_size": int(len(test[1])),
        "source": source.kind,
        "asked_predictions": {str(i): row.tolist() for i, row in zip(ASKED_EXAMPLES, asked,
                                                                      strict=True)},
    }


def main(argv: list[str]) -> int:
    """Print the measurement of the model file named in ``argv`` as JSON."""
    if len(argv) != 1:
        print("usage: python -I -m course_lib.grade_worker MODEL.keras", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
    print(json.dumps(measure(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
