"""The numbers that depend on which MNIST is in use, in one place.

The lesson trains on the full MNIST when it can (60,000 training digits) and on the
embedded sample when it cannot (4,000). The same network needs more passes over the
small sample to make a comparable number of weight updates, and reaches a lower accuracy
on it, so training lengths and pass marks come in two profiles.

How the thresholds were chosen (measured on 2 CPU cores, seeds varied; see the benchmarks page):

* ``full``: the reference CNN with SGD, 3 epochs of batch 64, reaches about 0.97 test
  accuracy on the full MNIST; 0.90 leaves room for an unlucky start but fails a network
  that is built or trained wrongly. A tuned network (e.g. Adam, a few more epochs)
  reaches 0.99; 0.98 asks for a real improvement.
* ``sample``: the reference CNN with SGD, 20 epochs of batch 64 on 3,500 digits, reaches
  about 0.91 on the 1,000 test digits; 0.80 is the pass mark. Tuned networks reach 0.96
  and more; 0.94 asks for a real improvement.

How the tuned network's training budget was chosen: it is a count of work, not a time
(:mod:`course_lib.lesson.cost`), so that a recipe is judged the same on every machine. The
model solution's recipe (two Conv2D blocks, dropout, Adam, batch 64) costs 558 billion
multiply-adds on the sample (15 epochs of 3,500 digits), 23% of its budget of 2,400
billion, and 2,921 billion on the full data (5 epochs of 55,000), 49% of 6,000 billion:
room for a few times the solution's epochs on the sample, about twice on the full data,
as the time budgets before it allowed. ``tuned_max_seconds`` is only a safety net for a
grading machine that cannot keep up (``benchmarks/training_cost.py``, 2 cores): the model
solution trained for the whole sample budget (64 epochs) took 49-74 s, and the slowest of
the recipes timed ran at 18 billion multiply-adds a second, 135 s for the sample budget and
about 340 s for the full one: 480 s and 1,200 s are 3.5 times that.
"""

from __future__ import annotations

from dataclasses import dataclass

from course_lib.lesson.constants import FULL, SAMPLE
from course_lib.lesson.language import _


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
    training_examples: int  # what the tuned network trains on: the training set less validation
    tuned_max_cost: int  # the tuned network's training budget in multiply-adds (lesson.cost)
    tuned_max_seconds: float  # the grader's safety net: training stopped, submission not graded

    @property
    def data_name(self) -> str:
        """The data this profile is for, in words for a sentence in the current language."""
        return _("the full MNIST") if self.name == FULL else _("the MNIST sample")


PROFILES = {
    FULL: Profile(FULL, validation_size=5000, epochs=3, batch_size=64,
                  reference_threshold=0.90, tuned_threshold=0.98,
                  tuned_max_parameters=500_000, training_examples=55_000,
                  tuned_max_cost=6_000 * 10**9, tuned_max_seconds=1200),
    SAMPLE: Profile(SAMPLE, validation_size=500, epochs=20, batch_size=64,
                    reference_threshold=0.80, tuned_threshold=0.94,
                    tuned_max_parameters=500_000, training_examples=3_500,
                    tuned_max_cost=2_400 * 10**9, tuned_max_seconds=480),
}


def profile_for(source) -> Profile:
    """The profile for the data that :func:`course_lib.lesson.data.load_mnist` used (its
    :class:`~course_lib.lesson.data.DataSource`)."""
    return PROFILES[source.kind]
