"""What a layer costs: parameters, mult-adds and output shape, one formula per function.

Plain Python, no TensorFlow: the calculator, the Keras reader
(``convviz.models.reader``), the plots and the notebooks all call these.

Conventions (explicit, never hidden)
------------------------------------
- Shapes are channels-last tuples without the batch dimension: ``(H, W, C)``.
  Kernel sizes, strides, dilations and pool sizes take an int or an ``(h, w)`` pair.
- **Mult-adds** count the multiply-accumulates with learned weights, as the
  MobileNet paper does: a convolution costs ``H_out * W_out * k_h * k_w *
  C_in/groups * C_out``, a dense layer ``C_in * units`` per position.
  Adding a bias is not a mult-add, so ``use_bias`` changes the parameters only.
  ``flops(cost)`` doubles the count (one multiply plus one add).
- Layers without weights that act element-wise or move data (activations,
  adds, pooling, padding, reshaping, rescaling) cost 0 mult-adds, and so
  does batch normalisation, which folds into the convolution before it at
  inference. The papers count them the same way.
- Batch-norm parameters: ``include_params=True`` counts all four per channel
  (gamma, beta, moving mean, moving variance), as Keras ``count_params()``
  does; ``"trainable"`` counts gamma and beta only, as the Xception paper
  does; ``False`` counts none, as the MobileNet paper does.
- A stride larger than the (dilated) kernel extent skips pixels no output
  ever sees. The formulas refuse it unless ``allow_gaps=True``: real
  networks do it on purpose (ResNet's strided 1x1 shortcut), so the Keras
  reader passes that on, with a note.

``layer_parts(Layer)`` / ``layer_cost(Layer)`` dispatch a plain
:class:`convviz.core.layers.Layer` description to the formula for its kind.
"""
from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass

from .layers import Layer

PADDINGS = ("same", "valid")
BATCHNORM_CONVENTIONS = (True, "trainable", False)


@dataclass(frozen=True)
class Cost:
    """Parameters, mult-adds and output shape (no batch dimension) of one layer."""

    params: int
    mult_adds: int
    output_shape: tuple


def flops(cost: Cost) -> int:
    """FLOPs under the usual convention: one mult-add is two floating-point operations."""
    return 2 * cost.mult_adds


# ---------------------------------------------------------------- validation
def _positive(value, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{arg} must be a positive int; got {value!r}")
    return value


def _pair(value, arg: str) -> tuple[int, int]:
    """An int or an (h, w) pair of positive ints, as a pair."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in pair)
    if not ok:
        raise ValueError(f"{arg} must be a positive int or a pair of positive ints; got {value!r}")
    return tuple(pair)


def _shape(shape, arg: str = "input_shape", rank: int | None = 3) -> tuple:
    ok = isinstance(shape, (tuple, list)) and len(shape) >= 1 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape)
    if not ok or (rank is not None and len(shape) != rank):
        what = "a tuple of 3 positive ints (H, W, C)" if rank == 3 else "a tuple of positive ints"
        raise ValueError(f"{arg} must be {what}; got {shape!r}")
    return tuple(shape)


def _padding(padding) -> str:
    if not isinstance(padding, str) or padding.lower() not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}; got {padding!r}")
    return padding.lower()


def _batchnorm_convention(value, arg: str):
    if not (value is True or value is False or value == "trainable"):
        raise ValueError(f"{arg} must be one of {BATCHNORM_CONVENTIONS}; got {value!r}")


def unseen_fraction(kernel_size, strides, dilation_rate=1) -> float:
    """Share of input pixels no output sees when the stride outruns the kernel extent.

    0.0 for any usual layer; 0.75 for ResNet's 1x1 convolution with stride 2.
    (Padding and a ragged last window are ignored: this is the steady-state share.)
    """
    kernel, strides = _pair(kernel_size, "kernel_size"), _pair(strides, "strides")
    dilation = _pair(dilation_rate, "dilation_rate")
    seen = 1.0
    for k, s, d in zip(kernel, strides, dilation):
        seen *= min(1.0, ((k - 1) * d + 1) / s)
    return 1.0 - seen


def _check_gaps(kernel, strides, dilation, allow_gaps: bool, arg: str = "strides"):
    extent = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    if not allow_gaps and any(s > e for s, e in zip(strides, extent)):
        raise ValueError(
            f"{arg} {strides} skip input: larger than the kernel extent {extent} "
            "((kernel - 1) * dilation + 1), so some pixels are never seen; allowed: "
            f"{arg} <= kernel extent on each axis, or pass allow_gaps=True")


# ---------------------------------------------------------------- shapes
def conv_output_size(size: int, kernel: int, stride: int = 1, padding: str = "same",
                     dilation: int = 1) -> int:
    """Output length along one axis of a convolution or pooling window.

    ``'same'``: ``ceil(size / stride)``; ``'valid'``: ``floor((size - extent) / stride) + 1``
    with ``extent = (kernel - 1) * dilation + 1``.
    """
    size, kernel = _positive(size, "size"), _positive(kernel, "kernel")
    stride, dilation = _positive(stride, "stride"), _positive(dilation, "dilation")
    if _padding(padding) == "same":
        return -(-size // stride)
    extent = (kernel - 1) * dilation + 1
    if size < extent:
        raise ValueError(f"size {size} is smaller than the kernel extent {extent}; "
                         "allowed with padding='valid': size >= (kernel - 1) * dilation + 1")
    return (size - extent) // stride + 1


def _window(input_shape, kernel_size, strides, padding, dilation_rate, allow_gaps,
            kernel_arg="kernel_size"):
    """Validated window settings and the output (H, W) of a sliding window."""
    h, w, c = _shape(input_shape)
    kernel = _pair(kernel_size, kernel_arg)
    strides = _pair(strides, "strides")
    dilation = _pair(dilation_rate, "dilation_rate")
    padding = _padding(padding)
    _check_gaps(kernel, strides, dilation, allow_gaps)
    out = tuple(conv_output_size(n, k, s, padding, d)
                for n, k, s, d in zip((h, w), kernel, strides, dilation))
    return kernel, out, c


# ---------------------------------------------------------------- weighted layers
def conv2d(input_shape, filters, kernel_size, strides=1, padding="same", dilation_rate=1,
           groups=1, use_bias=True, allow_gaps=False) -> Cost:
    """A 2D convolution, grouped when ``groups > 1`` (each group sees C_in/groups channels)."""
    filters, groups = _positive(filters, "filters"), _positive(groups, "groups")
    kernel, (ho, wo), c = _window(input_shape, kernel_size, strides, padding, dilation_rate,
                                  allow_gaps)
    if c % groups or filters % groups:
        raise ValueError(f"groups must divide both the input channels ({c}) and filters "
                         f"({filters}); got groups={groups}")
    weights = kernel[0] * kernel[1] * (c // groups) * filters
    return Cost(params=weights + (filters if use_bias else 0),
                mult_adds=ho * wo * weights, output_shape=(ho, wo, filters))


def depthwise_conv2d(input_shape, kernel_size, strides=1, padding="same", dilation_rate=1,
                     depth_multiplier=1, use_bias=True, allow_gaps=False) -> Cost:
    """``depth_multiplier`` spatial filters per input channel: a conv2d with groups=C."""
    c = _shape(input_shape)[2]
    m = _positive(depth_multiplier, "depth_multiplier")
    return conv2d(input_shape, filters=c * m, kernel_size=kernel_size, strides=strides,
                  padding=padding, dilation_rate=dilation_rate, groups=c, use_bias=use_bias,
                  allow_gaps=allow_gaps)


def separable_parts(input_shape, filters, kernel_size, strides=1, padding="same",
                    dilation_rate=1, depth_multiplier=1, use_bias=True,
                    allow_gaps=False) -> tuple[Cost, Cost]:
    """The (depthwise, pointwise) halves of a depthwise separable convolution.

    As in Keras ``SeparableConv2D``, the only bias is the pointwise one.
    """
    dw = depthwise_conv2d(input_shape, kernel_size, strides=strides, padding=padding,
                          dilation_rate=dilation_rate, depth_multiplier=depth_multiplier,
                          use_bias=False, allow_gaps=allow_gaps)
    pw = conv2d(dw.output_shape, filters=filters, kernel_size=1, use_bias=use_bias)
    return dw, pw


def separable_conv2d(input_shape, filters, kernel_size, strides=1, padding="same",
                     dilation_rate=1, depth_multiplier=1, use_bias=True,
                     allow_gaps=False) -> Cost:
    """Depthwise then 1x1 pointwise convolution: the sum of :func:`separable_parts`."""
    dw, pw = separable_parts(input_shape, filters, kernel_size, strides, padding,
                             dilation_rate, depth_multiplier, use_bias, allow_gaps)
    return Cost(dw.params + pw.params, dw.mult_adds + pw.mult_adds, pw.output_shape)


def dense(input_shape, units, use_bias=True) -> Cost:
    """A fully connected layer on the last axis, applied at every other position."""
    shape = _shape(input_shape, rank=None)
    units = _positive(units, "units")
    weights = shape[-1] * units
    return Cost(params=weights + (units if use_bias else 0),
                mult_adds=math.prod(shape[:-1]) * weights, output_shape=shape[:-1] + (units,))


def _channels(shape, axis, arg="axis"):
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    if isinstance(axis, bool) or not isinstance(axis, int) or not -len(shape) <= axis < len(shape):
        raise ValueError(f"{arg} must be an int in [-{len(shape)}, {len(shape)}); got {axis!r}")
    return shape[axis]


def batch_norm(input_shape, include_params=True, center=True, scale=True, axis=-1) -> Cost:
    """Batch normalisation: 0 mult-adds (it folds into the previous layer).

    ``include_params``: ``True`` counts gamma, beta, moving mean and variance (Keras);
    ``"trainable"`` gamma and beta only (the Xception paper); ``False`` none (MobileNet paper).
    """
    _batchnorm_convention(include_params, "include_params")
    shape = _shape(input_shape, rank=None)
    c = _channels(shape, axis)
    per_channel = {True: 2 + center + scale, "trainable": center + scale, False: 0}[include_params]
    return Cost(params=per_channel * c, mult_adds=0, output_shape=shape)


def layer_norm(input_shape, center=True, scale=True, axis=-1) -> Cost:
    """Layer normalisation over the channels: gamma and beta, 0 mult-adds."""
    shape = _shape(input_shape, rank=None)
    return Cost(params=(center + scale) * _channels(shape, axis), mult_adds=0, output_shape=shape)


def normalization(input_shape, axis=-1, stored_stats=True) -> Cost:
    """Fixed input normalisation (x - mean) / std; Keras stores mean, variance and a count."""
    shape = _shape(input_shape, rank=None)
    c = _channels(shape, axis)
    return Cost(params=(2 * c + 1) if stored_stats else 0, mult_adds=0, output_shape=shape)


def channel_scale(input_shape) -> Cost:
    """A learned per-channel scale (ConvNeXt's LayerScale): C parameters, 0 mult-adds."""
    shape = _shape(input_shape, rank=None)
    return Cost(params=shape[-1], mult_adds=0, output_shape=shape)


# ---------------------------------------------------------------- layers without weights
def pool2d(input_shape, pool_size, strides=None, padding="valid", allow_gaps=False) -> Cost:
    """Max or average pooling; ``strides=None`` means ``pool_size``."""
    strides = pool_size if strides is None else strides
    _, (ho, wo), c = _window(input_shape, pool_size, strides, padding, 1, allow_gaps,
                             kernel_arg="pool_size")
    return Cost(params=0, mult_adds=0, output_shape=(ho, wo, c))


def global_pool(input_shape, keepdims=False) -> Cost:
    """Global max or average pooling over H and W."""
    c = _shape(input_shape)[2]
    return Cost(params=0, mult_adds=0, output_shape=(1, 1, c) if keepdims else (c,))


def activation(input_shape) -> Cost:
    """Any layer that keeps the shape and has no weights (activations, dropout, rescaling)."""
    return Cost(params=0, mult_adds=0, output_shape=_shape(input_shape, rank=None))


def add(input_shapes) -> Cost:
    """An element-wise merge (add, multiply, average...), numpy broadcasting allowed."""
    if not isinstance(input_shapes, (list, tuple)) or not input_shapes:
        raise ValueError(f"input_shapes must be a non-empty list of shapes; got {input_shapes!r}")
    shapes = [_shape(s, "input_shapes", rank=None) for s in input_shapes]
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + s for s in shapes]):
        sizes = set(dims) - {1}
        if len(sizes) > 1:
            raise ValueError(f"input_shapes must match (or broadcast); got {shapes}")
        out.append(sizes.pop() if sizes else 1)
    return Cost(params=0, mult_adds=0, output_shape=tuple(out))


def concatenate(input_shapes, axis=-1) -> Cost:
    """Stacking along ``axis``: every other dimension must agree."""
    if not isinstance(input_shapes, (list, tuple)) or not input_shapes:
        raise ValueError(f"input_shapes must be a non-empty list of shapes; got {input_shapes!r}")
    shapes = [_shape(s, "input_shapes", rank=None) for s in input_shapes]
    rank = len(shapes[0])
    _channels(shapes[0], axis)
    axis %= rank
    rest = {s[:axis] + s[axis + 1:] for s in shapes}
    if any(len(s) != rank for s in shapes) or len(rest) != 1:
        raise ValueError(f"input_shapes must agree except on axis {axis}; got {shapes}")
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return Cost(params=0, mult_adds=0, output_shape=tuple(out))


def _margins(value, arg):
    """An int, an (h, w) pair or ((top, bottom), (left, right)), as the latter."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        value = tuple((v, v) if isinstance(v, int) and not isinstance(v, bool) else v
                      for v in value)
        if all(isinstance(p, (tuple, list)) and len(p) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in p)
               for p in value):
            return tuple(tuple(p) for p in value)
    raise ValueError(f"{arg} must be a non-negative int, an (h, w) pair or "
                     f"((top, bottom), (left, right)); got {value!r}")


def zero_padding2d(input_shape, padding=1) -> Cost:
    """Zeros around the border: ``padding`` as int, (h, w) or ((top, bottom), (left, right))."""
    h, w, c = _shape(input_shape)
    (t, b), (l, r) = _margins(padding, "padding")
    return Cost(params=0, mult_adds=0, output_shape=(h + t + b, w + l + r, c))


def cropping2d(input_shape, cropping=0) -> Cost:
    """Rows and columns cut from the border, given like ``zero_padding2d``'s padding."""
    h, w, c = _shape(input_shape)
    (t, b), (l, r) = _margins(cropping, "cropping")
    if t + b >= h or l + r >= w:
        raise ValueError(f"cropping {cropping!r} must leave at least one row and column of "
                         f"input_shape {input_shape}")
    return Cost(params=0, mult_adds=0, output_shape=(h - t - b, w - l - r, c))


def reshape(input_shape, target_shape) -> Cost:
    """Same values, new shape; one entry of ``target_shape`` may be -1."""
    size = math.prod(_shape(input_shape, rank=None))
    target = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else None
    ok = target is not None and target.count(-1) <= 1 and all(
        isinstance(v, int) and (v >= 1 or v == -1) for v in target)
    known = math.prod(v for v in target if v != -1) if ok else 0
    if not ok or (size % known if -1 in target else size != known):
        raise ValueError(f"target_shape must be positive ints (at most one -1) holding "
                         f"{size} values; got {target_shape!r}")
    return Cost(params=0, mult_adds=0,
                output_shape=tuple(size // known if v == -1 else v for v in target))


def flatten(input_shape) -> Cost:
    """All dimensions into one."""
    return reshape(input_shape, (-1,))


def resizing(input_shape, height, width) -> Cost:
    """Resampling a map to ``height`` x ``width``: interpolation, no weights, no mult-adds."""
    _, _, c = _shape(input_shape)
    height = _positive(height, "height")
    width = _positive(width, "width")
    return Cost(0, 0, (height, width, c))


# ---------------------------------------------------------------- teaching helpers
def standard_vs_separable(input_shape, filters, kernel_size, strides=1, padding="same",
                          depth_multiplier=1, use_bias=True) -> dict:
    """A standard convolution against its depthwise separable counterpart.

    Returns the four costs (``standard``, ``separable``, ``depthwise``, ``pointwise``),
    the measured ratios separable/standard, and the MobileNet paper's closed form
    ``1/N + 1/D_K^2`` (exact for a square kernel, no biases, depth multiplier 1).
    MobileNet's section 3 example is ``input_shape=(14, 14, 512), filters=512,
    kernel_size=3, use_bias=False``.
    """
    std = conv2d(input_shape, filters, kernel_size, strides=strides, padding=padding,
                 use_bias=use_bias)
    dw, pw = separable_parts(input_shape, filters, kernel_size, strides=strides,
                             padding=padding, depth_multiplier=depth_multiplier,
                             use_bias=use_bias)
    sep = separable_conv2d(input_shape, filters, kernel_size, strides=strides, padding=padding,
                           depth_multiplier=depth_multiplier, use_bias=use_bias)
    kh, kw = _pair(kernel_size, "kernel_size")
    return {
        "standard": std, "separable": sep, "depthwise": dw, "pointwise": pw,
        "params_ratio": sep.params / std.params,
        "mult_adds_ratio": sep.mult_adds / std.mult_adds,
        "paper_ratio": 1 / filters + 1 / (kh * kw),
    }


# ---------------------------------------------------------------- dispatch on Layer
@functools.lru_cache(maxsize=None)
def _arguments(fn) -> frozenset:
    return frozenset(inspect.signature(fn).parameters)


def _call(fn, layer: Layer, first, **overrides) -> Cost:
    """``fn(first, **settings)`` with the settings of ``layer.config`` that ``fn`` takes."""
    if layer.config.get("data_format", "channels_last") != "channels_last":
        raise ValueError(f"data_format must be 'channels_last' (layer {layer.name!r}); "
                         f"got {layer.config['data_format']!r}")
    names = _arguments(fn)
    settings = {k: v for k, v in layer.config.items() if k in names}
    settings.update(overrides)
    return fn(first, **settings)


def conv_label(kernel_size, input_shape, groups=1) -> str:
    """MobileNet Table 2's name for a convolution: 'Conv 1x1', 'Conv DW 3x3', 'Conv 3x3'...

    A 1x1 convolution over a 1x1 map is a fully connected layer, and is named so.
    """
    kh, kw = _pair(kernel_size, "kernel_size")
    h, w, c = _shape(input_shape)
    if (kh, kw) == (1, 1) and (h, w) == (1, 1) and groups == 1:
        return "Fully connected"
    if groups == c and c > 1:
        return f"Conv DW {kh}x{kw}"
    return f"Conv {kh}x{kw}" + (f" (groups={groups})" if groups > 1 else "")


def _conv(L, o):
    cost = _call(conv2d, L, L.input_shape, allow_gaps=o["allow_gaps"],
                 use_bias=L.config.get("use_bias", True) and o["include_bias"])
    return [(conv_label(L.config.get("kernel_size", 1), L.input_shape,
                        L.config.get("groups", 1)), cost)]


def _depthwise(L, o):
    cost = _call(depthwise_conv2d, L, L.input_shape, allow_gaps=o["allow_gaps"],
                 use_bias=L.config.get("use_bias", True) and o["include_bias"])
    return [(conv_label(L.config.get("kernel_size", 1), L.input_shape, L.input_shape[2]), cost)]


def _separable(L, o):
    dw, pw = _call(separable_parts, L, L.input_shape, allow_gaps=o["allow_gaps"],
                   use_bias=L.config.get("use_bias", True) and o["include_bias"])
    return [(conv_label(L.config.get("kernel_size", 1), L.input_shape, L.input_shape[2]), dw),
            (conv_label(1, dw.output_shape), pw)]


def _dense(L, o):
    cost = _call(dense, L, L.input_shape,
                 use_bias=L.config.get("use_bias", True) and o["include_bias"])
    spatial = len(L.input_shape) == 3 and L.input_shape[0] * L.input_shape[1] > 1
    return [("Conv 1x1" if spatial else "Fully connected", cost)]


def _zero(fn):
    return lambda L, o: [("Other", _call(fn, L, L.input_shape))]


def _pool(L, o):
    return [("Other", _call(pool2d, L, L.input_shape, allow_gaps=o["allow_gaps"]))]


def _merge(fn):
    return lambda L, o: [("Other", _call(fn, L, list(L.input_shapes)))]


def _norm(fn, **overrides):
    return lambda L, o: [("Normalization", _call(
        fn, L, L.input_shape, **{k: v(L, o) for k, v in overrides.items()}))]


# Kinds that cost nothing: element-wise merges (Keras layers, and Keras ops such as x + y),
# and layers that keep the shape (activations, dropout, rescaling, a channel shuffle...).
ELEMENTWISE_KINDS = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                     "Divide", "TrueDivide", "CustomScaleLayer")
SHAPE_KEEPING_KINDS = ("InputLayer", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
                       "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
                       "Rescaling", "Identity", "StochasticDepth", "Sigmoid", "Relu", "Relu6",
                       "HardSigmoid", "HardSwish", "Swish", "Silu", "Gelu", "Tanh",
                       "ChannelShuffle")

_RULES = {
    "Conv2D": _conv,
    "DepthwiseConv2D": _depthwise,
    "SeparableConv2D": _separable,
    "Dense": _dense,
    "BatchNormalization": _norm(batch_norm, include_params=lambda L, o: o["include_batchnorm"]),
    "LayerNormalization": _norm(layer_norm),
    "Normalization": _norm(normalization,
                           stored_stats=lambda L, o: L.config.get("mean") is None),
    "LayerScale": _zero(channel_scale),
    "MaxPooling2D": _pool,
    "AveragePooling2D": _pool,
    "GlobalAveragePooling2D": _zero(global_pool),
    "GlobalMaxPooling2D": _zero(global_pool),
    "ZeroPadding2D": _zero(zero_padding2d),
    "Cropping2D": _zero(cropping2d),
    "Reshape": _zero(reshape),
    "Flatten": _zero(flatten),
    "Resizing": _zero(resizing),
    "Concatenate": _merge(concatenate),
    **{kind: _merge(add) for kind in ELEMENTWISE_KINDS},
    **{kind: _zero(activation) for kind in SHAPE_KEEPING_KINDS},
}
KINDS = tuple(sorted(_RULES))


def layer_parts(layer: Layer, include_bias=True, include_batchnorm=True,
                allow_gaps=False) -> list[tuple[str, Cost]]:
    """The costs of ``layer`` as (Table 2 label, Cost) parts, in order.

    One part for most layers; two for a separable convolution (its depthwise and
    its pointwise halves). Labels: 'Conv 1x1', 'Conv DW 3x3', 'Conv 3x3',
    'Fully connected', 'Normalization' or 'Other'.
    Raises ValueError for a kind not in :data:`KINDS`.
    """
    if not isinstance(layer, Layer):
        raise ValueError(f"layer must be a convviz.core.layers.Layer; "
                         f"got {type(layer).__name__}")
    if layer.kind not in _RULES:
        raise ValueError(f"no cost formula for layer kind {layer.kind!r}; known kinds: "
                         f"{', '.join(KINDS)}")
    if not isinstance(include_bias, bool):
        raise ValueError(f"include_bias must be True or False; got {include_bias!r}")
    _batchnorm_convention(include_batchnorm, "include_batchnorm")
    options = {"include_bias": include_bias, "include_batchnorm": include_batchnorm,
               "allow_gaps": allow_gaps}
    return _RULES[layer.kind](layer, options)


def layer_cost(layer: Layer, include_bias=True, include_batchnorm=True,
               allow_gaps=False) -> Cost:
    """The total cost of ``layer`` (its :func:`layer_parts` summed)."""
    parts = layer_parts(layer, include_bias, include_batchnorm, allow_gaps)
    return Cost(params=sum(c.params for _, c in parts),
                mult_adds=sum(c.mult_adds for _, c in parts),
                output_shape=parts[-1][1].output_shape)
