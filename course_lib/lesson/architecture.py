"""Describe a Keras model as plain data, and compare it with the lesson's reference network.

The description is JSON-friendly (lists, dicts, strings, numbers) so that grading can
store, print and compare it. :func:`architecture_differences` returns the differences
in plain words, first difference first, for a student to act on.
"""

from __future__ import annotations

import re

from course_lib.lesson.constants import INPUT_SHAPE, NUM_CLASSES
from course_lib.lesson.language import _

REFERENCE_ARCHITECTURE = {
    "input_shape": list(INPUT_SHAPE),
    "layers": [
        {"type": "Conv2D", "filters": 32, "kernel_size": [3, 3], "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": [2, 2]},
        {"type": "Conv2D", "filters": 64, "kernel_size": [3, 3], "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": [2, 2]},
        {"type": "Conv2D", "filters": 64, "kernel_size": [3, 3], "activation": "relu"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 64, "activation": "relu"},
        {"type": "Dense", "units": NUM_CLASSES, "activation": "softmax"},
    ],
    "loss": "categorical_crossentropy",
    "optimizer": "SGD",
    "metrics": ["accuracy"],
    "parameters": 93322,
}
# The name course_lib.teacher.training.build_reference_cnn gives its network.
READY_MADE_NAME = "reference_cnn"


def ready_made_message() -> str:
    """What a student reads who hands in the course's ready-made network as their own."""
    return _("This is the course's ready-made network (build_reference_cnn), not one you "
             "built: write the layers yourself with keras.Sequential([...]), as the table "
             "shows.")



# What matters about each kind of layer for this lesson.
_LAYER_SETTINGS = {
    "Conv2D": ("filters", "kernel_size", "activation"),
    "MaxPooling2D": ("pool_size",),
    "Dense": ("units", "activation"),
}


def _setting_phrase(setting: str) -> str:
    """How to say "has <value>" for a setting: "64 neurons", "a 3x3 kernel", ..."""
    return {"filters": _("{value} filters"), "kernel_size": _("a {value} kernel"),
            "activation": _("activation {value}"), "pool_size": _("a {value} pool"),
            "units": _("{value} neurons")}[setting]


def describe_architecture(model) -> dict:
    """Return the architecture of a Keras model in the form of ``REFERENCE_ARCHITECTURE``."""
    optimizer = getattr(model, "optimizer", None)  # absent until the model is compiled
    layers = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        entry = {"type": kind}
        for setting in _LAYER_SETTINGS.get(kind, ()):
            entry[setting] = _plain(getattr(layer, setting))
        layers.append(entry)
    built = bool(getattr(model, "built", False) and getattr(model, "inputs", None))
    compiled = optimizer is not None and hasattr(model, "get_compile_config")
    metrics = (model.get_compile_config() or {}).get("metrics") if compiled else None
    return {
        "name": getattr(model, "name", ""),
        "input_shape": [int(d) for d in model.inputs[0].shape[1:]] if built else None,
        "layers": layers,
        "loss": _loss_name(getattr(model, "loss", None)),
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "metrics": [_metric_name(m) for m in _as_list(metrics)],
        "parameters": int(model.count_params()) if built else None,
    }


def architecture_differences(model, reference: dict = REFERENCE_ARCHITECTURE) -> list[str]:
    """List, in plain words, how ``model`` differs from ``reference``; empty when it matches."""
    return description_differences(describe_architecture(model), reference)


def description_differences(found: dict, reference: dict = REFERENCE_ARCHITECTURE) -> list[str]:
    """Like :func:`architecture_differences`, for a description (e.g. from the grader)."""
    differences = []
    if found["input_shape"] is None:
        differences.append(_(
            "Your model does not say what its input looks like: start the list of layers "
            "with keras.Input(shape={shape}).").format(shape=tuple(reference["input_shape"])))
    elif found["input_shape"] != reference["input_shape"]:
        differences.append(_(
            "The input should have shape {shape}, but your model takes {found}. Start with "
            "keras.Input(shape={shape}).").format(shape=tuple(reference["input_shape"]),
                                                  found=tuple(found["input_shape"] or ())))
    differences.extend(_layer_differences(found["layers"], reference["layers"]))
    if found["optimizer"] is None:
        differences.append(_("The model is not compiled yet: call model.compile(...) on it."))
    else:
        if found["loss"] != reference["loss"]:
            differences.append(_("The loss should be '{loss}', but your model uses '{found}'.")
                               .format(loss=reference["loss"], found=found["loss"]))
        if found["optimizer"] != reference["optimizer"]:
            differences.append(_("The optimizer should be {optimizer}, but your model uses "
                                 "{found}.").format(optimizer=reference["optimizer"],
                                                    found=found["optimizer"]))
        missing = [m for m in reference.get("metrics", []) if m not in found.get("metrics", [])]
        if missing:
            differences.append(_(
                "Compile with metrics={metrics}: without it, training does not report the "
                "accuracy that the rest of the lesson reads from history.history.").format(
                metrics=repr(missing)))
    return differences


def _layer_differences(found: list[dict], expected: list[dict]) -> list[str]:
    differences = []
    for number, (mine, want) in enumerate(zip(found, expected, strict=False), start=1):
        if mine["type"] != want["type"]:
            differences.append(_("Layer {number} should be a {layer} layer, but yours is a "
                                 "{found} layer.").format(number=number, layer=want["type"],
                                                          found=mine["type"]))
            # Later layers are shifted or different; comparing them would only confuse.
            return differences
        for setting in _LAYER_SETTINGS.get(want["type"], ()):
            if mine.get(setting) != want.get(setting):
                differences.append(_("Layer {number} ({layer}) should have {wanted}, but "
                                     "yours has {found}.").format(
                    number=number, layer=want["type"], wanted=_phrase(setting, want[setting]),
                    found=_phrase(setting, mine.get(setting), short=True)))
    if len(found) < len(expected):
        missing = ", ".join(layer["type"] for layer in expected[len(found):])
        differences.append(_("Your model has {count} layers, the reference has {expected}: "
                             "after layer {count} it still needs {missing}.").format(
            count=len(found), expected=len(expected), missing=missing))
    elif len(found) > len(expected):
        extra = ", ".join(layer["type"] for layer in found[len(expected):])
        differences.append(_("Your model has {count} layers, the reference has {expected}: "
                             "remove the extra {extra}.").format(
            count=len(found), expected=len(expected), extra=extra))
    return differences


def _plain(value):
    """Turn tuples, activation functions and numpy numbers into JSON-friendly values."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    if hasattr(value, "item"):
        return value.item()
    return value


def _loss_name(loss) -> str | None:
    if loss is None or isinstance(loss, str):
        return loss
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None)
    if name is None:
        name = type(loss).__name__
    # keras.losses.CategoricalCrossentropy() and the string name mean the same thing.
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() if name[0].isupper() else name


def _phrase(setting: str, value, short: bool = False) -> str:
    """A setting's value in words: "64 neurons", "a 3x3 kernel", "activation 'relu'"."""
    if setting == "activation" and value in (None, "linear"):
        return _("no activation given")
    shown = "x".join(str(v) for v in value) if isinstance(value, list) else \
        repr(value) if isinstance(value, str) else str(value)
    if short and setting in ("filters", "units", "activation"):
        return shown  # "should have 64 neurons, but yours has 32"
    return _setting_phrase(setting).format(value=shown)


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _metric_name(metric) -> str:
    if isinstance(metric, str):
        return "accuracy" if metric in ("acc", "accuracy") else metric
    if isinstance(metric, dict):
        return str(metric.get("config", {}).get("name") or metric.get("class_name"))
    return str(getattr(metric, "name", metric))
