"""The teaching models: small Keras networks sized for 32x32 CIFAR-10 images, built from layers.

Every model takes uint8 images ``(32, 32, 3)`` and scales them to [0, 1] in its first layer,
and returns 10 logits. ``TEACHING_MODELS`` maps a name to its builder, for the command line
(``convviz costs baseline``) and the experiments runner.
"""
from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (32, 32, 3)
NUM_CLASSES = 10


def _check_positive(**values):
    for name, value in values.items():
        if not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number; got {value!r}")


def _inputs(name: str = "images"):
    x = keras.Input(INPUT_SHAPE, name=name)
    return x, layers.Rescaling(1 / 255.0, name="scale")(x)


def conv_bn_relu(x, filters: int, kernel_size: int = 3, strides: int = 1, name: str | None = None):
    """Convolution without bias, batch normalisation, ReLU: the unit the plain networks stack."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                      name=None if name is None else f"{name}_conv")(x)
    x = layers.BatchNormalization(name=None if name is None else f"{name}_bn")(x)
    return layers.ReLU(name=None if name is None else f"{name}_relu")(x)


def baseline_cnn(width: int = 32, name: str = "baseline") -> keras.Model:
    """The plain CNN every later notebook compares against.

    Three stages of two 3x3 conv-BN-ReLU units (``width``, 2x, 4x filters), max pooling
    between stages, global average pooling and one dense layer.
    """
    _check_positive(width=width)
    inputs, x = _inputs()
    for stage, filters in enumerate((width, 2 * width, 4 * width), start=1):
        x = conv_bn_relu(x, filters, name=f"s{stage}a")
        x = conv_bn_relu(x, filters, name=f"s{stage}b")
        if stage < 3:
            x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(NUM_CLASSES, name="logits")(x), name=name)


TEACHING_MODELS = {
    "baseline": baseline_cnn,
}
