"""What training a recipe costs, counted from the recipe alone: the same on every machine.

How long training takes depends on the computer and on what else runs on it, so the tuned
network's budget is not a time but a count of work, made from the recipe's data
(:mod:`course_lib.lesson.recipe`) before anything is trained:

* **per training example**, each layer's forward pass: its multiply-adds (a ``Conv2D``
  one per kernel weight per output value, a ``Dense`` layer one per weight, a pooling layer
  one per value in each window) and, for each value it outputs, a pass over that value
  (the bias and activation; dropout, noise, normalisation and augmentation take more per
  value, :data:`VALUE_WEIGHTS`, and normalisation, dropout and noise also per pixel
  whatever its channels, :data:`POSITION_WEIGHTS`: on images with few channels they are
  slow per value);
* times :data:`FORWARD_AND_BACKWARD`: the backward pass computes the gradients for the
  layer's input and for its weights, about twice the forward pass;
* times the training examples, times the epochs;
* plus, for every training step (one batch: ``ceil(examples / batch_size)`` per epoch),
  :data:`STEP_COST`, :data:`LAYER_STEP_COST` per layer and :data:`WEIGHT_STEP_COST` per
  weight (the optimizer's update): what a step costs beyond its arithmetic. This is the
  only place the batch size counts, and why a batch of 1, which pays it for every example,
  costs so much.

The result is in multiply-adds; the other terms count as the multiply-adds that take as
long on a CPU (measured with Keras on two cores, benchmarks page: the weights lean to the slow
side, so that the cost rather overstates a recipe's time than understates it). The
student's quick check and the grader call the same :func:`training_cost`, so the number a
student sees is the number graded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from course_lib.lesson.language import _
from course_lib.lesson.recipe import Recipe, RecipeError

FORWARD_AND_BACKWARD = 3  # the backward pass is about twice the forward pass
VALUE_WEIGHT = 10  # a pass over one output value (bias, activation), in multiply-adds
# Layers that do more per value: random numbers, statistics over the batch, resampling.
VALUE_WEIGHTS = {
    "BatchNormalization": 100, "LayerNormalization": 120, "Dropout": 100,
    "SpatialDropout2D": 60, "GaussianNoise": 150, "GaussianDropout": 150,
    "RandomContrast": 100, "RandomRotation": 320, "RandomZoom": 320,
    "RandomTranslation": 320,
}
# Per output position (a pixel of an image, all its channels; one for a flat vector).
POSITION_WEIGHTS = {
    "BatchNormalization": 400, "LayerNormalization": 400, "Dropout": 150,
    "SpatialDropout2D": 150, "GaussianNoise": 250, "GaussianDropout": 250,
}
STEP_COST = 30_000_000  # per training step: starting it, the loss, the metrics
LAYER_STEP_COST = 10_000_000  # per layer per training step: starting its operations
WEIGHT_STEP_COST = 60  # per weight per training step: the optimizer's update

_POOLING = ("MaxPooling2D", "AveragePooling2D")
_GLOBAL_POOLING = ("GlobalMaxPooling2D", "GlobalAveragePooling2D")
_CONVOLUTIONS = ("Conv2D", "SeparableConv2D")


@dataclass(frozen=True)
class TrainingCost:
    """What training a recipe costs, in multiply-adds, and how that is made up."""

    per_example: int  # one forward pass over one example
    examples: int
    epochs: int
    batch_size: int
    layers: int
    weights: int  # the weights the optimizer updates at every step

    @property
    def steps(self) -> int:
        """The training steps in all: one per batch, ``ceil(examples / batch_size)`` an epoch."""
        return self.epochs * math.ceil(self.examples / self.batch_size)

    @property
    def per_step(self) -> int:
        """What one training step costs beyond its examples' passes."""
        return STEP_COST + LAYER_STEP_COST * self.layers + WEIGHT_STEP_COST * self.weights

    @property
    def total(self) -> int:
        """The whole training: the examples' passes, and the steps."""
        return (FORWARD_AND_BACKWARD * self.per_example * self.examples * self.epochs
                + self.steps * self.per_step)

    @property
    def step_share(self) -> float:
        """The share of the total that the steps take: large for small batches."""
        return self.steps * self.per_step / self.total


def training_cost(recipe: Recipe, epochs: int, batch_size: int, examples: int) -> TrainingCost:
    """The cost of training ``recipe`` for ``epochs`` over ``examples`` training examples in
    batches of ``batch_size``, counted from the recipe's data alone (no network is built).

    Raises :class:`~course_lib.lesson.recipe.RecipeError` when the layers do not fit
    together.
    """
    if recipe.input_shape is None:
        raise RecipeError(_("The network does not say what its input looks like: start "
                            "it with keras.Input(shape=(28, 28, 1))."))
    shape = tuple(recipe.input_shape)
    per_example = weights = 0
    for number, spec in enumerate(recipe.layers, start=1):
        work, layer_weights, shape = _layer_work(spec.kind, spec.settings, shape, number)
        per_example += (work + VALUE_WEIGHTS.get(spec.kind, VALUE_WEIGHT) * math.prod(shape)
                        + POSITION_WEIGHTS.get(spec.kind, 0) * math.prod(shape[:-1]))
        weights += layer_weights
    return TrainingCost(per_example, examples, epochs, batch_size, len(recipe.layers), weights)


def _layer_work(kind: str, settings: dict, shape: tuple, number: int) -> tuple[int, int, tuple]:
    """A layer's multiply-adds per example, its trained weights, and its output's shape."""
    if kind in _CONVOLUTIONS or kind in _POOLING or kind in _GLOBAL_POOLING:
        _require_image(shape, kind, number)
    bias = settings.get("use_bias", True)
    if kind in _CONVOLUTIONS:
        (kh, kw), (sh, sw) = _two(settings["kernel_size"]), _two(settings.get("strides", 1))
        dh, dw = _two(settings.get("dilation_rate", 1))
        padding = settings.get("padding", "valid")
        height = _side(shape[0], kh, sh, padding, dh, kind, number)
        width = _side(shape[1], kw, sw, padding, dw, kind, number)
        filters, channels = settings["filters"], shape[2]
        if kind == "Conv2D":
            work = height * width * filters * kh * kw * channels
            weights = kh * kw * channels * filters
        else:  # a kernel per input channel, then a 1x1 convolution that mixes them
            depth = channels * settings.get("depth_multiplier", 1)
            work = height * width * depth * (kh * kw + filters)
            weights = depth * (kh * kw + filters)
        return work, weights + filters * bias, (height, width, filters)
    if kind in _POOLING:
        ph, pw = _two(settings.get("pool_size", 2))
        strides = settings.get("strides")
        sh, sw = _two(strides) if strides is not None else (ph, pw)
        padding = settings.get("padding", "valid")
        height = _side(shape[0], ph, sh, padding, 1, kind, number)
        width = _side(shape[1], pw, sw, padding, 1, kind, number)
        return height * width * shape[2] * ph * pw, 0, (height, width, shape[2])
    if kind in _GLOBAL_POOLING:
        return math.prod(shape), 0, (shape[2],)
    if kind == "Flatten":
        return 0, 0, (math.prod(shape),)
    if kind == "Dense":
        units = settings["units"]
        return (math.prod(shape) * units, shape[-1] * units + units * bias,
                (*shape[:-1], units))
    if kind in ("BatchNormalization", "LayerNormalization"):
        kept = settings.get("center", True) + settings.get("scale", True)
        return 0, shape[-1] * kept, shape
    return 0, 0, shape  # a pass over every value: activations, dropout, noise, augmentation


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
