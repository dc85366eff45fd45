"""Do the explaining pictures show the right numbers in the right places?"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.lesson.explain import (
    confusion_matrix,
    plot_before_after,
    plot_confusion_matrix,
    plot_feature_maps,
    plot_filters,
    plot_misclassified,
)
from course_lib.teacher.training import build_reference_cnn


def test_confusion_matrix_counts():
    """Is each (true, predicted) pair counted in row true, column predicted?"""
    matrix = confusion_matrix([1, 1, 7, 7, 7], [1, 7, 7, 7, 1])
    assert matrix[1, 1] == 1 and matrix[1, 7] == 1 and matrix[7, 7] == 2 and matrix[7, 1] == 1
    assert matrix.sum() == 5


def test_confusion_matrix_refuses_mismatched_lengths():
    """Does a wrong number of predictions say what to pass?"""
    with pytest.raises(ValueError, match="one prediction per test image"):
        confusion_matrix([1, 2, 3], [1, 2])


def test_confusion_matrix_plot():
    """Are the axes labelled, the counts written, and the accuracy in the title?"""
    figure = plot_confusion_matrix([0, 1, 2, 2], [0, 1, 2, 3])
    axes = figure.axes[0]
    assert axes.get_xlabel() == "predicted digit" and axes.get_ylabel() == "true digit"
    assert "accuracy 0.750" in axes.get_title()
    np.testing.assert_array_equal(axes.images[0].get_array(),
                                  confusion_matrix([0, 1, 2, 2], [0, 1, 2, 3]))
    assert sorted(text.get_text() for text in axes.texts) == ["1", "1", "1", "1"]


def test_misclassified_gallery():
    """Are exactly the wrong digits shown, titled with the true and predicted digit?"""
    images = np.zeros((4, 28, 28))
    probabilities = np.eye(10)[[3, 5, 8, 1]] * 0.9 + 0.01
    figure = plot_misclassified(images, [3, 6, 8, 2], probabilities, columns=2)
    titles = [axes.get_title() for axes in figure.axes if axes.images]
    assert titles == ["true 6, says 5\n(0.91)", "true 2, says 1\n(0.91)"]
    assert figure.get_suptitle().startswith("2 of 4 digits wrong")


def test_before_after():
    """Is each own digit shown twice, as photographed and as prepared with the prediction?"""
    originals = [np.ones((50, 40)), np.zeros((30, 30))]
    prepared = np.zeros((2, 28, 28))
    probabilities = np.eye(10)[[7, 2]]
    figure = plot_before_after(originals, prepared, probabilities, names=["7_a.png", "2.jpg"])
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["7_a.png", "2.jpg", "says 7 (1.00)", "says 2 (1.00)"]
    assert figure.axes[0].images[0].get_array().shape == (50, 40)


def test_filters_and_feature_maps():
    """Are the 32 filters of the first convolution shown, and their 26x26 feature maps?"""
    model = build_reference_cnn()
    filters = plot_filters(model)
    shown = [axes.images[0].get_array() for axes in filters.axes if axes.images]
    assert len(shown) == 32 and shown[0].shape == (3, 3)
    maps = plot_feature_maps(model, np.random.default_rng(0).random((28, 28)))
    shown = [axes.images[0].get_array() for axes in maps.axes if axes.images]
    assert len(shown) == 32 and shown[0].shape == (26, 26)
