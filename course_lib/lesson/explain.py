"""Pictures that explain what the network does and where it goes wrong.

* :func:`confusion_matrix` and :func:`plot_confusion_matrix`: which digits are taken for which;
* :func:`plot_misclassified`: the test digits the network got wrong, with both labels;
* :func:`plot_before_after`: own digits as photographed and as prepared, with the prediction;
* :func:`plot_filters` and :func:`plot_feature_maps`: what the first convolution looks for,
  and where it finds it in one digit.

Like :mod:`course_lib.lesson.plots`, every function returns a ``Figure`` and never shows it,
and writes its texts in the language :func:`course_lib.lesson.language.use_language` chose.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_lib.lesson.constants import IMAGE_SIDE, INPUT_SHAPE, NUM_CLASSES
from course_lib.lesson.language import _


def confusion_matrix(true_labels, predicted_labels, classes: int = NUM_CLASSES) -> np.ndarray:
    """Count, for every true digit (row), how often each digit (column) was predicted."""
    true_labels = np.asarray(true_labels, dtype=int).reshape(-1)
    predicted_labels = np.asarray(predicted_labels, dtype=int).reshape(-1)
    if true_labels.shape != predicted_labels.shape:
        raise ValueError(
            f"There are {true_labels.size} true labels but {predicted_labels.size} "
            "predictions; pass one prediction per test image."
        )
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (true_labels, predicted_labels), 1)
    return matrix


def plot_confusion_matrix(true_labels, predicted_labels) -> Figure:
    """Show the confusion matrix with its counts; the diagonal holds the correct answers."""
    matrix = confusion_matrix(true_labels, predicted_labels)
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, label=_("number of test images"))
    for row in range(NUM_CLASSES):
        for col in range(NUM_CLASSES):
            if matrix[row, col]:
                axes.text(col, row, str(matrix[row, col]), ha="center", va="center",
                          fontsize=8, color="white" if matrix[row, col] > matrix.max() / 2
                          else "black")
    axes.set_xticks(range(NUM_CLASSES))
    axes.set_yticks(range(NUM_CLASSES))
    axes.set_xlabel(_("predicted digit"))
    axes.set_ylabel(_("true digit"))
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    axes.set_title(_("Confusion matrix (accuracy {accuracy:.3f})").format(accuracy=accuracy))
    return figure


def plot_misclassified(images, true_labels, probabilities, limit: int = 20,
                       columns: int = 5) -> Figure:
    """Show up to ``limit`` wrongly classified images: true label, prediction, its probability."""
    images = np.asarray(images).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    true_labels = np.asarray(true_labels).reshape(-1)
    wrong = np.flatnonzero(predicted != true_labels)[:limit]
    rows = max(1, -(-len(wrong) // columns))
    figure = Figure(figsize=(2.0 * columns, 2.3 * rows), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for axes in grid:
        axes.axis("off")
    for axes, index in zip(grid, wrong, strict=False):
        axes.imshow(images[index], cmap="gray")
        axes.set_title(_("true {true}, says {said}\n({probability:.2f})").format(
            true=true_labels[index], said=predicted[index],
            probability=probabilities[index, predicted[index]]), fontsize=9)
    figure.suptitle(_("{wrong:,} of {count:,} digits wrong; the first {shown}:").format(
        wrong=len(np.flatnonzero(predicted != true_labels)), count=len(true_labels),
        shown=len(wrong)) if len(wrong) else _("No digit was classified wrongly."))
    return figure


def plot_before_after(originals, prepared, probabilities=None, names=None) -> Figure:
    """Show each own digit as it was and as the network sees it, with its prediction."""
    prepared = np.asarray(prepared).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    figure = Figure(figsize=(2.2 * len(prepared), 4.6), layout="constrained")
    grid = figure.subplots(2, len(prepared), squeeze=False)
    for column, (original, image) in enumerate(zip(originals, prepared, strict=True)):
        top, bottom = grid[0, column], grid[1, column]
        top.imshow(original, cmap="gray", vmin=0, vmax=1)
        top.set_title(names[column] if names is not None else _("your picture"), fontsize=9)
        bottom.imshow(image, cmap="gray", vmin=0, vmax=1)
        if probabilities is not None:
            row = np.asarray(probabilities)[column]
            bottom.set_title(_("says {digit} ({probability:.2f})").format(
                digit=row.argmax(), probability=row.max()), fontsize=10)
        else:
            bottom.set_title(_("prepared, 28x28"), fontsize=9)
        top.axis("off")
        bottom.axis("off")
    return figure


def _first_convolution(model):
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            return layer
    raise ValueError("The model has no Conv2D layer, so it has no filters to show.")


def plot_filters(model) -> Figure:
    """Show the 3x3 (or larger) filters of the model's first convolutional layer."""
    kernels = _first_convolution(model).get_weights()[0]  # (height, width, 1, filters)
    count = kernels.shape[-1]
    columns = 8
    rows = -(-count // columns)
    figure = Figure(figsize=(columns * 1.0, rows * 1.1), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    limit = np.abs(kernels).max()
    for index, axes in enumerate(grid):
        axes.axis("off")
        if index < count:
            axes.imshow(kernels[:, :, 0, index], cmap="bwr", vmin=-limit, vmax=limit)
    figure.suptitle(_("Filters of the first convolution (red: positive weight, blue: "
                      "negative)"))
    return figure


def plot_feature_maps(model, image) -> Figure:
    """Show where each filter of the first convolution responds in one prepared image."""
    import keras

    layer = _first_convolution(model)
    probe = keras.Model(model.inputs, layer.output)
    maps = probe.predict(np.asarray(image, dtype="float32").reshape(1, *INPUT_SHAPE), verbose=0)[0]
    count = maps.shape[-1]
    columns = 8
    rows = -(-count // columns)
    figure = Figure(figsize=(columns * 1.1, rows * 1.2), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for index, axes in enumerate(grid):
        axes.axis("off")
        if index < count:
            axes.imshow(maps[:, :, index], cmap="viridis")
    figure.suptitle(_("Feature maps of the first convolution for one digit"))
    return figure
