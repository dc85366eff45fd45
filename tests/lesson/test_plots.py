"""Do the lesson's plots show what they claim: axes, labels, ticks, bars?"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.lesson.plots import plot_digits, plot_prediction, plot_training_history


def history(epochs):
    ramp = np.linspace(0.5, 0.9, epochs).tolist()
    return {"loss": ramp[::-1], "val_loss": ramp[::-1], "accuracy": ramp, "val_accuracy": ramp}


@pytest.mark.parametrize("epochs", [1, 3, 12])
def test_training_curves_have_one_tick_per_epoch(epochs):
    """Are there loss and accuracy panels, each with both curves and one tick per epoch?"""
    figure = plot_training_history(history(epochs))
    loss_axes, accuracy_axes = figure.axes
    for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        assert axes.get_ylabel() == key and axes.get_xlabel() == "epoch"
        assert list(axes.get_xticks()) == list(range(1, epochs + 1))
        assert [line.get_label() for line in axes.get_lines()] == ["training", "validation"]
        assert list(axes.get_lines()[0].get_xdata()) == list(range(1, epochs + 1))
    assert "Loss" in loss_axes.get_title() and "Accuracy" in accuracy_axes.get_title()


def test_training_curves_accept_a_keras_history_object():
    """Does it take what model.fit returns (an object with .history), without validation?"""

    class FakeHistory:
        history = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}

    (loss_axes, _) = plot_training_history(FakeHistory()).axes
    assert [line.get_label() for line in loss_axes.get_lines()] == ["training"]


def test_training_curves_explain_a_missing_metric():
    """Does a history without accuracy say how to compile the model?"""
    with pytest.raises(ValueError, match="metrics=\\['accuracy'\\]"):
        plot_training_history({"loss": [1.0]})


def test_digit_grid_titles_and_layout():
    """Does each image get its own panel titled with its label, spare panels left empty?"""
    images = np.zeros((7, 28, 28), np.uint8)
    figure = plot_digits(images, [3, 1, 4, 1, 5, 9, 2], columns=4)
    assert len(figure.axes) == 8
    titles = [axes.get_title() for axes in figure.axes]
    assert titles[:7] == ["label 3", "label 1", "label 4", "label 1", "label 5", "label 9",
                          "label 2"]
    assert titles[7] == "" and not figure.axes[7].images
    assert figure.axes[0].images[0].get_array().shape == (28, 28)


def test_prediction_bars():
    """Are there ten bars of the given heights, the best one named in the title?"""
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    figure = plot_prediction(probabilities, true_label=7)
    axes = figure.axes[0]
    heights = [patch.get_height() for patch in axes.patches]
    assert heights == pytest.approx(probabilities.tolist())
    assert list(axes.get_xticks()) == list(range(10))
    assert axes.get_ylim() == (0, 1) and axes.get_ylabel() == "probability"
    assert "most likely 7 (probability 0.82)" in axes.get_title()


def test_prediction_refuses_a_batch():
    """Does passing all predictions instead of one row explain what to pass?"""
    with pytest.raises(ValueError, match="predictions\\[0\\]"):
        plot_prediction(np.zeros((2, 10)))
