"""Training a recipe under a safety net of time that holds inside an epoch (checker only).

The tuned network's budget is counted from its recipe before any training
(:mod:`course_lib.lesson.cost`), so a recipe over it never gets here. The time limit of
this module is only a safety net for a grading machine that cannot keep up (too slow, or
too busy): it is checked after every batch, not only after every epoch, so one very long
epoch is stopped too; and training runs in a thread the checker stops waiting for once the
limit and :data:`HARD_MARGIN_SECONDS` have passed, in case a single batch takes longer than
the whole limit. A checker that stopped waiting ends its process as soon as it has answered
(:data:`abandoned`), so the abandoned training dies with it.

When the safety net stops a recipe within the budget, the check raises
:class:`GradingStopped`: the grader's verdict is then not a score but "not graded", and
:func:`raise_if_stopped` makes the grading of that submission fail, so that ``course
autograde`` names it among the students to grade again.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from course_lib.autograder.language import _

HARD_MARGIN_SECONDS = 10.0  # how long past the limit the checker waits for one batch
abandoned = threading.Event()  # set when training was left running; the checker exits hard


class GradingStopped(RuntimeError):
    """The grading machine could not finish a check in time: the submission is not graded.

    Not an ``AssertionError``: it is no verdict on the student's work, and never a score.
    """


def raise_if_stopped(verdicts) -> None:
    """Fail the grading of a submission if a check of it raised :class:`GradingStopped`.

    ``verdicts``: the checker's :class:`~course_lib.autograder.handover.Verdict` list. nbgrader
    then records no scores for the submission and ``course autograde`` lists it as not
    graded, with the command that grades it again.
    """
    for verdict in verdicts:
        if not verdict.passed and verdict.ename == GradingStopped.__name__:
            raise GradingStopped(f"{verdict.grade_id}: {verdict.message}")


@dataclass
class Training:
    """How a recipe's training went: finished in time, or where it was stopped."""

    finished: bool
    epochs: int
    epoch: int = 0  # the epoch it was in (1-based) when stopped
    fraction: float = 0.0  # how much of that epoch was done
    seconds: float = 0.0
    probabilities: object = None  # the trained network's output on the test images

    def progress(self) -> str:
        """Where training stopped, in words: 'stopped after 37% of epoch 1 of 3'."""
        where = _("stopped after {fraction:.0%} of epoch {epoch} of {epochs}") \
            if self.fraction < 1 else _("stopped after epoch {epoch} of {epochs}")
        return where.format(fraction=self.fraction, epoch=self.epoch, epochs=self.epochs)


def train_and_predict(network, x_train, y_train, x_test, *, epochs: int, batch_size: int,
                      seconds: float) -> Training:
    """Train ``network`` for ``epochs`` within ``seconds``; then its test probabilities.

    Returns a finished :class:`Training` with the probabilities, or an unfinished one that
    says where the time ran out.
    """
    import keras

    steps = max(1, math.ceil(len(x_train) / batch_size))
    started = time.perf_counter()
    position = {"epoch": 0, "steps": 0, "over": False}

    class Budget(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            position.update(epoch=epoch + 1, steps=0)

        def on_train_batch_end(self, batch, logs=None):
            position["steps"] = batch + 1
            if time.perf_counter() - started > seconds:
                position["over"] = True
                self.model.stop_training = True

    result: dict = {}

    def work():
        try:
            network.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0,
                        callbacks=[Budget()])
            if not position["over"]:
                result["probabilities"] = network.predict(x_test, batch_size=500, verbose=0)
        except BaseException as error:  # noqa: BLE001 - reported by the waiting thread
            result["error"] = error

    worker = threading.Thread(target=work, name="recipe-training", daemon=True)
    worker.start()
    worker.join(seconds + HARD_MARGIN_SECONDS)
    elapsed = time.perf_counter() - started
    if worker.is_alive():
        network.stop_training = True
        abandoned.set()
        position["over"] = True
    if "error" in result:
        raise result["error"]
    stopped = Training(False, epochs, position["epoch"], position["steps"] / steps, elapsed)
    if position["over"] or "probabilities" not in result:
        return stopped
    return Training(True, epochs, epochs, 1.0, elapsed, result["probabilities"])
