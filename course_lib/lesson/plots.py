"""The lesson's pictures: training curves, a grid of digits, one prediction as a bar chart.

Every function returns a matplotlib ``Figure`` and never calls ``plt.show()``: in a
notebook the figure shows itself, and tests can look inside it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_lib.lesson.constants import IMAGE_SIDE, NUM_CLASSES
from course_lib.lesson.language import N_, _

TRAIN_COLOUR = "tab:blue"
VALIDATION_COLOUR = "tab:orange"
# The words the lesson's code passes as titles, in English; shown in the notebook's language.
TITLE_WORDS = (N_("label"), N_("example"), N_("tuned says"), N_("you read"), N_("true label"))


def plot_training_history(history) -> Figure:
    """Plot loss and accuracy per epoch, training against validation.

    ``history`` is what ``model.fit`` returns, or its ``.history`` dictionary. The x-axis
    has one tick per epoch, however many epochs there were. The texts are in the language
    :func:`course_lib.lesson.language.use_language` chose.
    """
    values = getattr(history, "history", history)
    missing = [key for key in ("loss", "accuracy") if key not in values]
    if missing:
        raise ValueError(
            f"The training history has no {' or '.join(missing)}: found {sorted(values)}. "
            "Compile the model with metrics=['accuracy'] and pass what model.fit returns."
        )
    epochs = np.arange(1, len(values["loss"]) + 1)
    figure = Figure(figsize=(11, 4), layout="constrained")
    names = {"loss": _("loss"), "accuracy": _("accuracy")}
    titles = {"loss": _("Loss on training and validation data"),
              "accuracy": _("Accuracy on training and validation data")}
    for axes, key in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        axes.plot(epochs, values[key], "o-", color=TRAIN_COLOUR, label=_("training"))
        if f"val_{key}" in values:
            axes.plot(epochs, values[f"val_{key}"], "o--", color=VALIDATION_COLOUR,
                      label=_("validation"))
        axes.set_xticks(epochs)
        axes.set_xlabel(_("epoch"))
        axes.set_ylabel(names[key])
        axes.set_title(titles[key])
        axes.legend()
    return figure


def plot_digits(images, labels=None, *, columns: int = 5, title_prefix: str = "label") -> Figure:
    """Show images in a grid, each titled with its label when labels are given.

    ``title_prefix`` is written in English in the notebook's code and shown in the current
    language: the words the lesson uses ("label", "example", "tuned says") are in the
    catalogue."""
    images = np.asarray(images).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    rows = max(1, -(-len(images) // columns))
    columns = min(columns, len(images))
    figure = Figure(figsize=(1.8 * columns, 2.0 * rows), layout="constrained")
    grid = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for index, axes in enumerate(grid):
        axes.axis("off")
        if index < len(images):
            axes.imshow(images[index], cmap="gray")
            if labels is not None:
                axes.set_title(f"{_(title_prefix)} {labels[index]}")
    return figure


def plot_prediction(probabilities, true_label=None, verdict: bool = True,
                    label_name: str = "true label") -> Figure:
    """Show one prediction: the probability the model gives each digit 0-9, as bars.

    With ``verdict=False`` the bars are all one colour and there is no title: the student
    reads the answer from the bars (the lesson asks for it before revealing it).
    ``label_name`` says what ``true_label`` is in the title ("you read" for a student's
    own reading of the picture), in English in the notebook's code and shown in the
    current language.
    """
    probabilities = np.asarray(probabilities, dtype=float).reshape(-1)
    if probabilities.shape != (10,):
        raise ValueError(
            f"Expected ten probabilities (one per digit), got {probabilities.size}. "
            "Pass one row of model.predict(...), e.g. predictions[0]."
        )
    figure = Figure(figsize=(6, 3), layout="constrained")
    axes = figure.subplots()
    best = int(np.argmax(probabilities))
    colours = ["tab:gray"] * 10
    if verdict:
        colours[best] = "tab:green" if true_label in (None, best) else "tab:red"
    axes.bar(range(NUM_CLASSES), probabilities, color=colours)
    axes.set_xticks(range(NUM_CLASSES))
    axes.set_ylim(0, 1)
    axes.set_xlabel(_("digit"))
    axes.set_ylabel(_("probability"))
    if verdict:
        title = _("most likely {best} (probability {probability:.2f})").format(
            best=best, probability=probabilities[best])
        if true_label is not None:
            title += f", {_(label_name)} {true_label}"
        axes.set_title(title)
    return figure
