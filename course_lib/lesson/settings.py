"""The numbers that depend on which MNIST is in use, in one place.

The lesson trains on the full MNIST when it can (60,000 training digits) and on the
embedded sample when it cannot (4,000). The same network needs more passes over the
small sample to make a comparable number of weight updates, and reaches a lower accuracy
on it, so training lengths and pass marks come in two profiles.

How the thresholds were chosen (measured on 2 CPU cores, seeds varied; see README):

* ``full``: the reference CNN with SGD, 3 epochs of batch 64, reaches about 0.97 test
  accuracy on the full MNIST; 0.90 leaves room for an unlucky start but fails a network
  that is built or trained wrongly. A tuned network (e.g. Adam, a few more epochs)
  reaches 0.99; 0.98 asks for a real improvement.
* ``sample``: the reference CNN with SGD, 20 epochs of batch 64 on 3,500 digits, reaches
  about 0.91 on the 1,000 test digits; 0.80 is the pass mark. Tuned networks reach 0.96
  and more; 0.94 asks for a real improvement.
"""

from __future__ import annotations

from dataclasses import dataclass

from course_lib.lesson.constants import FULL, SAMPLE


@dataclass(frozen=True)
class Profile:
    """Training lengths and pass marks for one kind of data."""

    name: str
    validation_size: int  # images split off the training set to watch training
    epochs: int  # epochs the lesson trains the reference network for
    batch_size: int
    reference_threshold: float  # test accuracy the lesson's network must reach
    tuned_threshold: float  # test accuracy the student's tuned network must reach
    tuned_max_parameters: int  # the tuned network's size budget
    tuned_max_seconds: float  # the tuned network's training-time budget on a laptop


PROFILES = {
    FULL: Profile(FULL, validation_size=5000, epochs=3, batch_size=64,
                  reference_threshold=0.90, tuned_threshold=0.98,
                  tuned_max_parameters=500_000, tuned_max_seconds=300),
    SAMPLE: Profile(SAMPLE, validation_size=500, epochs=20, batch_size=64,
                    reference_threshold=0.80, tuned_threshold=0.94,
                    tuned_max_parameters=500_000, tuned_max_seconds=120),
}


def profile_for(source) -> Profile:
    """The profile for the data that :func:`course_lib.lesson.data.load_mnist` used (its
    :class:`~course_lib.lesson.data.DataSource`)."""
    return PROFILES[source.kind]
