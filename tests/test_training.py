"""Does the reference CNN really learn on the embedded sample (a short, honest training)?"""

from __future__ import annotations

import pytest

from course_lib.data import load_mnist
from course_lib.training import train_reference


@pytest.mark.slow
def test_reference_cnn_beats_chance_on_the_embedded_sample(capsys):
    """After 8 epochs on the sample, is test accuracy far above the 10% of guessing?"""
    data = load_mnist()
    assert data[2].kind == "sample"
    result = train_reference(epochs=8, data=data)
    print(f"embedded-sample test accuracy after 8 epochs: {result['test_accuracy']:.3f}")
    assert result["train_size"] == 3500
    assert len(result["history"].history["val_accuracy"]) == 8
    assert result["test_accuracy"] > 0.6
    # The loss went down: the network learned something, it did not just get lucky.
    losses = result["history"].history["loss"]
    assert losses[-1] < 0.5 * losses[0]
