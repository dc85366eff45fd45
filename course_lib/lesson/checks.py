"""The checks a student's notebook runs itself: answers checked for form and consistency.

The visible part of every test cell calls these, while the student works; each says what
was expected, what was found and what to do, and raises ``AssertionError``. They know only
what the notebook knows. The grader runs every test cell again, visible and hidden parts,
in its checker, where the hidden checks (:mod:`course_lib.autograder.checks`) measure the
networks on test data loaded by the grader and retrain the tuned network from its recipe.
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.lesson.architecture import (
    READY_MADE_NAME,
    architecture_differences,
    ready_made_message,
)
from course_lib.lesson.constants import INPUT_SHAPE, NUM_CLASSES
from course_lib.lesson.cost import TrainingCost, training_cost
from course_lib.lesson.language import _, format_number
from course_lib.lesson.recipe import Recipe, read_recipe

GAP_LIMIT = 0.05  # the lesson's rule: a model generalises well if the gap is at most this
PROBABILITY_TOLERANCE = 0.01  # answers may be rounded to two decimals
ACCURACY_TOLERANCE = 0.01
MIN_OWN_DIGITS = 3
MAX_EPOCHS = 200


def check_architecture(model) -> None:
    """Check the notebook's model against the lesson's architecture (a quick, visible check)."""
    require_model(model, "model")
    if getattr(model, "name", "") == READY_MADE_NAME:
        raise AssertionError(ready_made_message())
    first_difference(architecture_differences(model))


def first_difference(differences: list[str]) -> None:
    """Fail with the first of ``differences`` (saying how many more there are), if any."""
    if differences:
        more = _(" (and {count} more difference(s) after you fix this one)").format(
            count=len(differences) - 1) if len(differences) > 1 else ""
        raise AssertionError(differences[0] + more)


def require_model(model, name: str) -> None:
    """Fail, saying what to do, unless ``model`` (the variable ``name``) is a Keras model."""
    if not hasattr(model, "layers") or not hasattr(model, "predict"):
        raise AssertionError(_(
            "`{name}` should be a Keras model, but it is a {kind}. "
            "Build it with keras.Sequential([...]) and assign it to `{name}`."
        ).format(name=name, kind=type(model).__name__))


def require(namespace: dict, *names: str) -> None:
    """Check that the answer variables ``names`` exist; say which are missing, plainly."""
    missing = [name for name in names if name not in namespace]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        raise AssertionError(_("You have not defined {names} yet: fill in the answer cell "
                               "above this check, run it, then run this check again.").format(
            names=listed))


def comparison_answers(train_accuracy, test_accuracy, accuracy_gap, generalises_well):
    """Assignment 3's four answers checked for form: (float, float, float, bool)."""
    train_accuracy = expect_fraction("train_accuracy", train_accuracy)
    test_accuracy = expect_fraction("test_accuracy", test_accuracy)
    if isinstance(accuracy_gap, (bool, np.bool_)) or \
            not isinstance(accuracy_gap, (int, float, np.number)):
        raise AssertionError(_("`accuracy_gap` should be a number, but it is {value}.").format(
            value=repr(accuracy_gap)))
    return (train_accuracy, test_accuracy, float(accuracy_gap),
            expect_bool("generalises_well", generalises_well))


def check_comparison_quick(history, test_result, train_accuracy, test_accuracy,
                           accuracy_gap, generalises_well) -> None:
    """Visible check: the comparison against ``history`` and ``test_result``, with values."""
    train_accuracy, test_accuracy, accuracy_gap, generalises_well = comparison_answers(
        train_accuracy, test_accuracy, accuracy_gap, generalises_well)
    last_epoch = float(getattr(history, "history", history)["accuracy"][-1])
    problems = []
    if abs(train_accuracy - last_epoch) > ACCURACY_TOLERANCE:
        problems.append(_("train_accuracy is {answer:.3f}, but the last value of "
                          "history.history['accuracy'] is {found:.3f}").format(
            answer=train_accuracy, found=last_epoch))
    if abs(test_accuracy - float(test_result)) > ACCURACY_TOLERANCE:
        problems.append(_("test_accuracy is {answer:.3f}, but test_result is {found:.3f}")
                        .format(answer=test_accuracy, found=float(test_result)))
    if abs(float(accuracy_gap) - (train_accuracy - test_accuracy)) > ACCURACY_TOLERANCE:
        problems.append(_("accuracy_gap is {answer:.3f}, but train_accuracy - "
                          "test_accuracy is {found:.3f}").format(
            answer=float(accuracy_gap), found=train_accuracy - test_accuracy))
    elif generalises_well != (float(accuracy_gap) <= GAP_LIMIT):
        problems.append(_("with a gap of {gap:.3f}, the rule (at most {limit}) gives "
                          "generalises_well = {verdict}").format(
            gap=float(accuracy_gap), limit=GAP_LIMIT, verdict=float(accuracy_gap) <= GAP_LIMIT))
    if problems:
        raise AssertionError(_("Not consistent yet: {problems}.").format(
            problems="; ".join(problems)))


def check_own_handwriting(own_files) -> None:
    """Visible check: at least three digits of the student's own, not only the samples."""
    own = [name for name in own_files if str(name).startswith("own_digits/")]
    if len(own) < MIN_OWN_DIGITS:
        raise AssertionError(_(
            "The network read {count} digit(s) of your own; this assignment needs at "
            "least {needed}. The sample digits are only for trying the code: put "
            "photos of digits you wrote into own_digits (e.g. 7_mine.jpg), or draw them on "
            "the canvas above and save them, then run the notebook again.").format(
            count=len(own), needed=MIN_OWN_DIGITS))


def expect_digit(name: str, value) -> int:
    """Check that an answer is a single digit 0-9 and return it as an int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise AssertionError(_(
            "`{name}` should be a whole number from 0 to 9, but it is {value} "
            "({kind}). Write e.g. `{name} = 3`."
        ).format(name=name, value=repr(value), kind=type(value).__name__))
    if not 0 <= value <= 9:
        raise AssertionError(_("`{name}` should be a digit from 0 to 9, but it is {value}.")
                             .format(name=name, value=value))
    return int(value)


def expect_fraction(name: str, value) -> float:
    """Check that an answer is a number between 0 and 1 (a probability or an accuracy)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise AssertionError(_(
            "`{name}` should be a number between 0 and 1, but it is {value}. "
            "Write it as a decimal number, e.g. 0.93 (not 93 and not '93%')."
        ).format(name=name, value=repr(value)))
    value = float(value)
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        hint = _(" Write a fraction: 93% is 0.93.") if 1 < value <= 100 else ""
        raise AssertionError(_("`{name}` should lie between 0 and 1, but it is {value}.")
                             .format(name=name, value=value) + hint)
    return value


def expect_bool(name: str, value) -> bool:
    """Check that an answer is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise AssertionError(_(
            "`{name}` should be True or False (without quotes), but it is {value}."
        ).format(name=name, value=repr(value)))
    return bool(value)


def check_interpretation_quick(predictions, digits: dict, answers: dict) -> None:
    """Visible check: do the answers agree with ``predictions`` (row 0: example 4, row 1:
    example 100)? Says which answer disagrees without saying the right value."""
    rows = {index: np.asarray(predictions)[row] for row, index in enumerate(answers)}
    names = {index: f"predictions[{row}]" for row, index in enumerate(answers)}
    problems = interpretation_problems(rows, digits, answers, reveal=False, row_names=names)
    if problems:
        raise AssertionError(_("Look again: {problems}.").format(problems="; ".join(problems)))


def interpretation_problems(rows: dict, digits: dict, answers: dict, reveal: bool,
                            row_names: dict | None = None) -> list:
    """What disagrees between assignment 2's answers and the rows of predictions, in words
    (with the right values only where ``reveal``: the hidden check may say them; otherwise
    what was found and where to look, ``row_names`` naming each example's row)."""
    problems = []
    for index, (most_likely, probability, correct) in answers.items():
        row = rows[index]
        where = (row_names or {}).get(index, _("its row of predictions"))
        best = int(row.argmax())
        most_likely = expect_digit(f"most_likely_{index}", most_likely)
        probability = expect_fraction(f"probability_{index}", probability)
        correct = expect_bool(f"correct_{index}", correct)
        read = expect_digit(f"digit_{index}", digits[index])
        if most_likely != best:
            problems.append((_("for example {index} your network finds {best} most likely, "
                               "not {answer}") if reveal else
                             _("most_likely_{index} is {answer}, but that is not the "
                               "position of the largest value in {where}: np.argmax({where}) "
                               "gives it")).format(index=index, best=best, answer=most_likely,
                                                   where=where))
        elif abs(probability - row[best]) > PROBABILITY_TOLERANCE:
            problems.append((_("for example {index} the probability of {best} is "
                               "{found:.2f}, not {answer:.2f}") if reveal else
                             _("probability_{index} is {answer:.2f}, but that is not the "
                               "largest value in {where}: np.max({where}) gives it")).format(
                index=index, best=best, found=row[best], answer=probability, where=where))
        if correct != (best == read):
            problems.append(_("correct_{index} should say whether the network's most likely "
                              "digit is the digit you read (digit_{index} = {read})").format(
                index=index, read=read))
    return problems


def check_tuned_model(tuned_model, profile) -> None:
    """Visible check: the tuned model's rules, exactly as the grader has them.

    Also says which settings the grader will set back to Keras' defaults (initialisers,
    frozen layers, ...): the grader trains the recipe, not the weights.
    """
    require_model(tuned_model, "tuned_model")
    recipe = read_recipe(tuned_model)
    raise_recipe_problems(recipe, profile)
    if recipe.notes:
        print(recipe.notes_sentence() + _(" Your own training used them; the grader's will "
                                          "not, so its result can differ from yours."))


def raise_recipe_problems(recipe: Recipe, profile) -> None:
    """The tuned network's rules, judged on the network its recipe builds."""
    units, parameters = None, None
    if recipe.input_shape == INPUT_SHAPE:
        network = recipe.build()
        units, parameters = int(network.outputs[0].shape[-1]), int(network.count_params())
    found = {"input_shape": list(recipe.input_shape) if recipe.input_shape else None,
             "layers": [spec.describe() for spec in recipe.layers],
             "parameters": parameters, "loss": recipe.loss, "metrics": list(recipe.metrics),
             "optimizer": recipe.optimizer.kind if recipe.optimizer else None}
    raise_tuned_problems(found, units, profile)


def raise_tuned_problems(found: dict, output_units, profile) -> None:
    """The tuned network's rules on a description of it: every broken rule in one message."""
    problems = []
    if found["input_shape"] != list(INPUT_SHAPE):
        problems.append(_("its input should be (28, 28, 1), not {found}: start "
                          "with keras.Input(shape=(28, 28, 1))").format(
            found=found["input_shape"]))
    if not any(layer["type"] == "Conv2D" for layer in found["layers"]):
        problems.append(_("it has no Conv2D layer: the tuned model must still be a "
                          "convolutional network"))
    last = found["layers"][-1] if found["layers"] else {}
    if output_units != NUM_CLASSES or last.get("activation") != "softmax":
        ends = _("{layer} with {units} output(s) and activation {activation}").format(
            layer=last.get("type"), units=output_units,
            activation=repr(last.get("activation", "none"))) if last else _("no layer at all")
        problems.append(_("it ends in {ends}; it should end in Dense(10, "
                          "activation='softmax'), the ten probabilities").format(ends=ends))
    if found["parameters"] is not None and found["parameters"] > profile.tuned_max_parameters:
        problems.append(_(
            "it has {count:,} parameters, more than the budget of "
            "{budget:,}: most of them sit in the Dense layer after "
            "Flatten, so use fewer filters in the last Conv2D, add a MaxPooling2D before "
            "Flatten, or use fewer neurons").format(count=found["parameters"],
                                                    budget=profile.tuned_max_parameters))
    if found["optimizer"] is None:
        problems.append(_("it is not compiled: call tuned_model.compile(optimizer='adam', "
                          "loss='categorical_crossentropy', metrics=['accuracy'])"))
    else:
        if found["loss"] != "categorical_crossentropy":
            problems.append(_("it should be compiled with loss='categorical_crossentropy' "
                              "(the labels are one-hot), not {loss}").format(
                loss=repr(found["loss"])))
        if not any("accuracy" in name for name in found.get("metrics", ["accuracy"])):
            problems.append(_("compile it with metrics=['accuracy'] too: without it, training "
                              "reports no accuracy to compare your attempts by"))
    if problems:
        raise AssertionError(_("Your tuned model does not meet the rules yet: {problems}.")
                             .format(problems="; ".join(problems)))


def check_training_cost(tuned_model, tuned_epochs, tuned_batch_size, profile) -> None:
    """Visible check: the recipe's training cost against the budget, as the grader counts it.

    Prints the cost and its share of the budget; over the budget, fails with what to change.
    """
    require_model(tuned_model, "tuned_model")
    epochs = expect_whole_number("tuned_epochs", tuned_epochs, 1, MAX_EPOCHS)
    batch_size = expect_whole_number("tuned_batch_size", tuned_batch_size)
    cost = raise_cost_problems(read_recipe(tuned_model), epochs, batch_size, profile)
    print(cost_sentence(cost, profile))


def print_training_cost(tuned_model, tuned_epochs, tuned_batch_size, profile) -> None:
    """Before training: print what training the recipe will cost, and whether it fits the
    budget (and what to change when it does not). Never fails."""
    try:
        check_training_cost(tuned_model, tuned_epochs, tuned_batch_size, profile)
    except AssertionError as error:
        print(error)


def raise_cost_problems(recipe: Recipe, epochs: int, batch_size: int,
                        profile) -> TrainingCost:
    """The recipe's training cost on the profile's data; fail, saying what to change, when
    it is over the profile's budget. The grader refuses such a recipe with this message."""
    cost = training_cost(recipe, epochs, batch_size, profile.training_examples)
    if cost.total <= profile.tuned_max_cost:
        return cost
    advice = []
    if cost.step_share >= 0.3:
        advice.append(_("{share:.0%} of it is the work each batch takes on top of its "
                        "images: a larger tuned_batch_size (e.g. 64) costs much less").format(
            share=cost.step_share))
    fitting = profile.tuned_max_cost // (cost.total // epochs)
    advice.append(_("at most {count} epoch(s) of this network, in these batches, fit in "
                    "the budget").format(count=fitting) if fitting else
                  _("not even one epoch of this network, in these batches, fits in the "
                    "budget"))
    advice.append(_("fewer filters or neurons, or a MaxPooling2D earlier (so that the next "
                    "layers work on smaller images), make each epoch cheaper"))
    raise AssertionError(_(
        "Training your recipe costs {cost} billion multiply-adds ({epochs} epoch(s) of "
        "{examples:,} training images in batches of {batch_size}), more than the budget of "
        "{budget} billion: the grader does not train it, and it earns no accuracy points. "
        "To change: {advice}.").format(
        cost=_billions(cost.total), epochs=epochs, examples=cost.examples,
        batch_size=batch_size, budget=_billions(profile.tuned_max_cost),
        advice="; ".join(advice)))


def cost_sentence(cost: TrainingCost, profile) -> str:
    """The cost of a recipe within the budget, in one sentence."""
    return _("Training your recipe costs {cost} billion multiply-adds ({epochs} epoch(s) of "
             "{examples:,} training images in batches of {batch_size}): {share:.0%} of the "
             "budget of {budget} billion, counted as the grader counts it.").format(
        cost=_billions(cost.total), epochs=cost.epochs, examples=cost.examples,
        batch_size=cost.batch_size, share=cost.total / profile.tuned_max_cost,
        budget=_billions(profile.tuned_max_cost))


def _billions(count: int) -> str:
    billions = count / 1e9
    return format_number(billions, ",.1f" if billions < 10 else ",.0f")


def report_tuned_validation(tuned_history, profile) -> None:
    """Quick advice (never a failure): the tuned network's validation accuracy and the mark.

    The pass mark is for the test accuracy, which the grader measures once; while tuning,
    the validation accuracy is the number to compare attempts by.
    """
    values = (getattr(tuned_history, "history", tuned_history) or {}).get("val_accuracy") or []
    if not values:
        print(_("Train with validation_data=(x_validation, y_validation) to see the "
                "validation accuracy while you tune."))
        return
    last = float(values[-1])
    verdict = _("Validation accuracy of the tuned network: {accuracy:.3f}, at or above the "
                "pass mark {mark:.2f}.") if last >= profile.tuned_threshold else \
        _("Validation accuracy of the tuned network: {accuracy:.3f}, below the pass mark "
          "{mark:.2f}.")
    print(verdict.format(accuracy=last, mark=profile.tuned_threshold)
          + _(" The grader trains your recipe again and measures the test accuracy once."))


def expect_whole_number(name: str, value, low: int = 1, high: int = 4096) -> int:
    """Check that an answer is a whole number from ``low`` to ``high`` and return it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise AssertionError(_("`{name}` should be a whole number, but it is {value}. "
                               "Write e.g. `{name} = 10`.").format(name=name, value=repr(value)))
    if not low <= value <= high:
        raise AssertionError(_("`{name}` should lie between {low} and {high}, but it is "
                               "{value}.").format(name=name, low=low, high=high, value=value))
    return int(value)


def check_own_digits(own_input, own_predictions, own_predicted_digits) -> None:
    """Check the own-handwriting answers: shapes, value ranges and consistency."""
    own_input = np.asarray(own_input)
    if own_input.ndim != 4 or own_input.shape[1:] != INPUT_SHAPE or len(own_input) == 0:
        raise AssertionError(_(
            "`own_input` should have shape (n, 28, 28, 1), but it has {shape}. "
            "Reshape the images with .reshape(-1, 28, 28, 1).").format(shape=own_input.shape))
    if own_input.min() < 0 or own_input.max() > 1:
        raise AssertionError(_(
            "The values of `own_input` should lie between 0 and 1, like the training "
            "images, but they go from {low} to {high}.").format(low=own_input.min(),
                                                                high=own_input.max()))
    if 0 < own_input.max() <= 1.5 / 255:
        raise AssertionError(_(
            "The values of `own_input` go up to {high:.4f}, not up to 1: they "
            "were divided by 255 twice. own.images is already between 0 and 1, so only "
            "reshape it: own.images.reshape(-1, 28, 28, 1).").format(high=own_input.max()))
    own_predictions = np.asarray(own_predictions)
    if own_predictions.shape != (len(own_input), NUM_CLASSES):
        raise AssertionError(_(
            "`own_predictions` should have one row of 10 probabilities per image, shape "
            "({count}, 10), but it has {shape}. Use model.predict.").format(
            count=len(own_input), shape=own_predictions.shape))
    sums = own_predictions.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        row = int(np.argmax(np.abs(sums - 1.0)))
        raise AssertionError(_(
            "Each row of `own_predictions` should add up to 1 (ten probabilities from the "
            "softmax layer), but row {row} adds up to {total:.3f}. Take them straight "
            "from the network: own_predictions = model.predict(own_input).").format(
            row=row, total=sums[row]))
    digits = np.asarray(own_predicted_digits).reshape(-1)
    if digits.shape != (len(own_input),) or \
            not np.array_equal(digits, own_predictions.argmax(axis=1)):
        raise AssertionError(_(
            "`own_predicted_digits` should hold, for each image, the digit with the highest "
            "probability: own_predictions.argmax(axis=1)."))
