"""Are honest answers graded right when the grading computer has other data than the student?

The student worked on the embedded sample and typed the digits they read; the grading
computer has a full MNIST (here a stand-in of the full set's size and format). The notebook
runs again on the grader's data: the typed digits must still count, and the answers that
the lesson asks to compute must follow the grader's run.
"""

from __future__ import annotations

import os

import pytest
from helpers.course import cell_scores, new_course
from helpers.mnist import tiny_mnist, write_npz
from helpers.submissions import WEAK_WORK_SCORES, autograded_outputs, hand_in, weak_work

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher.autograde import autograde

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")]


@pytest.fixture(scope="module")
def graded_on_other_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("other-data")
    course = new_course(folder / "course", extra_config="c.Execute.timeout = 120")
    hand_in(course, "typed-on-sample", weak_work(course))  # own digits made from the sample
    full = write_npz(folder / "mnist.npz", tiny_mnist(train_size=6000, test_size=500))
    os.environ["COURSE_MNIST_PATH"] = str(full)
    try:
        [outcome] = autograde(course, ["typed-on-sample"])
    finally:
        del os.environ["COURSE_MNIST_PATH"]
    return course, outcome


def test_typed_and_computed_answers_hold_on_the_graders_data(graded_on_other_data):
    """The same score as on the sample; the pass mark that applies is the full set's."""
    course, outcome = graded_on_other_data
    assert outcome.ok, outcome.message
    found = cell_scores(course, "typed-on-sample")
    assert {cell: found[cell] for cell in WEAK_WORK_SCORES} == WEAK_WORK_SCORES
    message = autograded_outputs(course, "typed-on-sample")["test_network_accuracy"][0]
    assert "needs at least 0.90 on this data" in message  # the full set's mark, not 0.80
