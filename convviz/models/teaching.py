"""The teaching models: small Keras networks sized for 32x32 CIFAR-10 images, built from layers.

Every model takes uint8 images ``(32, 32, 3)`` and scales them to [0, 1] in its first layer,
and returns 10 logits. ``TEACHING_MODELS`` maps a name to its builder, for the command line
(``convviz costs baseline``) and the experiments runner (:mod:`convviz.experiments`).

One builder per idea, in the order the notebooks meet them:

- ``baseline_cnn``: the plain CNN everything is compared with.
- ``single_5x5`` / ``stacked_3x3``: VGG's point, two 3x3 convolutions see what one 5x5 sees.
- ``inception_module`` / ``inception_net``: parallel branches, and 1x1 dimension reduction.
- ``segment_block`` / ``segment_net``: the spectrum from a regular convolution to a depthwise
  separable one (Xception, section 1.2).
- ``xception_cifar``: Xception's entry, middle and exit flows, with or without residuals.
- ``mobilenet_cifar`` / ``mobilenet_twin``: MobileNet v1 with its two multipliers, and the same
  network with standard convolutions (the paper's Table 4).
- ``small_cnn``, ``ChannelShuffle``, ``shufflenet_cifar``: the small-network toolbox (global
  average pooling, late downsampling, grouped 1x1 convolutions with a channel shuffle).
"""
from __future__ import annotations

import numbers

import keras
from keras import layers

INPUT_SHAPE = (32, 32, 3)
NUM_CLASSES = 10


def _check_positive(**values):
    for name, value in values.items():
        if not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number; got {value!r}")


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def _check_choice(name: str, value, allowed: tuple):
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def _check_fraction(name: str, value, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= 1:
        raise ValueError(f"{name} must be a number in [{low:g}, 1]; got {value!r}")
    return float(value)


# Batch norm's moving statistics average over about 1 / (1 - momentum) steps. Keras's default
# (0.99, ~100 steps) suits long ImageNet runs; a class-profile run is ~1,200 steps while the
# weights move fast, and with 0.99 the test-time statistics lag so far behind that the
# MobileNet evaluated at chance after its first class-profile epoch (measured: 10.0 % test
# accuracy with 0.99, 42.4 % with 0.9).
BN_MOMENTUM = 0.9


def _bn(name=None):
    return layers.BatchNormalization(momentum=BN_MOMENTUM, name=name)


def _inputs(name: str = "images"):
    x = keras.Input(INPUT_SHAPE, name=name)
    return x, layers.Rescaling(1 / 255.0, name="scale")(x)


def _logits(x):
    """The dense layer to the 10 logits. It computes in float32 whatever the global dtype
    policy: under mixed precision (``mixed_float16``, on a GPU) the softmax and the loss stay
    stable."""
    return layers.Dense(NUM_CLASSES, name="logits", dtype="float32")(x)


def _head(x):
    """Global average pooling and one dense layer to the 10 logits (:func:`_logits`)."""
    return _logits(layers.GlobalAveragePooling2D(name="gap")(x))


def conv_bn_relu(x, filters: int, kernel_size: int = 3, strides: int = 1, name: str | None = None):
    """Convolution without bias, batch normalisation, ReLU: the unit the plain networks stack."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                      name=None if name is None else f"{name}_conv")(x)
    x = _bn(name=None if name is None else f"{name}_bn")(x)
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
    return keras.Model(inputs, _head(x), name=name)


# --------------------------------------------------------------------------- VGG's point


def _five_by_five_net(width, stacked: bool, name: str) -> keras.Model:
    """The network both VGG builders share; only the unit of each stage differs."""
    width = _check_int("width", width)
    inputs, x = _inputs()
    x = conv_bn_relu(x, width, 3, name="stem")
    for stage, filters in enumerate((width, 2 * width, 4 * width), start=1):
        if stage > 1:  # halve the map, then widen with a 1x1 so every unit keeps its width
            x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)
            x = conv_bn_relu(x, filters, 1, name=f"s{stage}_widen")
        if stacked:
            x = conv_bn_relu(x, filters, 3, name=f"s{stage}_3x3a")
            x = conv_bn_relu(x, filters, 3, name=f"s{stage}_3x3b")
        else:
            x = conv_bn_relu(x, filters, 5, name=f"s{stage}_5x5")
    return keras.Model(inputs, _head(x), name=name)


def single_5x5(width: int = 24) -> keras.Model:
    """VGG's point, the 'before': each stage is one 5x5 conv-BN-ReLU unit.

    Stages at 32x32, 16x16 and 8x8 with ``width``, 2x and 4x channels. A 3x3 stem and a 1x1
    widening conv at the start of stages 2 and 3 (shared with :func:`stacked_3x3`) keep the
    width constant inside each unit, so a unit costs ``25 C^2`` weights per position.
    """
    return _five_by_five_net(width, stacked=False, name="single_5x5")


def stacked_3x3(width: int = 24) -> keras.Model:
    """VGG's point, the 'after': each 5x5 unit of :func:`single_5x5` becomes two 3x3 units.

    The same 5x5 receptive field at the same width, with ``18 C^2`` instead of ``25 C^2``
    weights (28% fewer) and one more ReLU between them.
    """
    return _five_by_five_net(width, stacked=True, name="stacked_3x3")


# --------------------------------------------------------------------------- Inception

# GoogLeNet's modules 3a, 3b, 4a and 4b (Szegedy et al. 2014, Table 1): #1x1, #3x3 reduce,
# #3x3, #5x5 reduce, #5x5, pool proj. inception_net scales them by width / 64.
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
}


def inception_module(x, n1x1: int, n3x3_reduce: int, n3x3: int, n5x5_reduce: int, n5x5: int,
                     pool_proj: int, reduced: bool = True, name: str = "inception"):
    """An Inception module: 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool, side by side.

    The four branches see the same input and their outputs are concatenated on channels.
    ``reduced=False`` is the naive module (GoogLeNet's Figure 2a): the 3x3 and 5x5 convolve
    all input channels and the pool branch passes them through, so ``n3x3_reduce``,
    ``n5x5_reduce`` and ``pool_proj`` are unused and the output is ``n1x1 + n3x3 + n5x5 +
    C_in`` channels wide. ``reduced=True`` (Figure 2b) puts a 1x1 convolution with
    ``n3x3_reduce`` / ``n5x5_reduce`` filters before the 3x3 and 5x5, and ``pool_proj``
    after the pool: far fewer mult-adds, and an output of ``n1x1 + n3x3 + n5x5 + pool_proj``.
    Every convolution is conv-BN-ReLU.
    """
    for arg, value in (("n1x1", n1x1), ("n3x3_reduce", n3x3_reduce), ("n3x3", n3x3),
                       ("n5x5_reduce", n5x5_reduce), ("n5x5", n5x5), ("pool_proj", pool_proj)):
        _check_int(arg, value)
    _check_choice("reduced", reduced, (True, False))
    b1 = conv_bn_relu(x, n1x1, 1, name=f"{name}_1x1")
    b3, b5 = x, x
    if reduced:
        b3 = conv_bn_relu(x, n3x3_reduce, 1, name=f"{name}_3x3_reduce")
        b5 = conv_bn_relu(x, n5x5_reduce, 1, name=f"{name}_5x5_reduce")
    b3 = conv_bn_relu(b3, n3x3, 3, name=f"{name}_3x3")
    b5 = conv_bn_relu(b5, n5x5, 5, name=f"{name}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    if reduced:
        bp = conv_bn_relu(bp, pool_proj, 1, name=f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


def inception_net(reduced: bool = True, width: int = 12) -> keras.Model:
    """A small GoogLeNet: a 3x3 stem, modules 3a and 3b at 16x16, 4a and 4b at 8x8.

    The modules are GoogLeNet's (``GOOGLENET_MODULES``) scaled by ``width / 64`` (3/16 with
    the default 12); the stem has 3 x ``width`` channels, as GoogLeNet's 192 is 3 x 64.
    ``reduced=False`` uses the naive modules: the same branches without the 1x1 reductions,
    so the channels pile up (every module adds its input to its output) and the 3x3 and 5x5
    convolutions see all of them.
    """
    width = _check_int("width", width, minimum=4)
    _check_choice("reduced", reduced, (True, False))
    scale = width / 64
    inputs, x = _inputs()
    x = conv_bn_relu(x, 3 * width, 3, name="stem")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)  # 16x16
    for module, filters in GOOGLENET_MODULES.items():
        if module == "4a":
            x = layers.MaxPooling2D(2, name="pool3")(x)  # 8x8
        x = inception_module(x, *(max(1, round(f * scale)) for f in filters),
                             reduced=reduced, name=f"inception{module}")
    return keras.Model(inputs, _head(x), name="inception" if reduced else "inception_naive")


# --------------------------------------------------------------------------- segment spectrum


@keras.saving.register_keras_serializable(package="convviz")
class GroupConv2D(layers.Conv2D):
    """``keras.layers.Conv2D`` with ``groups > 1``, run as one convolution per channel group.

    The same layer (configuration, weights, outputs); only the computation differs.
    TensorFlow's CPU kernels for grouped convolutions are 10 to 200 times slower in training
    than a plain convolution of the same size (measured on TF 2.21), which would make the
    grouped models untrainable in a class. Channels-last only.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.data_format != "channels_last":
            raise ValueError(f"data_format must be 'channels_last' for GroupConv2D; "
                             f"got {self.data_format!r}")

    def call(self, inputs):
        if self.groups == 1:
            return super().call(inputs)
        parts = keras.ops.split(inputs, self.groups, axis=-1)
        kernels = keras.ops.split(self.kernel, self.groups, axis=-1)
        x = keras.ops.concatenate(
            [keras.ops.conv(part, kernel, strides=self.strides, padding=self.padding,
                            dilation_rate=self.dilation_rate)
             for part, kernel in zip(parts, kernels)], axis=-1)
        if self.use_bias:
            x = x + self.bias
        return x if self.activation is None else self.activation(x)


ORDERS = ("pointwise_first", "spatial_first")


def segment_block(x, segments: int, order: str = "pointwise_first", inner_activation: bool = True,
                  name: str = "segment"):
    """A 1x1 convolution and a 3x3 convolution over ``segments`` channel groups, C -> C channels.

    The Xception paper's spectrum (section 1.2): ``segments=1`` is a regular 3x3 convolution
    next to a 1x1; in between, the 3x3 is a grouped convolution (:class:`GroupConv2D`, a
    ``Conv2D`` with ``groups=segments``); ``segments=C`` (one channel per group, built as
    ``DepthwiseConv2D``, which costs the same as ``groups=C``) is depthwise.
    ``order='pointwise_first'`` runs the 1x1 first (Inception; with ``segments=C`` the
    "extreme Inception" module); ``'spatial_first'`` runs the 3x3 first, and with
    ``segments=C`` and ``inner_activation=False`` is exactly a depthwise separable convolution
    (``SeparableConv2D``). ``inner_activation`` puts BN + ReLU between the two steps; the
    block always ends with BN + ReLU. No biases (batch norm follows), as in
    ``convviz.core.spectrum.segment_costs(..., use_bias=False)``.
    """
    channels = int(x.shape[-1])
    segments = _check_int("segments", segments)
    if channels % segments:
        divisors = [g for g in range(1, channels + 1) if channels % g == 0]
        raise ValueError(f"segments must divide the {channels} channels; allowed: {divisors}; "
                         f"got {segments}")
    _check_choice("order", order, ORDERS)
    _check_choice("inner_activation", inner_activation, (True, False))

    def spatial(y):
        if segments == channels:
            return layers.DepthwiseConv2D(3, padding="same", use_bias=False,
                                          name=f"{name}_depthwise")(y)
        conv = layers.Conv2D if segments == 1 else GroupConv2D
        return conv(channels, 3, padding="same", groups=segments, use_bias=False,
                    name=f"{name}_3x3_g{segments}")(y)

    def pointwise(y):
        return layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_1x1")(y)

    first, second = (pointwise, spatial) if order == "pointwise_first" else (spatial, pointwise)
    x = first(x)
    if inner_activation:
        x = _bn(name=f"{name}_inner_bn")(x)
        x = layers.ReLU(name=f"{name}_inner_relu")(x)
    x = second(x)
    x = _bn(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def segment_net(segments: int = 1, order: str = "pointwise_first", inner_activation: bool = True,
                width: int = 32, blocks: int = 1) -> keras.Model:
    """One network per point of the segment spectrum: only the segment count changes.

    A 3x3 stem to ``width`` channels, then three stages (32x32, 16x16, 8x8, max pooling
    between) of ``blocks`` :func:`segment_block` units, all ``width`` channels wide so that
    one ``segments`` value means the same thing everywhere: 1 a regular convolution, ``width``
    depthwise. ``segments`` must divide ``width``.
    """
    width = _check_int("width", width)
    blocks = _check_int("blocks", blocks)
    segments = _check_int("segments", segments)
    if width % segments:
        divisors = [g for g in range(1, width + 1) if width % g == 0]
        raise ValueError(f"segments must divide width={width}; allowed: {divisors}; got {segments}")
    _check_choice("order", order, ORDERS)
    _check_choice("inner_activation", inner_activation, (True, False))
    inputs, x = _inputs()
    x = conv_bn_relu(x, width, 3, name="stem")
    for stage in (1, 2, 3):
        if stage > 1:
            x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)
        for b in range(1, blocks + 1):
            x = segment_block(x, segments, order, inner_activation, name=f"s{stage}b{b}")
    suffix = "" if inner_activation else "_linear"
    return keras.Model(inputs, _head(x), name=f"segments_g{segments}_{order}{suffix}")


# --------------------------------------------------------------------------- Xception


def _relu_sepconv_bn(x, filters: int, name: str, relu_first: bool = True):
    """Xception's unit: ReLU, 3x3 separable convolution (no bias), batch norm."""
    if relu_first:
        x = layers.ReLU(name=f"{name}_relu")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False,
                               name=f"{name}_sepconv")(x)
    return _bn(name=f"{name}_bn")(x)


def _xception_down_block(x, filters: tuple, residual: bool, name: str, relu_first: bool = True):
    """Two separable units and a stride-2 max pool; the shortcut is a strided 1x1 conv + BN."""
    y = _relu_sepconv_bn(x, filters[0], f"{name}_sep1", relu_first)
    y = _relu_sepconv_bn(y, filters[1], f"{name}_sep2")
    y = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(y)
    if not residual:
        return y
    shortcut = layers.Conv2D(filters[1], 1, strides=2, use_bias=False, name=f"{name}_shortcut")(x)
    shortcut = _bn(name=f"{name}_shortcut_bn")(shortcut)
    return layers.Add(name=f"{name}_add")([y, shortcut])


def xception_cifar(residual: bool = True, middle_blocks: int = 4, width: int = 16) -> keras.Model:
    """Xception (Chollet 2017) for 32x32 images: entry, middle and exit flows.

    - Entry flow at 32x32: two 3x3 conv-BN-ReLU (``width``/2 and ``width`` channels), then
      two blocks of two separable convolutions and a stride-2 max pool (2x and 4x ``width``
      channels; 32 -> 16 -> 8). No early striding: the paper's stride-2 stem would leave a
      32x32 image at 1x1 by the middle flow.
    - Middle flow at 8x8: ``middle_blocks`` residual blocks of three ReLU-SeparableConv-BN
      units, 4x ``width`` channels (the paper has eight at 728).
    - Exit flow at 4x4: a block to 4x and 8x ``width`` channels (8 -> 4), then separable
      convolutions to 12x and 16x ``width`` (where the paper has 1536 and 2048), global
      average pooling and the logits.

    The default ``width=16`` (8 to 256 channels, 0.18M parameters; the paper's run from 32
    to 2048) is sized to train in the class profile on two CPU cores.

    ``residual=False`` drops the skip connections, the paper's Figure 9 comparison: the same
    layers, less the strided 1x1 shortcut convolutions (and their batch norms) of the
    downsampling blocks.
    """
    _check_choice("residual", residual, (True, False))
    middle_blocks = _check_int("middle_blocks", middle_blocks, minimum=0)
    width = _check_int("width", width, minimum=2)
    inputs, x = _inputs()
    x = conv_bn_relu(x, width // 2, 3, name="entry_conv1")
    x = conv_bn_relu(x, width, 3, name="entry_conv2")
    x = _xception_down_block(x, (2 * width, 2 * width), residual, "entry_block1", relu_first=False)
    x = _xception_down_block(x, (4 * width, 4 * width), residual, "entry_block2")
    for i in range(1, middle_blocks + 1):
        y = x
        for j in (1, 2, 3):
            y = _relu_sepconv_bn(y, 4 * width, f"middle{i}_sep{j}")
        x = layers.Add(name=f"middle{i}_add")([x, y]) if residual else y
    x = _xception_down_block(x, (4 * width, 8 * width), residual, "exit_block")
    x = _relu_sepconv_bn(x, 12 * width, "exit_sep1", relu_first=False)
    x = layers.ReLU(name="exit_sep1_relu")(x)
    x = _relu_sepconv_bn(x, 16 * width, "exit_sep2", relu_first=False)
    x = layers.ReLU(name="exit_sep2_relu")(x)
    return keras.Model(inputs, _head(x), name="xception" if residual else "xception_noresidual")


# --------------------------------------------------------------------------- MobileNet

# MobileNet v1's body (Howard et al. 2017, Table 1) after the first 3x3 conv: (pointwise
# channels, depthwise stride). Changes for 32x32 images on a CPU: every width is half the
# paper's (its 32..1024 become 16..512: alpha=1.0 here is the paper's alpha=0.5), and only
# three of the paper's five stride-2 steps remain (the first conv and the 13th layer have
# stride 1), so 32x32 becomes a 4x4 map (the paper: 224 to 7).
MOBILENET_STEM = 16
MOBILENET_BODY = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2),
                  (256, 1), (256, 1), (256, 1), (256, 1), (256, 1), (512, 1), (512, 1))


def _mobilenet_start(alpha, rho):
    """Validated multipliers, the inputs, and the (resized) scaled image."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha <= 1:
        raise ValueError(f"alpha must be a number in (0, 1] (the width multiplier); got {alpha!r}")
    rho = _check_fraction("rho", rho, 0.25)
    inputs, x = _inputs()
    size = round(INPUT_SHAPE[0] * rho)
    if size != INPUT_SHAPE[0]:
        x = layers.Resizing(size, size, name="resize")(x)
    return inputs, x, (lambda channels: max(1, round(channels * alpha))), size


def mobilenet_cifar(alpha: float = 1.0, rho: float = 1.0) -> keras.Model:
    """MobileNet v1 for CIFAR-10: depthwise separable convolutions all the way down.

    A 3x3 conv-BN-ReLU (stride 1), then 13 pairs of a 3x3 depthwise conv + BN + ReLU and a
    1x1 pointwise conv + BN + ReLU (``MOBILENET_BODY``: 32 to 512 channels, three stride-2
    depthwise convs, 32x32 -> 4x4), global average pooling and the logits.

    - ``alpha``, the width multiplier, scales every layer's channels: mult-adds and
      parameters shrink by about ``alpha**2``.
    - ``rho``, the resolution multiplier, resizes the image to ``round(32 * rho)`` pixels
      right after scaling it: mult-adds shrink by about ``rho**2``, parameters not at all.
    """
    inputs, x, scaled, size = _mobilenet_start(alpha, rho)
    x = conv_bn_relu(x, scaled(MOBILENET_STEM), 3, name="conv1")
    for i, (channels, strides) in enumerate(MOBILENET_BODY, start=1):
        x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False,
                                   name=f"conv_dw_{i}")(x)
        x = _bn(name=f"conv_dw_{i}_bn")(x)
        x = layers.ReLU(name=f"conv_dw_{i}_relu")(x)
        x = conv_bn_relu(x, scaled(channels), 1, name=f"conv_pw_{i}")
    return keras.Model(inputs, _head(x), name=f"mobilenet_{alpha:g}_{size}")


def mobilenet_twin(alpha: float = 1.0, rho: float = 1.0) -> keras.Model:
    """:func:`mobilenet_cifar` with every depthwise + pointwise pair as one standard 3x3 conv.

    Same channels, strides and multipliers; each pair becomes a 3x3 conv-BN-ReLU with the
    pair's output channels: the "Conv MobileNet" row of the paper's Table 4, about 8 to 9
    times the mult-adds and parameters.
    """
    inputs, x, scaled, size = _mobilenet_start(alpha, rho)
    x = conv_bn_relu(x, scaled(MOBILENET_STEM), 3, name="conv1")
    for i, (channels, strides) in enumerate(MOBILENET_BODY, start=1):
        x = conv_bn_relu(x, scaled(channels), 3, strides=strides, name=f"conv_{i}")
    return keras.Model(inputs, _head(x), name=f"mobilenet_twin_{alpha:g}_{size}")


# --------------------------------------------------------------------------- small-network toolbox

HEADS = ("gap", "fc")
DOWNSAMPLING = ("late", "early")


def small_cnn(width: int = 32, head: str = "gap", downsample: str = "late",
              fc_units: int = 256) -> keras.Model:
    """Two tricks of small networks, on six 3x3 conv-BN-ReLU units (1, 1, 2, 2, 4, 4 x ``width``).

    - ``head='gap'``: global average pooling, then one dense layer (Network in Network,
      GoogLeNet): a few thousand parameters. ``head='fc'``: flatten the 8x8 map and use two
      dense layers (``fc_units``, with dropout 0.5, as VGG and AlexNet do): that head holds
      most of the network's parameters.
    - ``downsample='late'``: the two stride-2 convolutions come in the third and fifth units,
      so the early units work on 32x32 maps (SqueezeNet's "downsample late"). ``'early'``: the
      first two units have stride 2 and everything after runs at 8x8. The same layers and
      parameters; early costs about half the mult-adds (and, SqueezeNet argues, accuracy).
    """
    width = _check_int("width", width)
    fc_units = _check_int("fc_units", fc_units)
    _check_choice("head", head, HEADS)
    _check_choice("downsample", downsample, DOWNSAMPLING)
    strides = (1, 1, 2, 1, 2, 1) if downsample == "late" else (2, 2, 1, 1, 1, 1)
    inputs, x = _inputs()
    for i, (multiple, stride) in enumerate(zip((1, 1, 2, 2, 4, 4), strides), start=1):
        x = conv_bn_relu(x, multiple * width, 3, strides=stride, name=f"unit{i}")
    if head == "gap":
        logits = _head(x)
    else:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(fc_units, activation="relu", name="fc1")(x)
        x = layers.Dropout(0.5, name="fc1_dropout")(x)
        logits = _logits(x)
    return keras.Model(inputs, logits, name=f"small_cnn_{head}_{downsample}")


@keras.saving.register_keras_serializable(package="convviz")
class ChannelShuffle(layers.Layer):
    """ShuffleNet's channel shuffle: (H, W, C) -> (H, W, groups, C/groups), transpose, (H, W, C).

    After a grouped convolution, channel ``k`` of group ``i`` moves to position
    ``k * groups + i``: the next grouped convolution then sees one channel from every group,
    so information flows between groups. No weights, no mult-adds: a permutation.
    """

    def __init__(self, groups: int, **kwargs):
        super().__init__(**kwargs)
        self.groups = _check_int("groups", groups)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"groups must divide the input channels ({channels}); "
                             f"got groups={self.groups}")
        super().build(input_shape)

    def call(self, x):
        shape = keras.ops.shape(x)
        channels = x.shape[-1]
        x = keras.ops.reshape(x, (-1, shape[1], shape[2], self.groups, channels // self.groups))
        x = keras.ops.transpose(x, (0, 1, 2, 4, 3))
        return keras.ops.reshape(x, (-1, shape[1], shape[2], channels))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


# ShuffleNet v1's stage-2 output channels at 1x for each group count (Zhang et al. 2017,
# Table 1); stages 3 and 4 double them, the bottleneck is a quarter of a unit's output.
SHUFFLENET_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
SHUFFLENET_STEM = 24


def _grouped_1x1(x, filters: int, groups: int, name: str):
    conv = layers.Conv2D if groups == 1 else GroupConv2D
    return conv(filters, 1, groups=groups, use_bias=False, name=name)(x)


def _shuffle_unit(x, out_channels: int, groups: int, strides: int, shuffle: bool, name: str,
                  first_groups: int | None = None):
    """Grouped 1x1 + BN + ReLU, shuffle, 3x3 depthwise (stride) + BN, grouped 1x1 + BN.

    Stride 1 adds the input back; stride 2 concatenates a 3x3 average-pooled input, so the
    branch makes only ``out_channels - C_in`` channels. ReLU after the merge.
    """
    first_groups = groups if first_groups is None else first_groups
    branch_out = out_channels - x.shape[-1] if strides == 2 else out_channels
    y = _grouped_1x1(x, out_channels // 4, first_groups, f"{name}_gconv1")
    y = _bn(name=f"{name}_gconv1_bn")(y)
    y = layers.ReLU(name=f"{name}_gconv1_relu")(y)
    if shuffle and first_groups > 1:
        y = ChannelShuffle(first_groups, name=f"{name}_shuffle")(y)
    y = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False,
                               name=f"{name}_dw")(y)
    y = _bn(name=f"{name}_dw_bn")(y)
    y = _grouped_1x1(y, branch_out, groups, f"{name}_gconv2")
    y = _bn(name=f"{name}_gconv2_bn")(y)
    if strides == 2:
        shortcut = layers.AveragePooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
        y = layers.Concatenate(name=f"{name}_concat")([shortcut, y])
    else:
        y = layers.Add(name=f"{name}_add")([x, y])
    return layers.ReLU(name=f"{name}_relu")(y)


def shufflenet_cifar(groups: int = 4, shuffle: bool = True, scale: float = 0.5,
                     repeats: tuple = (1, 2, 1)) -> keras.Model:
    """ShuffleNet v1 for CIFAR-10: grouped 1x1 convolutions, made to talk by a channel shuffle.

    A 3x3 stem (24 channels, stride 1), then three stages of ShuffleNet units (``repeats``
    units each, the first with stride 2: 32 -> 16 -> 8 -> 4; the paper has 4, 8 and 4) of
    ``SHUFFLENET_WIDTHS[groups] * scale`` channels, doubling per stage (rounded to a
    multiple of ``4 * groups``). The 1x1 convolutions are grouped (``groups``), so they
    cost 1/groups of a regular 1x1, and a wider network fits the same budget.
    ``shuffle=False`` leaves out the shuffle (the paper's Table 2 comparison): each group
    then only ever sees its own channels. As in the paper, the very first 1x1 (on the 24
    stem channels) is not grouped.
    """
    groups = _check_choice("groups", _check_int("groups", groups), tuple(SHUFFLENET_WIDTHS))
    _check_choice("shuffle", shuffle, (True, False))
    _check_positive(scale=scale)
    if (not isinstance(repeats, (tuple, list)) or len(repeats) != 3
            or any(isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1
                   for r in repeats)):
        raise ValueError(f"repeats must be three ints >= 1 (units per stage); got {repeats!r}")
    step = 4 * groups
    base = step * round(SHUFFLENET_WIDTHS[groups] * scale / step)
    if base <= SHUFFLENET_STEM:
        raise ValueError(f"scale must leave stage 2 wider than the {SHUFFLENET_STEM}-channel stem "
                         f"(got {base} channels); got scale={scale!r}")
    inputs, x = _inputs()
    x = conv_bn_relu(x, SHUFFLENET_STEM, 3, name="stem")
    for stage, (channels, units) in enumerate(zip((base, 2 * base, 4 * base), repeats), start=2):
        for u in range(1, units + 1):
            first = stage == 2 and u == 1
            x = _shuffle_unit(x, channels, groups, strides=2 if u == 1 else 1, shuffle=shuffle,
                              first_groups=1 if first else None, name=f"stage{stage}_unit{u}")
    suffix = "" if shuffle or groups == 1 else "_noshuffle"
    return keras.Model(inputs, _head(x), name=f"shufflenet_g{groups}{suffix}")


TEACHING_MODELS = {
    "baseline": baseline_cnn,
    "single_5x5": single_5x5,
    "stacked_3x3": stacked_3x3,
    "inception": inception_net,
    "segments": segment_net,
    "xception": xception_cifar,
    "mobilenet": mobilenet_cifar,
    "mobilenet_twin": mobilenet_twin,
    "small_cnn": small_cnn,
    "shufflenet": shufflenet_cifar,
}
