"""The hidden checks: what only the grader's checker runs, never the student's notebook.

They judge the values a submission handed over (:mod:`course_lib.autograder.handover`)
against what the grader measures itself, in the sealed checking process
(:mod:`course_lib.autograder.checker`): :func:`assess` measures a network on test data
loaded through the grader's own settings, and :func:`check_tuned_accuracy` counts the
tuned network's training cost from its recipe (:mod:`course_lib.lesson.cost`), then builds
the network from its recipe alone and trains it (:mod:`course_lib.autograder.retrain`).
Every check raises ``AssertionError`` with a message that says what was expected, what was
found and what to do; a check that this machine could not finish raises
:class:`~course_lib.autograder.retrain.GradingStopped` instead, and the submission is not
graded.

Test cells import the visible checks from :mod:`course_lib.lesson.checks` and these from
here; notebooks generated before the course had packages import both from
``course_lib.grading``, which leads here.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np

from course_lib.autograder.language import _
from course_lib.autograder.retrain import GradingStopped, train_and_predict
from course_lib.lesson.architecture import (
    READY_MADE_NAME,
    describe_architecture,
    description_differences,
    ready_made_message,
)
from course_lib.lesson.checks import (  # noqa: F401 - old test cells import them from here
    ACCURACY_TOLERANCE,
    GAP_LIMIT,
    MAX_EPOCHS,
    MIN_OWN_DIGITS,
    check_architecture,
    check_comparison_quick,
    check_interpretation_quick,
    check_own_digits,
    check_own_handwriting,
    check_tuned_model,
    comparison_answers,
    expect_bool,
    expect_digit,
    expect_fraction,
    expect_whole_number,
    first_difference,
    interpretation_problems,
    raise_cost_problems,
    raise_recipe_problems,
    raise_tuned_problems,
    report_tuned_validation,
    require,
    require_model,
)
from course_lib.lesson.constants import LESSON_EXAMPLES, NUM_CLASSES
from course_lib.lesson.cost import training_cost
from course_lib.lesson.data import (
    lesson_example_source,
    lesson_examples,
    one_hot,
    prepare_images,
)
from course_lib.lesson.recipe import read_recipe
from course_lib.lesson.settings import PROFILES

GRADING_SEED = 2024  # the tuned network is retrained from this seed, the same for everyone


@dataclass(frozen=True)
class GradingData:
    """The data the grader judges with, loaded through its own settings, never the
    notebook's: the training images (validation split off) and the test images."""

    x_train: np.ndarray  # (n, 28, 28, 1), values 0-1
    y_train: np.ndarray  # digits 0-9
    x_test: np.ndarray
    y_test: np.ndarray
    source: object  # course_lib.lesson.data.DataSource
    profile: object  # course_lib.lesson.settings.Profile


@functools.lru_cache(maxsize=1)
def grading_data() -> GradingData:
    """The grader's data, loaded once per checking process."""
    from course_lib.lesson.data import lesson_split
    from course_lib.lesson.settings import profile_for

    (train_images, train_labels), _, (test_images, test_labels), source = lesson_split()
    return GradingData(prepare_images(train_images), train_labels, prepare_images(test_images),
                       test_labels, source, profile_for(source))


@dataclass(frozen=True)
class Assessment:
    """What the grader measured of a handed-over network."""

    architecture: dict  # course_lib.lesson.architecture.describe_architecture
    output_units: int | None
    test_accuracy: float
    test_size: int
    source: str  # the kind of data it was measured on: "full" or "sample"
    asked_predictions: dict  # the lesson's example index -> the network's ten probabilities


_assessments: dict[str, Assessment] = {}


def assess(model) -> Assessment:
    """Measure ``model`` on the grader's test data; cached per architecture and weights."""
    require_model(model, "model")
    key = _fingerprint(model)
    if key not in _assessments:
        _assessments[key] = _measure(model)
    return _assessments[key]


def _fingerprint(model) -> str:
    digest = hashlib.sha256(str(model.to_json()).encode())
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def _measure(model) -> Assessment:
    data = grading_data()
    try:
        test_probabilities = model.predict(data.x_test, batch_size=500, verbose=0)
        asked = model.predict(prepare_lesson_examples(), verbose=0)
    except Exception as error:  # noqa: BLE001 - a network that cannot run cannot pass
        raise AssertionError(_(
            "Your model could not classify the test images ({kind}: {error}). Its input "
            "should be (28, 28, 1) and its output 10 probabilities.").format(
            kind=type(error).__name__, error=error)) from error
    units = model.outputs[0].shape[-1]
    return Assessment(
        architecture=describe_architecture(model),
        output_units=None if units is None else int(units),
        test_accuracy=accuracy_of(test_probabilities, data.y_test),
        test_size=int(len(data.y_test)),
        source=data.source.kind,
        asked_predictions={index: row.tolist() for index, row in zip(LESSON_EXAMPLES, asked,
                                                                      strict=True)},
    )


def accuracy_of(probabilities, labels) -> float:
    """The share of ``labels`` that the rows of ``probabilities`` get right."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[0] != len(labels):
        raise AssertionError(_("Your model gives output of shape {shape}; it should give "
                               "({count}, {classes}): {classes} probabilities per image.")
                             .format(shape=probabilities.shape, count=len(labels),
                                     classes=NUM_CLASSES))
    return float((probabilities.argmax(axis=1) == labels).mean())


def prepare_lesson_examples() -> np.ndarray:
    """The lesson's two example digits as the network takes them: (2, 28, 28, 1), 0-1."""
    return prepare_images(lesson_examples())


def lesson_example_labels() -> dict[int, int]:
    """The true digits of the lesson's two examples (the sample's labels): the answer to
    assignment 1, which is why it lives with the grader and never in the students' library."""
    labels = lesson_example_source()[1]
    return {index: int(labels[index]) for index in LESSON_EXAMPLES}


def check_handed_in_own_digits(handed_in_own_digits: dict) -> None:
    """Hidden check: did the submission itself bring at least three own digit pictures?

    ``handed_in_own_digits``: each picture in the submission's own_digits, with None where
    it counts and otherwise why not (the grader's :mod:`course_lib.autograder.own_digits`).
    """
    counted = [name for name, why in handed_in_own_digits.items() if why is None]
    if len(counted) >= MIN_OWN_DIGITS:
        return
    not_counted = [f"{name}: {why}" for name, why in handed_in_own_digits.items() if why]
    raise AssertionError(
        _("Your submission holds {count} digit picture(s) of your own in own_digits; "
          "it needs at least {needed}. Copies of the sample digits, pictures without "
          "a readable digit and the same file twice do not count").format(
            count=len(counted), needed=MIN_OWN_DIGITS)
        + (_(" (not counted: {pictures})").format(pictures="; ".join(not_counted[:6]))
           if not_counted else "")
        + _(". Hand in the own_digits folder together with the notebook."))


def check_identified_digits(digit_4, digit_100) -> None:
    """Hidden check: are the digits named for training examples 4 and 100 their labels?"""
    answers = {4: expect_digit("digit_4", digit_4), 100: expect_digit("digit_100", digit_100)}
    truth = lesson_example_labels()
    wrong = [_("example {index} shows a {truth}, not a {answer}").format(
        index=i, truth=truth[i], answer=answers[i]) for i in answers if answers[i] != truth[i]]
    if wrong:
        raise AssertionError(_("Not quite: {problems}. Look at the pictures again.").format(
            problems="; ".join(wrong)))


def check_interpretation(assessment: dict, digits: dict, answers: dict) -> None:
    """Hidden check: do the answers match what the student's own network predicts?

    ``answers`` maps each asked example (4, 100) to (most_likely, probability, correct);
    ``digits`` to the digit the student read in it (assignment 1): ``correct`` says
    whether the network agrees with that reading.
    """
    rows = {index: np.asarray(assessment.asked_predictions[index]) for index in answers}
    problems = interpretation_problems(rows, digits, answers, reveal=True)
    if problems:
        raise AssertionError(_("Compare with the output of model.predict: {problems}.")
                             .format(problems="; ".join(problems)))


def check_accuracy_comparison(assessment: dict, history, train_accuracy, test_accuracy,
                              accuracy_gap, generalises_well) -> None:
    """Hidden check: are the accuracies, their gap and the verdict consistent with the model?"""
    train_accuracy, test_accuracy, accuracy_gap, generalises_well = comparison_answers(
        train_accuracy, test_accuracy, accuracy_gap, generalises_well)
    last_epoch = float(getattr(history, "history", history)["accuracy"][-1])
    measured = assessment.test_accuracy
    problems = []
    if abs(train_accuracy - last_epoch) > ACCURACY_TOLERANCE:
        problems.append(_("the training accuracy of the last epoch is {found:.3f}, not "
                          "{answer:.3f}").format(found=last_epoch, answer=train_accuracy))
    if abs(test_accuracy - measured) > ACCURACY_TOLERANCE:
        problems.append(_("your model's test accuracy is {found:.3f}, not {answer:.3f}")
                        .format(found=measured, answer=test_accuracy))
    if abs(accuracy_gap - (train_accuracy - test_accuracy)) > ACCURACY_TOLERANCE:
        problems.append(_("the gap should be train_accuracy - test_accuracy = {found:.3f}, "
                          "not {answer:.3f}").format(found=train_accuracy - test_accuracy,
                                                     answer=accuracy_gap))
    if generalises_well != (accuracy_gap <= GAP_LIMIT):
        problems.append(_("with a gap of {gap:.3f} the lesson's rule (at most {limit}) says "
                          "generalises_well = {verdict}").format(
            gap=accuracy_gap, limit=GAP_LIMIT, verdict=accuracy_gap <= GAP_LIMIT))
    if problems:
        raise AssertionError(_("Not consistent yet: {problems}.").format(
            problems="; ".join(problems)))


def check_reference_architecture(assessment: dict) -> None:
    """Hidden check: does the saved model have the lesson's architecture and compile settings?"""
    if assessment.architecture.get("name") == READY_MADE_NAME:
        raise AssertionError(ready_made_message())
    first_difference(description_differences(assessment.architecture))


def check_accuracy(assessment: dict, kind: str = "reference") -> None:
    """Hidden check: does the model clear the pass mark for its data on the full test set?"""
    profile = PROFILES[assessment.source]
    threshold = profile.reference_threshold if kind == "reference" else profile.tuned_threshold
    accuracy = assessment.test_accuracy
    if accuracy < threshold:
        verdict = _("Your model classifies {accuracy:.3f} of the {count:,} test digits "
                    "correctly; it needs at least {mark:.2f} on {data}. Check that "
                    "it trained for all epochs and that the data was prepared (values 0-1, "
                    "one-hot labels).") if kind == "reference" else \
            _("Your tuned model classifies {accuracy:.3f} of the {count:,} test digits "
              "correctly; it needs at least {mark:.2f} on {data}. Try Adam, more "
              "epochs, more filters or dropout (see the tips above).")
        raise AssertionError(verdict.format(accuracy=accuracy, count=assessment.test_size,
                                            mark=threshold, data=profile.data_name))


def check_tuned_structure(tuned_model) -> None:
    """Hidden check: is the tuned model's recipe a compiled CNN for MNIST within budget?

    Judged on the recipe (:mod:`course_lib.lesson.recipe`), the same data the accuracy
    check trains. An :class:`Assessment` (the hidden test of courses generated before
    recipes) is judged as it describes the network.
    """
    if isinstance(tuned_model, Assessment):
        raise_tuned_problems(tuned_model.architecture, tuned_model.output_units,
                             PROFILES[tuned_model.source])
        return
    require_model(tuned_model, "tuned_model")
    raise_recipe_problems(read_recipe(tuned_model), grading_data().profile)


def check_tuned_accuracy(tuned_model, tuned_epochs, tuned_batch_size) -> None:
    """Hidden check: does the tuned network's recipe train a network that clears the mark?

    The recipe (:mod:`course_lib.lesson.recipe`: the architecture, the optimizer and its
    settings, ``tuned_epochs`` and ``tuned_batch_size``) is read as data and checked
    against the rules; its training cost is counted (:mod:`course_lib.lesson.cost`) and a
    recipe over the budget is refused before any training, the same on every machine.
    Otherwise a fresh network is built from the recipe alone and trained here, seeded, on
    the training data only. The weights handed in, and whatever initialisers or optimizer
    settings could carry, play no part: training on the test images or loading a network
    trained elsewhere gains nothing.

    Training that outlasts the safety net (:func:`training_budget`, seconds) on a recipe
    within the budget is this machine's failing, not the student's: it raises
    :class:`~course_lib.autograder.retrain.GradingStopped`, and the submission is reported
    as not graded rather than scored.
    """
    require_model(tuned_model, "tuned_model")
    data = grading_data()
    profile = data.profile
    epochs = expect_whole_number("tuned_epochs", tuned_epochs, 1, MAX_EPOCHS)
    batch_size = expect_whole_number("tuned_batch_size", tuned_batch_size)
    recipe = read_recipe(tuned_model)
    notes = (" " + recipe.notes_sentence()) if recipe.notes else ""
    measure = functools.partial(_measured, data=data.source.kind, epochs=epochs,
                                batch_size=batch_size, budget=profile.tuned_max_cost)
    try:
        raise_recipe_problems(recipe, profile)
    except AssertionError as error:
        measure("breaks_rules")
        raise AssertionError(f"{error}" + _(" A network that breaks the rules earns no "
                                            "accuracy points either.") + notes) from None
    try:
        cost = raise_cost_problems(recipe, epochs, batch_size, profile)
    except AssertionError as error:
        measure("over_budget", cost=training_cost(recipe, epochs, batch_size,
                                                  profile.training_examples).total)
        raise AssertionError(f"{error}{notes}") from None
    network = recipe.build(seed=GRADING_SEED)
    measure = functools.partial(measure, cost=cost.total,
                                parameters=int(network.count_params()))
    seconds = training_budget(profile)
    training = train_and_predict(network, data.x_train, one_hot(data.y_train), data.x_test,
                                 epochs=epochs, batch_size=batch_size, seconds=seconds)
    if not training.finished:
        raise GradingStopped(_(
            "Not graded: the grading machine could not train this recipe in time. Its cost "
            "({cost:,.0f} billion multiply-adds) is within the budget of {budget:,.0f} "
            "billion, but after the grader's time limit of {seconds:.0f} s its training was "
            "{progress}: the machine was too slow or too busy, which is not the student's "
            "doing. Grade this submission again on a quieter machine, or give the grader "
            "more time with c.GradeInSandbox.training_budget_seconds in "
            "nbgrader_config.py.").format(
            cost=cost.total / 1e9, budget=profile.tuned_max_cost / 1e9, seconds=seconds,
            progress=training.progress()))
    accuracy = accuracy_of(training.probabilities, data.y_test)
    measure("trained", accuracy=float(accuracy), test_size=len(data.y_test),
            passed=bool(accuracy >= profile.tuned_threshold))
    try:
        check_accuracy(Assessment(
            architecture={}, output_units=NUM_CLASSES, source=data.source.kind,
            test_size=len(data.y_test), asked_predictions={},
            test_accuracy=accuracy), "tuned")
    except AssertionError as error:
        raise AssertionError(f"{error}{notes}") from None


_measurement: dict | None = None  # what the last check measured of a tuned recipe


def _measured(status: str, **facts) -> None:
    """Keep what :func:`check_tuned_accuracy` found of the recipe, for the teacher's side.

    ``status``: ``trained`` (with the accuracy the grader measured), ``over_budget`` or
    ``breaks_rules`` (not trained). The checker hands it on with the verdict
    (:func:`take_measurement`); nothing the student's kernel said is in it.
    """
    global _measurement
    _measurement = {"status": status, **facts}


def take_measurement() -> dict | None:
    """What the last check measured of a tuned recipe, if any; forgotten once taken."""
    global _measurement
    found, _measurement = _measurement, None
    return found


_budget_seconds: float | None = None  # the teacher's setting, when it replaces the profile's


def set_training_budget(seconds: float | None) -> None:
    """Use ``seconds`` as the safety net of the tuned network's training (None: the data
    profile's ``tuned_max_seconds``).

    The checker calls it with ``c.GradeInSandbox.training_budget_seconds``.
    """
    global _budget_seconds
    _budget_seconds = seconds or None


def training_budget(profile) -> float:
    """The safety net of the tuned network's training, in seconds: past it, training is
    stopped and the submission not graded. The budget itself is counted, not timed."""
    return float(_budget_seconds or profile.tuned_max_seconds)
