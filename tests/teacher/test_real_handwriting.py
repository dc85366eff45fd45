"""Is real handwriting from outside MNIST read better after the course's preparation?

scikit-learn's 1,797 digits by 43 writers, drawn as photos (dark ink on uneven paper) and
read by the lesson's network and the model solution's tuned network, both trained on the
embedded sample. The course's preparation must do at least as well as MNIST's plain
recipe, and far better than only shrinking the photo.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.drawn import draw_seven

from course_lib.lesson.handwriting import prepare_digit, stroke_width
from course_lib.teacher.handwriting_check import accuracies, sklearn_photos

pytestmark = pytest.mark.slow


def test_course_preparation_beats_the_plain_recipe(sample_networks):
    """For both networks: course >= plain recipe >= far above only shrinking."""
    photos, labels = sklearn_photos()
    found = accuracies({"lesson network": sample_networks["lesson"]["model"],
                        "tuned network": sample_networks["tuned"]}, photos, labels)
    for network, row in found.items():
        print(f"{network}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
    for row in found.values():
        assert row["course"] >= row["plain recipe"]
        assert row["course"] >= row["only shrunk"] + 0.3


def mnist_widths(data):
    _, (images, _), _ = data
    return [stroke_width(image / 255 > 0.5) for image in images[:300]]


@pytest.mark.parametrize("pen", [1, 45])
def test_thin_and_bold_pens_get_mnist_strokes(sample_networks, pen):
    """A one-pixel pen and a felt-tip both come out with a stroke width MNIST digits have."""
    low, high = np.percentile(mnist_widths(sample_networks["data"]), [5, 95])
    digit = prepare_digit(draw_seven(width=pen))
    assert low <= stroke_width(digit > 0.5) <= high


def test_bold_ink_is_not_dimmed():
    """Background removal never dims the digit's own ink, however bold the pen."""
    digit = prepare_digit(draw_seven(width=60, gradient=0.3, noise=0.03))
    ink = digit[digit > 0.3]
    assert np.median(ink) > 0.9
