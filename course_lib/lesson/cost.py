"""What training a recipe costs, counted from the recipe alone: the same on every machine.

How long training takes depends on the computer and on what else runs on it, so the tuned
network's budget is not a time but a count of work, made from the recipe's data
(:mod:`course_lib.lesson.recipe`) before anything is trained:

* **per training example**, each layer's forward pass: its multiply-adds (a ``Conv2D``
  one per kernel weight per output value, a ``Dense`` layer one per weight, a pooling layer
  one per value in each window) and :data:`VALUE_WEIGHT` for each value it outputs (the
  bias, the activation, dropout, normalisation and augmentation touch every value, and
  such passes are slow per value);
* times :data:`FORWARD_AND_BACKWARD`: the backward pass computes the gradients for the
  layer's input and for its weights, about twice the forward pass;
* times the training examples, times the epochs;
* plus, for every training step (one batch: ``ceil(examples / batch_size)`` per epoch),
  :data:`STEP_COST` and :data:`LAYER_STEP_COST` per layer: what a step costs beyond its
  arithmetic (starting the step, the optimizer's update, each layer's operations). This is
  the only place the batch size counts: a batch of 1 pays it for every example.

The result is in multiply-adds (the other terms as the multiply-adds that take as long;
the weights were measured on CPUs, see README). The student's quick check and the grader
call the same :func:`training_cost`, so the number a student sees is the number graded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from course_lib.lesson.language import _
from course_lib.lesson.recipe import Recipe, RecipeError

FORWARD_AND_BACKWARD = 3  # the backward pass is about twice the forward pass
VALUE_WEIGHT = 10  # multiply-adds that take as long as one pass over one output value
STEP_COST = 20_000_000  # per training step: starting it, the loss, the optimizer's update
LAYER_STEP_COST = 1_000_000  # per layer per training step: launching its operations

_POOLING = ("MaxPooling2D", "AveragePooling2D")
_GLOBAL_POOLING = ("GlobalMaxPooling2D", "GlobalAveragePooling2D")
_CONVOLUTIONS = ("Conv2D", "SeparableConv2D")


@dataclass(frozen=True)
class TrainingCost:
    """What training a recipe costs, in multiply-adds, and how that is made up."""

    per_example: int  # one forward pass over one example: multiply-adds and values weighted
    examples: int
    epochs: int
    batch_size: int
    steps: int  # training steps in all: ceil(examples / batch_size) per epoch
    layers: int

    @property
    def total(self) -> int:
        """The whole training: the examples' passes and the steps' overhead."""
        return (FORWARD_AND_BACKWARD * self.per_example * self.examples * self.epochs
                + self.steps * (STEP_COST + LAYER_STEP_COST * self.layers))

    @property
    def step_share(self) -> float:
        """The share of the total that the steps' overhead takes (large for small batches)."""
        return self.steps * (STEP_COST + LAYER_STEP_COST * self.layers) / self.total


def training_cost(recipe: Recipe, epochs: int, batch_size: int, examples: int) -> TrainingCost:
    """The cost of training ``recipe`` for ``epochs`` of ``examples`` in batches of
    ``batch_size``, counted from the recipe's data alone (no network is built).

    Raises :class:`~course_lib.lesson.recipe.RecipeError` when the layers do not fit together.
    """
    if recipe.input_shape is None:
        raise RecipeError(_("The network does not say what its input looks like: start "
                            "it with keras.Input(shape=(28, 28, 1))."))
    shape = tuple(recipe.input_shape)
    per_example = 0
    for number, spec in enumerate(recipe.layers, start=1):
        work, shape = _layer_work(spec.kind, spec.settings, shape, number)
        per_example += work + VALUE_WEIGHT * math.prod(shape)
    steps = epochs * math.ceil(examples / batch_size)
    return TrainingCost(per_example, examples, epochs, batch_size, steps, len(recipe.layers))


def _layer_work(kind: str, settings: dict, shape: tuple, number: int) -> tuple[int, tuple]:
    """A layer's multiply-adds per example, and the shape of its output."""
    if kind in _CONVOLUTIONS or kind in _POOLING or kind in _GLOBAL_POOLING:
        _require_image(shape, kind, number)
    if kind in _CONVOLUTIONS:
        (kh, kw), (sh, sw) = _two(settings["kernel_size"]), _two(settings.get("strides", 1))
        dh, dw = _two(settings.get("dilation_rate", 1))
        padding = settings.get("padding", "valid")
        height = _side(shape[0], kh, sh, padding, dh, kind, number)
        width = _side(shape[1], kw, sw, padding, dw, kind, number)
        filters, channels = settings["filters"], shape[2]
        if kind == "Conv2D":
            work = height * width * filters * kh * kw * channels
        else:  # one kernel per input channel, then a 1x1 convolution mixing them
            depth = channels * settings.get("depth_multiplier", 1)
            work = height * width * depth * (kh * kw + filters)
        return work, (height, width, filters)
    if kind in _POOLING:
        (ph, pw) = _two(settings.get("pool_size", 2))
        strides = settings.get("strides")
        (sh, sw) = _two(strides) if strides is not None else (ph, pw)
        padding = settings.get("padding", "valid")
        height = _side(shape[0], ph, sh, padding, 1, kind, number)
        width = _side(shape[1], pw, sw, padding, 1, kind, number)
        return height * width * shape[2] * ph * pw, (height, width, shape[2])
    if kind in _GLOBAL_POOLING:
        return math.prod(shape), (shape[2],)
    if kind == "Flatten":
        return 0, (math.prod(shape),)
    if kind == "Dense":
        units = settings["units"]
        return math.prod(shape) * units, (*shape[:-1], units)
    return 0, shape  # a pass over every value: activations, dropout, noise, normalisation


def _two(value) -> tuple[int, int]:
    return (value[0], value[1]) if isinstance(value, (list, tuple)) else (value, value)


def _side(size: int, window: int, stride: int, padding: str, dilation: int, kind: str,
          number: int) -> int:
    """An output's height or width, as Keras computes it."""
    if padding == "same":
        return math.ceil(size / stride)
    reach = dilation * (window - 1) + 1
    if reach > size:
        raise RecipeError(_(
            "Layer {number} ({kind}) has a window of {window} pixels, more than the {size} "
            "pixels left of the image: use a smaller window, padding='same', or fewer "
            "layers that shrink the image before it.").format(
            number=number, kind=kind, window=reach, size=size))
    return (size - reach) // stride + 1


def _require_image(shape: tuple, kind: str, number: int) -> None:
    if len(shape) != 3:
        raise RecipeError(_(
            "Layer {number} ({kind}) needs an image (height, width, channels), but the layer "
            "before gives it shape {shape}: put it before Flatten and the Dense layers.")
            .format(number=number, kind=kind, shape=shape))
