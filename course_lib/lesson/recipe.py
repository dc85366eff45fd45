"""What a network's recipe is: its architecture and training settings as plain data.

The tuned network of the lesson is graded as its recipe trains it: the grader builds the
network again and trains it itself. A recipe must therefore carry nothing that training
produced, so it is read as data, never taken as the student's object:

* the **input shape**;
* **layers** of the kinds in :data:`LAYER_SETTINGS`, each with only the settings that
  shape it (filters, kernel size, units, activation, strides, padding, pooling, dropout
  rate, augmentation ranges, scalar L1/L2 regularisation), each checked for its type and a
  sensible range;
* the **optimizer**, one of :data:`OPTIMIZER_SETTINGS`, with its scalar settings;
* the **loss** and the **metrics**, by name.

Everything else a Keras network or optimizer can hold (initialisers, which can hold a
whole trained array; constraints; ``trainable`` flags; seeds; data types; LoRA and
quantisation settings; an optimizer's moving average, gradient accumulation, clipping
and loss scaling) is set back to Keras' default, and :attr:`Recipe.notes` says which. A
layer kind, optimizer or value the recipe may not contain is refused with
:class:`RecipeError`, whose message says what a recipe may contain.

:meth:`Recipe.build` makes a fresh network from the data alone. The same rules run in the
student's notebook (the quick check) and in the grader.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from course_lib.lesson.architecture import REFERENCE_ARCHITECTURE
from course_lib.lesson.constants import IMAGE_SIDE
from course_lib.lesson.language import _

ACTIVATIONS = frozenset({
    "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hard_sigmoid", "tanh", "softmax", "softplus", "softsign", "linear",
})
MAX_DEPTH = 3  # a network inside a network inside a network, e.g. an augmentation block


class RecipeError(AssertionError):
    """The recipe holds something the grader does not take; the message says what."""


# ---- checking one value ------------------------------------------------------------------

def _whole(low: int, high: int):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(_("a whole number from {low} to {high}").format(low=low,
                                                                              high=high))
        return value
    return check


def _number(low: float, high: float, *, above_low: bool = False):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or not low <= value <= high \
                or (above_low and value == low):
            shape = _("a number more than {low:g} to {high:g}") if above_low else \
                _("a number from {low:g} to {high:g}")
            raise ValueError(shape.format(low=low, high=high))
        return float(value)
    return check


def _pair(low: int, high: int):
    """A size in pixels: one whole number, or one for the height and one for the width."""
    whole = _whole(low, high)

    def check(value):
        if isinstance(value, list) and len(value) == 2:
            return [whole(value[0]), whole(value[1])]
        return whole(value)
    return check


def _factor(low: float, high: float):
    """An augmentation range: one number, or a pair (lowest, highest)."""
    number = _number(low, high)

    def check(value):
        if isinstance(value, list) and len(value) == 2:
            return [number(value[0]), number(value[1])]
        return number(value)
    return check


def _optional(check):
    return lambda value: None if value is None else check(value)


def _choice(*options: str):
    def check(value):
        if value not in options:
            raise ValueError(_("one of {options}").format(
                options=", ".join(repr(o) for o in options)))
        return value
    return check


def _flag(value):
    if not isinstance(value, bool):
        raise ValueError(_("True or False"))
    return value


def _activation(value):
    if value is None:
        return "linear"
    if isinstance(value, dict):  # a serialised built-in activation function
        value = value.get("config", value.get("class_name"))
    if value not in ACTIVATIONS:
        raise ValueError(_("one of Keras' activations by name, e.g. 'relu' or 'softmax'"))
    return value


_REGULARIZER_FACTORS = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}


def _regularizer(value):
    """Scalar L1/L2 weight penalties: they pull weights towards zero, they carry none."""
    if value is None:
        return None
    if isinstance(value, str) and value.upper() in _REGULARIZER_FACTORS:
        return {"class_name": value.upper(), "config": {}}
    kind = value.get("class_name") if isinstance(value, dict) else None
    config = value.get("config") if isinstance(value, dict) else None
    if kind not in _REGULARIZER_FACTORS or not isinstance(config, dict):
        raise ValueError(_("None, or keras.regularizers.L1, L2 or L1L2 with a number"))
    factor = _number(0.0, 1.0)
    return {"class_name": kind,
            "config": {name: factor(config[name]) for name in _REGULARIZER_FACTORS[kind]
                       if name in config}}


_FILL = {"fill_mode": _choice("reflect", "wrap", "constant", "nearest"),
         "interpolation": _choice("nearest", "bilinear"),
         "fill_value": _number(-1e3, 1e3)}
_CONVOLUTION = {"filters": _whole(1, 512), "kernel_size": _pair(1, IMAGE_SIDE),
                "strides": _pair(1, IMAGE_SIDE), "padding": _choice("valid", "same"),
                "dilation_rate": _pair(1, IMAGE_SIDE), "activation": _activation,
                "use_bias": _flag, "kernel_regularizer": _regularizer,
                "bias_regularizer": _regularizer}
_POOLING = {"pool_size": _pair(1, IMAGE_SIDE), "strides": _optional(_pair(1, IMAGE_SIDE)),
            "padding": _choice("valid", "same")}
_RATE = {"rate": _number(0.0, 0.95)}

# The layer kinds a recipe may use, each with the settings that shape it.
LAYER_SETTINGS: dict[str, dict] = {
    "Conv2D": _CONVOLUTION,
    "SeparableConv2D": {**_CONVOLUTION, "depth_multiplier": _whole(1, 8)},
    "MaxPooling2D": _POOLING,
    "AveragePooling2D": _POOLING,
    "GlobalMaxPooling2D": {},
    "GlobalAveragePooling2D": {},
    "Flatten": {},
    "Dense": {"units": _whole(1, 4096), "activation": _activation, "use_bias": _flag,
              "kernel_regularizer": _regularizer, "bias_regularizer": _regularizer},
    "Dropout": _RATE,
    "SpatialDropout2D": _RATE,
    "GaussianDropout": _RATE,
    "GaussianNoise": {"stddev": _number(0.0, 1.0)},
    "BatchNormalization": {"momentum": _number(0.0, 0.9999), "epsilon": _number(1e-10, 1.0),
                           "center": _flag, "scale": _flag},
    "LayerNormalization": {"epsilon": _number(1e-10, 1.0), "center": _flag, "scale": _flag},
    "Activation": {"activation": _activation},
    "ReLU": {"max_value": _optional(_number(0.0, 1e3)),
             "negative_slope": _number(0.0, 1.0), "threshold": _number(-1e3, 1e3)},
    "LeakyReLU": {"negative_slope": _number(0.0, 1.0)},
    "RandomRotation": {"factor": _factor(-1.0, 1.0), **_FILL},
    "RandomZoom": {"height_factor": _factor(-1.0, 1.0),
                   "width_factor": _optional(_factor(-1.0, 1.0)), **_FILL},
    "RandomTranslation": {"height_factor": _factor(-1.0, 1.0),
                          "width_factor": _factor(-1.0, 1.0), **_FILL},
    "RandomContrast": {"factor": _factor(0.0, 1.0)},
}

_RATE_OF_LEARNING = {"learning_rate": _number(0.0, 1.0, above_low=True),
                     "weight_decay": _optional(_number(0.0, 0.5))}
_BETAS = {"beta_1": _number(0.0, 0.9999), "beta_2": _number(0.0, 0.99999),
          "epsilon": _number(1e-10, 1.0)}
# The optimizers a recipe may use, each with the settings that steer it.
OPTIMIZER_SETTINGS: dict[str, dict] = {
    "SGD": {**_RATE_OF_LEARNING, "momentum": _number(0.0, 0.999), "nesterov": _flag},
    "Adam": {**_RATE_OF_LEARNING, **_BETAS, "amsgrad": _flag},
    "AdamW": {**_RATE_OF_LEARNING, **_BETAS, "amsgrad": _flag},
    "Adamax": {**_RATE_OF_LEARNING, **_BETAS},
    "Nadam": {**_RATE_OF_LEARNING, **_BETAS},
    "RMSprop": {**_RATE_OF_LEARNING, "rho": _number(0.0, 0.9999),
                "momentum": _number(0.0, 0.999), "epsilon": _number(1e-10, 1.0),
                "centered": _flag},
    "Adagrad": {**_RATE_OF_LEARNING, "initial_accumulator_value": _number(0.0, 10.0),
                "epsilon": _number(1e-10, 1.0)},
    "Adadelta": {**_RATE_OF_LEARNING, "rho": _number(0.0, 0.9999),
                 "epsilon": _number(1e-10, 1.0)},
}
_OPTIMIZER_NAMES = {name.lower(): name for name in OPTIMIZER_SETTINGS}

# Never compared with a default: a layer's name, and where it was built (its shape).
_IGNORED = frozenset({"name", "build_config", "input_shape", "batch_input_shape"})


# ---- the recipe --------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerSpec:
    """One layer of a recipe: its kind and the settings that shape it, as plain data."""

    kind: str
    settings: dict = field(default_factory=dict)

    def describe(self) -> dict:
        """The layer as :func:`course_lib.lesson.architecture.describe_architecture` gives it."""
        entry = {"type": self.kind}
        if "activation" in self.settings:
            entry["activation"] = self.settings["activation"]
        return entry


@dataclass(frozen=True)
class OptimizerSpec:
    """The optimizer of a recipe: its class and its scalar settings."""

    kind: str
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    """A network as data: what the grader builds and trains, and nothing else."""

    input_shape: tuple | None
    layers: tuple
    optimizer: OptimizerSpec | None
    loss: str | None
    metrics: tuple = ()
    notes: tuple = ()  # settings set back to Keras' defaults, in words

    def build(self, seed: int | None = None):
        """A fresh network from this recipe: Keras' own initial weights, compiled.

        The grader compiles it with this recipe's optimizer, categorical cross-entropy
        and the accuracy metric. A recipe whose layers do not fit together (a kernel
        larger than what is left of the image) raises :class:`RecipeError`.
        """
        import keras

        if self.input_shape is None:
            raise RecipeError(_("The network does not say what its input looks like: start "
                                "it with keras.Input(shape=(28, 28, 1))."))
        if seed is not None:
            keras.utils.set_random_seed(seed)
        try:
            network = keras.Sequential(
                [keras.Input(shape=self.input_shape),
                 *(_make_layer(keras, spec) for spec in self.layers)])
            if self.optimizer is not None:
                optimizer = getattr(keras.optimizers, self.optimizer.kind)(
                    **self.optimizer.settings)
                network.compile(optimizer=optimizer, loss=REFERENCE_ARCHITECTURE["loss"],
                                metrics=REFERENCE_ARCHITECTURE["metrics"])
        except (ValueError, TypeError) as error:
            raise RecipeError(_("The network could not be built from its recipe: {error}. "
                                "Check that each layer fits the output of the one before "
                                "(print tuned_model.summary()).").format(error=error)) \
                from error
        return network

    def notes_sentence(self) -> str:
        """What was set back to Keras' defaults, as one sentence ('' when nothing was)."""
        if not self.notes:
            return ""
        return _("The grader used Keras' defaults for what a recipe does not contain: "
                 "{settings}.").format(settings="; ".join(self.notes))


def _make_layer(keras, spec: LayerSpec):
    settings = dict(spec.settings)
    for name in ("kernel_regularizer", "bias_regularizer"):
        if settings.get(name) is not None:
            settings[name] = keras.regularizers.get(settings[name])
    return getattr(keras.layers, spec.kind)(**settings)


def read_recipe(network) -> Recipe:
    """Read the recipe of a Keras network (or of its saved configuration, as a dict).

    Only the network's configuration is read: its weights, and whatever its initialisers
    or optimizer hold, play no part. Raises :class:`RecipeError` for what a recipe may not
    contain.
    """
    if isinstance(network, dict):
        config, compiled = network.get("config"), network.get("compile_config")
    else:
        config = json.loads(network.to_json())
        compiled = _compile_config(network)
    notes: list[str] = []
    input_shape, specs = _read_layers(config, notes)
    optimizer, loss, metrics = _read_compile(compiled, notes)
    return Recipe(input_shape, tuple(specs), optimizer, loss, tuple(metrics), tuple(notes))


def _compile_config(network) -> dict | None:
    if getattr(network, "optimizer", None) is None or not getattr(network, "compiled", True):
        return None
    from keras.saving import serialize_keras_object

    return _plain(serialize_keras_object(network.get_compile_config()))


def _plain(value):
    """JSON data: tuples become lists, arrays become a marker the checks refuse."""
    return json.loads(json.dumps(value, default=lambda v: {"array": True}))


def _read_layers(config, notes: list[str]) -> tuple[tuple | None, list[LayerSpec]]:
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential",
                                                                          "Functional"):
        raise RecipeError(_("The tuned network should be a keras.Sequential network."))
    input_shape, entries = _chain(config, depth=0)
    specs = []
    for number, entry in enumerate(entries, start=1):
        specs.append(_read_layer(number, entry, notes))
    return input_shape, specs


def _chain(config: dict, depth: int) -> tuple[tuple | None, list[dict]]:
    """The input shape and the layers of a network, in order, inner networks opened up."""
    if depth > MAX_DEPTH:
        raise RecipeError(_("The network holds networks nested too deeply: put its layers "
                            "in one keras.Sequential([...])."))
    inner = config.get("config") or {}
    layers = inner.get("layers")
    if not isinstance(layers, list):
        raise RecipeError("The network's layers could not be read.")
    if config.get("class_name") == "Functional":
        _require_straight_line(inner)
    input_shape, entries = None, []
    for entry in layers:
        if not isinstance(entry, dict):
            raise RecipeError("The network's layers could not be read.")
        kind = entry.get("class_name")
        if kind == "InputLayer":
            shape = (entry.get("config") or {}).get("batch_shape")
            if isinstance(shape, list) and not entries and input_shape is None:
                input_shape = _shape(shape[1:])
            continue
        if kind in ("Sequential", "Functional"):
            shape, nested = _chain(entry, depth + 1)
            if input_shape is None and not entries:
                input_shape = shape
            entries.extend(nested)
            continue
        entries.append(entry)
    if input_shape is None:
        built = (inner.get("build_input_shape") or (config.get("build_config") or {})
                 .get("input_shape"))
        if isinstance(built, list) and len(built) > 1:
            input_shape = _shape(built[1:])
    return input_shape, entries


def _shape(values: list) -> tuple | None:
    if all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 4096 for v in values):
        return tuple(values)
    return None


def _require_straight_line(inner: dict) -> None:
    """A functional network is taken when it is a chain: each layer feeds only the next."""
    previous = None
    for entry in inner.get("layers", []):
        name = (entry.get("config") or {}).get("name") or entry.get("name")
        nodes = entry.get("inbound_nodes") or []
        sources = [arg["config"]["keras_history"][0] for node in nodes
                   for arg in (node.get("args") or []) if isinstance(arg, dict)
                   and arg.get("class_name") == "__keras_tensor__"] if nodes else []
        if previous is not None and sources != [previous]:
            raise RecipeError(_("The tuned network should be one chain of layers, each "
                                "feeding the next: build it with keras.Sequential([...])."))
        previous = entry.get("name") or name


def _read_layer(number: int, entry: dict, notes: list[str]) -> LayerSpec:
    kind = entry.get("class_name")
    if entry.get("registered_name") not in (None, kind) or \
            entry.get("module") not in (None, "keras.layers") or kind not in LAYER_SETTINGS:
        raise RecipeError(_(
            "Layer {number} is a {kind}, which a recipe may not contain. The grader builds "
            "the network again from Keras' own layers: {layers}.").format(
            number=number, kind=kind or _("layer of unknown kind"),
            layers=", ".join(LAYER_SETTINGS)))
    config = entry.get("config") or {}
    allowed = LAYER_SETTINGS[kind]
    settings = {}
    for name, check in allowed.items():
        if name in config:
            settings[name] = _checked(check, config[name], _layer_name(number, kind), name)
    _note_resets(_layer_name(number, kind), config, settings, _layer_defaults(kind, settings),
                 notes)
    return LayerSpec(kind, settings)


def _layer_name(number: int, kind: str) -> str:
    return _("layer {number} ({kind})").format(number=number, kind=kind)


def _checked(check, value, owner: str, name: str):
    try:
        return check(value)
    except (ValueError, TypeError, KeyError) as error:
        shown = _("an array") if isinstance(value, dict) and value.get("array") else \
            json.dumps(value)[:60]
        raise RecipeError(_("The setting {name} of {owner} is {shown}; a recipe takes "
                            "{allowed} there.").format(name=name, owner=owner, shown=shown,
                                                      allowed=error)) from None


def _layer_defaults(kind: str, settings: dict) -> dict:
    import keras

    return _plain(_make_layer(keras, LayerSpec(kind, settings)).get_config())


def _note_resets(owner: str, config: dict, kept: dict, defaults: dict, notes: list) -> None:
    """Note each setting that differs from Keras' default and is not part of a recipe."""
    reset = [name for name in config if name not in kept and name not in _IGNORED
             and _comparable(config[name]) != _comparable(defaults.get(name))]
    if reset:
        notes.append(f"{owner}: {', '.join(reset)}")


def _comparable(value):
    """A setting as data to compare, without Keras' bookkeeping of shared objects."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()
                if k not in ("shared_object_id", "registered_name", "module")}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _read_compile(compiled, notes: list[str]):
    if not isinstance(compiled, dict) or compiled.get("optimizer") is None:
        return None, None, []
    loss = compiled.get("loss")
    loss_settings = loss.get("config") if isinstance(loss, dict) else None
    if isinstance(loss_settings, dict) and any(
            value not in (None, False, 0, 0.0) for name, value in loss_settings.items()
            if name not in ("name", "reduction", "axis", "dtype")):
        notes.append(_("the loss: its settings"))
    for name in ("loss_weights", "weighted_metrics", "steps_per_execution", "jit_compile",
                 "run_eagerly"):
        if compiled.get(name) not in (None, False, 1, "auto"):
            notes.append(_("the compile setting {name}").format(name=name))
    return (_read_optimizer(compiled["optimizer"], notes), _loss_name(loss),
            _metric_names(compiled.get("metrics")))


def _read_optimizer(entry, notes: list[str]) -> OptimizerSpec:
    if isinstance(entry, str):
        entry = {"class_name": _OPTIMIZER_NAMES.get(entry.lower(), entry), "config": {}}
    kind = entry.get("class_name") if isinstance(entry, dict) else None
    if kind not in OPTIMIZER_SETTINGS or entry.get("registered_name") not in (None, kind) or \
            entry.get("module") not in (None, "keras.optimizers"):
        raise RecipeError(_("The optimizer is {kind}, which a recipe may not contain: use "
                            "one of Keras' optimizers, {optimizers}.").format(
            kind=kind or _("of an unknown kind"), optimizers=", ".join(OPTIMIZER_SETTINGS)))
    config = entry.get("config") or {}
    if isinstance(config.get("learning_rate"), dict) and not config["learning_rate"].get(
            "array"):
        raise RecipeError(_("The optimizer's learning_rate is a schedule; a recipe takes "
                            "one number there, e.g. keras.optimizers.Adam(learning_rate=0.001)."))
    owner = _("the optimizer ({kind})").format(kind=kind)
    settings = {name: _checked(check, config[name], owner, name)
                for name, check in OPTIMIZER_SETTINGS[kind].items() if name in config}
    import keras

    defaults = _plain(getattr(keras.optimizers, kind)(**settings).get_config())
    _note_resets(owner, config, settings, defaults, notes)
    return OptimizerSpec(kind, settings)


def _loss_name(loss) -> str | None:
    if isinstance(loss, dict):
        loss = loss.get("class_name") if loss.get("class_name") != "function" else \
            loss.get("config")
    if not isinstance(loss, str):
        return None if loss is None else "an unknown loss"
    # keras.losses.CategoricalCrossentropy() and the string name mean the same thing.
    return re.sub(r"(?<!^)(?=[A-Z])", "_", loss).lower() if loss[:1].isupper() else loss


def _metric_names(metrics) -> list[str]:
    names = []
    for metric in metrics if isinstance(metrics, list) else [metrics] if metrics else []:
        if isinstance(metric, dict):
            metric = (metric.get("config") or {}).get("name") or metric.get("class_name")
        names.append("accuracy" if metric in ("acc", "accuracy") else str(metric))
    return names
