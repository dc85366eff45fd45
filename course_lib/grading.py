"""What the lesson's test cells call: checks with messages a student can act on.

Visible tests use the quick checks (types, ranges, the architecture of the model in the
notebook); they run in the student's notebook while they work. While grading, every test
cell, visible and hidden parts, runs in the checker (:mod:`course_lib.judge`), a fresh
process where no student code ran, on values the notebook handed over. There
:func:`assess` measures a network on test data loaded through the grader's settings, and
:func:`check_tuned_accuracy` retrains the tuned network from its recipe.

Every check raises ``AssertionError`` with a message that says what was expected, what was
found and what to do.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np

from course_lib.architecture import (
    READY_MADE_MESSAGE,
    READY_MADE_NAME,
    architecture_differences,
    description_differences,
)
from course_lib.constants import INPUT_SHAPE
from course_lib.data import LESSON_EXAMPLES, lesson_examples
from course_lib.recipe import Recipe, read_recipe
from course_lib.settings import PROFILES

GAP_LIMIT = 0.05  # the lesson's rule: a model generalises well if the gap is at most this
PROBABILITY_TOLERANCE = 0.01  # answers may be rounded to two decimals
ACCURACY_TOLERANCE = 0.01
GRADING_SEED = 2024  # the tuned network is retrained from this seed, the same for everyone

_assessments: dict[str, dict] = {}


def check_architecture(model) -> None:
    """Check the notebook's model against the lesson's architecture (a quick, visible check)."""
    _require_model(model, "model")
    if getattr(model, "name", "") == READY_MADE_NAME:
        raise AssertionError(READY_MADE_MESSAGE)
    _raise_differences(architecture_differences(model))


def _raise_differences(differences: list[str]) -> None:
    if differences:
        more = f" (and {len(differences) - 1} more difference(s) after you fix this one)" \
            if len(differences) > 1 else ""
        raise AssertionError(differences[0] + more)


def _require_model(model, name: str) -> None:
    if not hasattr(model, "layers") or not hasattr(model, "predict"):
        raise AssertionError(
            f"`{name}` should be a Keras model, but it is a {type(model).__name__}. "
            f"Build it with keras.Sequential([...]) and assign it to `{name}`."
        )


def assess(model) -> dict:
    """Measure ``model`` on test data loaded afresh; cached per architecture and weights.

    Returns the architecture description, output shape, test accuracy, data source and
    the predictions for the training examples the lesson asks about. Called by hidden
    tests, which run only in the checker.
    """
    _require_model(model, "model")
    key = _fingerprint(model)
    if key not in _assessments:
        _assessments[key] = _measure(model)
    return _assessments[key]


def _fingerprint(model) -> str:
    digest = hashlib.sha256(str(model.to_json()).encode())
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _grading_data():
    from course_lib.data import load_mnist, prepare_images, split_validation
    from course_lib.settings import profile_for

    train, test, source = load_mnist(quiet=True)
    profile = profile_for(source)
    (train_images, train_labels), _ = split_validation(*train, profile.validation_size)
    return {"x_train": prepare_images(train_images), "y_train": train_labels,
            "x_test": prepare_images(test[0]), "y_test": test[1], "source": source,
            "profile": profile}


def _measure(model) -> dict:
    from course_lib.architecture import describe_architecture

    data = _grading_data()
    try:
        test_probabilities = model.predict(data["x_test"], batch_size=500, verbose=0)
        asked = model.predict(prepare_lesson_examples(), verbose=0)
    except Exception as error:  # noqa: BLE001 - a network that cannot run cannot pass
        raise AssertionError(
            f"Your model could not classify the test images ({type(error).__name__}: "
            f"{error}). Its input should be (28, 28, 1) and its output 10 probabilities."
        ) from error
    return {
        "architecture": describe_architecture(model),
        "output_shape": [None if d is None else int(d) for d in model.outputs[0].shape],
        "test_accuracy": _accuracy(test_probabilities, data["y_test"]),
        "test_size": int(len(data["y_test"])),
        "source": data["source"].kind,
        "asked_predictions": {str(i): row.tolist() for i, row in zip(LESSON_EXAMPLES, asked,
                                                                      strict=True)},
    }


def _accuracy(probabilities, labels) -> float:
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape[0] != len(labels):
        raise AssertionError(f"Your model gives output of shape {probabilities.shape}; "
                             f"it should give ({len(labels)}, 10): 10 probabilities per image.")
    return float((probabilities.argmax(axis=1) == labels).mean())


def require(namespace: dict, *names: str) -> None:
    """Check that the answer variables ``names`` exist; say which are missing, plainly."""
    missing = [name for name in names if name not in namespace]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        raise AssertionError(f"You have not defined {listed} yet: fill in the answer cell "
                             "above this check, run it, then run this check again.")


def _comparison_answers(train_accuracy, test_accuracy, accuracy_gap, generalises_well):
    """Assignment 3's four answers checked for form: (float, float, float, bool)."""
    train_accuracy = expect_fraction("train_accuracy", train_accuracy)
    test_accuracy = expect_fraction("test_accuracy", test_accuracy)
    if isinstance(accuracy_gap, (bool, np.bool_)) or \
            not isinstance(accuracy_gap, (int, float, np.number)):
        raise AssertionError(f"`accuracy_gap` should be a number, but it is {accuracy_gap!r}.")
    return (train_accuracy, test_accuracy, float(accuracy_gap),
            expect_bool("generalises_well", generalises_well))


def check_comparison_quick(history, test_result, train_accuracy, test_accuracy,
                           accuracy_gap, generalises_well) -> None:
    """Visible check: the comparison against ``history`` and ``test_result``, with values."""
    train_accuracy, test_accuracy, accuracy_gap, generalises_well = _comparison_answers(
        train_accuracy, test_accuracy, accuracy_gap, generalises_well)
    last_epoch = float(getattr(history, "history", history)["accuracy"][-1])
    problems = []
    if abs(train_accuracy - last_epoch) > ACCURACY_TOLERANCE:
        problems.append(f"train_accuracy is {train_accuracy:.3f}, but the last value of "
                        f"history.history['accuracy'] is {last_epoch:.3f}")
    if abs(test_accuracy - float(test_result)) > ACCURACY_TOLERANCE:
        problems.append(f"test_accuracy is {test_accuracy:.3f}, but test_result is "
                        f"{float(test_result):.3f}")
    if abs(float(accuracy_gap) - (train_accuracy - test_accuracy)) > ACCURACY_TOLERANCE:
        problems.append(f"accuracy_gap is {float(accuracy_gap):.3f}, but train_accuracy - "
                        f"test_accuracy is {train_accuracy - test_accuracy:.3f}")
    elif generalises_well != (float(accuracy_gap) <= GAP_LIMIT):
        problems.append(f"with a gap of {float(accuracy_gap):.3f}, the rule (at most "
                        f"{GAP_LIMIT}) gives generalises_well = {float(accuracy_gap) <= GAP_LIMIT}")
    if problems:
        raise AssertionError("Not consistent yet: " + "; ".join(problems) + ".")


MIN_OWN_DIGITS = 3


def check_own_handwriting(own_files) -> None:
    """Visible check: at least three digits of the student's own, not only the samples."""
    own = [name for name in own_files if str(name).startswith("own_digits/")]
    if len(own) < MIN_OWN_DIGITS:
        raise AssertionError(
            f"The network read {len(own)} digit(s) of your own; this assignment needs at "
            f"least {MIN_OWN_DIGITS}. The sample digits are only for trying the code: put "
            "photos of digits you wrote into own_digits (e.g. 7_mine.jpg), or draw them on "
            "the canvas above and save them, then run the notebook again.")


def check_handed_in_own_digits(handed_in_own_digits: dict) -> None:
    """Hidden check: did the submission itself bring at least three own digit pictures?

    ``handed_in_own_digits``: each picture in the submission's own_digits, with None where
    it counts and otherwise why not (the grader's :mod:`course_lib.own_digits`).
    """
    counted = [name for name, why in handed_in_own_digits.items() if why is None]
    if len(counted) >= MIN_OWN_DIGITS:
        return
    not_counted = [f"{name}: {why}" for name, why in handed_in_own_digits.items() if why]
    raise AssertionError(
        f"Your submission holds {len(counted)} digit picture(s) of your own in own_digits; "
        f"it needs at least {MIN_OWN_DIGITS}. Copies of the sample digits, pictures without "
        "a readable digit and the same file twice do not count"
        + (f" (not counted: {'; '.join(not_counted[:6])})" if not_counted else "")
        + ". Hand in the own_digits folder together with the notebook.")


def prepare_lesson_examples() -> np.ndarray:
    """The lesson's two example digits as the network takes them: (2, 28, 28, 1), 0-1."""
    return lesson_examples().reshape(-1, 28, 28, 1).astype("float32") / 255


def lesson_example_labels() -> dict[int, int]:
    """The true digits of the lesson's two examples (the sample's labels)."""
    from course_lib.data import _lesson_example_pairs

    return dict(zip(LESSON_EXAMPLES, (int(v) for v in _lesson_example_pairs()[1]),
                    strict=True))


def expect_digit(name: str, value) -> int:
    """Check that an answer is a single digit 0-9 and return it as an int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise AssertionError(
            f"`{name}` should be a whole number from 0 to 9, but it is {value!r} "
            f"({type(value).__name__}). Write e.g. `{name} = 3`."
        )
    if not 0 <= value <= 9:
        raise AssertionError(f"`{name}` should be a digit from 0 to 9, but it is {value}.")
    return int(value)


def expect_fraction(name: str, value) -> float:
    """Check that an answer is a number between 0 and 1 (a probability or an accuracy)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise AssertionError(
            f"`{name}` should be a number between 0 and 1, but it is {value!r}. "
            "Write it as a decimal number, e.g. 0.93 (not 93 and not '93%')."
        )
    value = float(value)
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        hint = " Write a fraction: 93% is 0.93." if 1 < value <= 100 else ""
        raise AssertionError(f"`{name}` should lie between 0 and 1, but it is {value}.{hint}")
    return value


def expect_bool(name: str, value) -> bool:
    """Check that an answer is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise AssertionError(
            f"`{name}` should be True or False (without quotes), but it is {value!r}."
        )
    return bool(value)


def check_identified_digits(digit_4, digit_100) -> None:
    """Hidden check: are the digits named for training examples 4 and 100 their labels?"""
    answers = {4: expect_digit("digit_4", digit_4), 100: expect_digit("digit_100", digit_100)}
    truth = lesson_example_labels()
    wrong = [f"example {i} shows a {truth[i]}, not a {answers[i]}" for i in answers
             if answers[i] != truth[i]]
    if wrong:
        raise AssertionError("Not quite: " + "; ".join(wrong) + ". Look at the pictures again.")


def check_interpretation(assessment: dict, digits: dict, answers: dict) -> None:
    """Hidden check: do the answers match what the student's own network predicts?

    ``answers`` maps each asked example (4, 100) to (most_likely, probability, correct);
    ``digits`` to the digit the student read in it (assignment 1): ``correct`` says
    whether the network agrees with that reading.
    """
    rows = {index: np.asarray(assessment["asked_predictions"][str(index)]) for index in answers}
    problems = _interpretation_problems(rows, digits, answers, reveal=True)
    if problems:
        raise AssertionError("Compare with the output of model.predict: " + "; ".join(problems)
                             + ".")


def check_interpretation_quick(predictions, digits: dict, answers: dict) -> None:
    """Visible check: do the answers agree with ``predictions`` (row 0: example 4, row 1:
    example 100)? Says which answer disagrees without saying the right value."""
    rows = {index: np.asarray(predictions)[row] for row, index in enumerate(answers)}
    problems = _interpretation_problems(rows, digits, answers, reveal=False)
    if problems:
        raise AssertionError("Look again: " + "; ".join(problems) + ".")


def _interpretation_problems(rows: dict, digits: dict, answers: dict, reveal: bool) -> list:
    problems = []
    for index, (most_likely, probability, correct) in answers.items():
        row = rows[index]
        best = int(row.argmax())
        most_likely = expect_digit(f"most_likely_{index}", most_likely)
        probability = expect_fraction(f"probability_{index}", probability)
        correct = expect_bool(f"correct_{index}", correct)
        read = expect_digit(f"digit_{index}", digits[index])
        if most_likely != best:
            problems.append(f"for example {index} your network finds {best} most likely, not "
                            f"{most_likely}" if reveal else
                            f"most_likely_{index} is not the digit with the highest "
                            f"probability in its row of predictions")
        elif abs(probability - row[best]) > PROBABILITY_TOLERANCE:
            problems.append(f"for example {index} the probability of {best} is "
                            f"{row[best]:.2f}, not {probability:.2f}" if reveal else
                            f"probability_{index} is not the probability of that digit")
        if correct != (best == read):
            problems.append(f"correct_{index} should say whether the network's most likely "
                            f"digit is the digit you read (digit_{index} = {read})")
    return problems


def check_accuracy_comparison(assessment: dict, history, train_accuracy, test_accuracy,
                              accuracy_gap, generalises_well) -> None:
    """Hidden check: are the accuracies, their gap and the verdict consistent with the model?"""
    train_accuracy, test_accuracy, accuracy_gap, generalises_well = _comparison_answers(
        train_accuracy, test_accuracy, accuracy_gap, generalises_well)
    last_epoch = float(getattr(history, "history", history)["accuracy"][-1])
    measured = assessment["test_accuracy"]
    problems = []
    if abs(train_accuracy - last_epoch) > ACCURACY_TOLERANCE:
        problems.append(f"the training accuracy of the last epoch is {last_epoch:.3f}, "
                        f"not {train_accuracy:.3f}")
    if abs(test_accuracy - measured) > ACCURACY_TOLERANCE:
        problems.append(f"your model's test accuracy is {measured:.3f}, not {test_accuracy:.3f}")
    if abs(accuracy_gap - (train_accuracy - test_accuracy)) > ACCURACY_TOLERANCE:
        problems.append(f"the gap should be train_accuracy - test_accuracy = "
                        f"{train_accuracy - test_accuracy:.3f}, not {accuracy_gap:.3f}")
    if generalises_well != (accuracy_gap <= GAP_LIMIT):
        problems.append(f"with a gap of {accuracy_gap:.3f} the lesson's rule (at most "
                        f"{GAP_LIMIT}) says generalises_well = {accuracy_gap <= GAP_LIMIT}")
    if problems:
        raise AssertionError("Not consistent yet: " + "; ".join(problems) + ".")


def check_reference_architecture(assessment: dict) -> None:
    """Hidden check: does the saved model have the lesson's architecture and compile settings?"""
    if assessment["architecture"].get("name") == READY_MADE_NAME:
        raise AssertionError(READY_MADE_MESSAGE)
    _raise_differences(description_differences(assessment["architecture"]))


def check_accuracy(assessment: dict, kind: str = "reference") -> None:
    """Hidden check: does the model clear the pass mark for its data on the full test set?"""
    profile = PROFILES[assessment["source"]]
    threshold = profile.reference_threshold if kind == "reference" else profile.tuned_threshold
    accuracy = assessment["test_accuracy"]
    if accuracy < threshold:
        advice = ("Check that it trained for all epochs and that the data was prepared "
                  "(values 0-1, one-hot labels)." if kind == "reference" else
                  "Try Adam, more epochs, more filters or dropout (see the tips above).")
        raise AssertionError(
            f"Your {'tuned ' if kind == 'tuned' else ''}model classifies {accuracy:.3f} of the "
            f"{assessment['test_size']:,} test digits correctly; it needs at least "
            f"{threshold:.2f} on the {profile.name} data. {advice}"
        )


def check_tuned_structure(tuned_model) -> None:
    """Hidden check: is the tuned model's recipe a compiled CNN for MNIST within budget?

    Judged on the recipe (:mod:`course_lib.recipe`), the same data the accuracy check
    trains. An assessment from :func:`assess` (the hidden test of courses generated
    before recipes) is judged as it describes the network.
    """
    if isinstance(tuned_model, dict):
        _raise_tuned_problems(tuned_model["architecture"], tuned_model["output_shape"][-1],
                              PROFILES[tuned_model["source"]])
        return
    _require_model(tuned_model, "tuned_model")
    _raise_recipe_problems(read_recipe(tuned_model), _grading_data()["profile"])


def check_tuned_model(tuned_model, profile) -> None:
    """Visible check: the tuned model's rules, exactly as the grader has them.

    Also says which settings the grader will set back to Keras' defaults (initialisers,
    frozen layers, ...): the grader trains the recipe, not the weights.
    """
    _require_model(tuned_model, "tuned_model")
    recipe = read_recipe(tuned_model)
    _raise_recipe_problems(recipe, profile)
    if recipe.notes:
        print(recipe.notes_sentence() + " Your own training used them; the grader's will "
              "not, so its result can differ from yours.")


def _raise_recipe_problems(recipe: Recipe, profile) -> None:
    """The tuned network's rules, judged on the network its recipe builds."""
    units, parameters = None, None
    if recipe.input_shape == INPUT_SHAPE:
        network = recipe.build()
        units, parameters = int(network.outputs[0].shape[-1]), int(network.count_params())
    found = {"input_shape": list(recipe.input_shape) if recipe.input_shape else None,
             "layers": [spec.describe() for spec in recipe.layers],
             "parameters": parameters, "loss": recipe.loss,
             "optimizer": recipe.optimizer.kind if recipe.optimizer else None}
    _raise_tuned_problems(found, units, profile)


def _raise_tuned_problems(found: dict, output_units, profile) -> None:
    problems = []
    if found["input_shape"] != [28, 28, 1]:
        problems.append(f"its input should be (28, 28, 1), not {found['input_shape']}: start "
                        "with keras.Input(shape=(28, 28, 1))")
    if not any(layer["type"] == "Conv2D" for layer in found["layers"]):
        problems.append("it has no Conv2D layer: the tuned model must still be a "
                        "convolutional network")
    last = found["layers"][-1] if found["layers"] else {}
    if output_units != 10 or last.get("activation") != "softmax":
        problems.append("it should end in Dense(10, activation='softmax')")
    if found["parameters"] is not None and found["parameters"] > profile.tuned_max_parameters:
        problems.append(
            f"it has {found['parameters']:,} parameters, more than the budget of "
            f"{profile.tuned_max_parameters:,}: most of them sit in the Dense layer after "
            "Flatten, so use fewer filters in the last Conv2D, add a MaxPooling2D before "
            "Flatten, or use fewer neurons")
    if found["optimizer"] is None:
        problems.append("it is not compiled")
    elif found["loss"] != "categorical_crossentropy":
        problems.append(f"it should be compiled with loss='categorical_crossentropy' (the "
                        f"labels are one-hot), not {found['loss']!r}")
    if problems:
        raise AssertionError("Your tuned model does not meet the rules yet: "
                             + "; ".join(problems) + ".")


def report_tuned_validation(tuned_history, profile) -> None:
    """Quick advice (never a failure): the tuned network's validation accuracy and the mark.

    The pass mark is for the test accuracy, which the grader measures once; while tuning,
    the validation accuracy is the number to compare attempts by.
    """
    values = (getattr(tuned_history, "history", tuned_history) or {}).get("val_accuracy") or []
    if not values:
        print("Train with validation_data=(x_validation, y_validation) to see the validation "
              "accuracy while you tune.")
        return
    last = float(values[-1])
    verdict = "at or above" if last >= profile.tuned_threshold else "below"
    print(f"Validation accuracy of the tuned network: {last:.3f}, {verdict} the pass mark "
          f"{profile.tuned_threshold:.2f}. The grader trains your recipe again and measures "
          "the test accuracy once.")


def check_tuned_accuracy(tuned_model, tuned_epochs, tuned_batch_size) -> None:
    """Hidden check: does the tuned network's recipe train a network that clears the mark?

    The recipe (:mod:`course_lib.recipe`: the architecture, the optimizer and its
    settings, ``tuned_epochs`` and ``tuned_batch_size``) is read as data and a fresh
    network is built from it alone, checked against the rules, and trained here, seeded, on
    the training data only, within the time budget. The weights handed in, and whatever
    initialisers or optimizer settings could carry, play no part: training on the test
    images or loading a network trained elsewhere gains nothing.
    """
    import keras

    from course_lib.retrain import train_and_predict

    _require_model(tuned_model, "tuned_model")
    data = _grading_data()
    profile = data["profile"]
    epochs = expect_whole_number("tuned_epochs", tuned_epochs, 1, MAX_EPOCHS)
    batch_size = expect_whole_number("tuned_batch_size", tuned_batch_size)
    recipe = read_recipe(tuned_model)
    notes = (" " + recipe.notes_sentence()) if recipe.notes else ""
    try:
        _raise_recipe_problems(recipe, profile)
    except AssertionError as error:
        raise AssertionError(f"{error} A network that breaks the rules earns no accuracy "
                             f"points either.{notes}") from None
    network = recipe.build(seed=GRADING_SEED)
    budget = training_budget(profile)
    training = train_and_predict(network, data["x_train"],
                                 keras.utils.to_categorical(data["y_train"], 10),
                                 data["x_test"], epochs=epochs, batch_size=batch_size,
                                 seconds=budget)
    if not training.finished:
        raise AssertionError(
            f"Your recipe ({epochs} epochs, batch size {batch_size}) trains for longer than "
            f"the budget of {budget:.0f} s: the grader's training was "
            f"{training.progress()}. Use fewer epochs, a larger batch or a smaller "
            f"network.{notes}")
    try:
        check_accuracy({"source": data["source"].kind, "test_size": len(data["y_test"]),
                        "test_accuracy": _accuracy(training.probabilities, data["y_test"])},
                       "tuned")
    except AssertionError as error:
        raise AssertionError(f"{error}{notes}") from None


MAX_EPOCHS = 200
_budget_seconds: float | None = None  # the teacher's setting, when it replaces the profile's


def set_training_budget(seconds: float | None) -> None:
    """Use ``seconds`` as the tuned network's training budget (None: the data profile's).

    The checker calls it with ``c.GradeInSandbox.training_budget_seconds``.
    """
    global _budget_seconds
    _budget_seconds = seconds or None


def training_budget(profile) -> float:
    """The tuned network's training budget in seconds, for the grader."""
    return float(_budget_seconds or profile.tuned_max_seconds)


def expect_whole_number(name: str, value, low: int = 1, high: int = 4096) -> int:
    """Check that an answer is a whole number from ``low`` to ``high`` and return it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise AssertionError(f"`{name}` should be a whole number, but it is {value!r}. "
                             f"Write e.g. `{name} = 10`.")
    if not low <= value <= high:
        raise AssertionError(f"`{name}` should lie between {low} and {high}, but it is "
                             f"{value}.")
    return int(value)


def check_own_digits(own_input, own_predictions, own_predicted_digits) -> None:
    """Check the own-handwriting answers: shapes, value ranges and consistency."""
    own_input = np.asarray(own_input)
    if own_input.ndim != 4 or own_input.shape[1:] != (28, 28, 1) or len(own_input) == 0:
        raise AssertionError(
            f"`own_input` should have shape (n, 28, 28, 1), but it has {own_input.shape}. "
            "Reshape the images with .reshape(-1, 28, 28, 1)."
        )
    if own_input.min() < 0 or own_input.max() > 1:
        raise AssertionError(
            f"The values of `own_input` should lie between 0 and 1, like the training "
            f"images, but they go from {own_input.min()} to {own_input.max()}."
        )
    own_predictions = np.asarray(own_predictions)
    if own_predictions.shape != (len(own_input), 10):
        raise AssertionError(
            f"`own_predictions` should have one row of 10 probabilities per image, shape "
            f"({len(own_input)}, 10), but it has {own_predictions.shape}. Use model.predict."
        )
    if not np.allclose(own_predictions.sum(axis=1), 1.0, atol=1e-3):
        raise AssertionError("Each row of `own_predictions` should add up to 1 (they are "
                             "probabilities from the softmax layer).")
    digits = np.asarray(own_predicted_digits).reshape(-1)
    if digits.shape != (len(own_input),) or \
            not np.array_equal(digits, own_predictions.argmax(axis=1)):
        raise AssertionError(
            "`own_predicted_digits` should hold, for each image, the digit with the highest "
            "probability: own_predictions.argmax(axis=1)."
        )
