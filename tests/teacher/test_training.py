"""Does the reference CNN really learn on the embedded sample (the lesson's own training)?"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_reference_cnn_learns_on_the_embedded_sample(sample_networks):
    """After the lesson's 20 epochs on the sample, is test accuracy far above guessing?"""
    result = sample_networks["lesson"]
    assert sample_networks["data"][2].kind == "sample"
    print(f"embedded-sample test accuracy after {result['epochs']} epochs: "
          f"{result['test_accuracy']:.3f}")
    assert result["train_size"] == 3500
    assert len(result["history"].history["val_accuracy"]) == result["epochs"] == 20
    assert result["test_accuracy"] > 0.8  # the lesson's pass mark on the sample
    # The loss went down: the network learned something, it did not just get lucky.
    losses = result["history"].history["loss"]
    assert losses[-1] < 0.5 * losses[0]
