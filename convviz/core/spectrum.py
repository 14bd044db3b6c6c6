"""The segment spectrum: from a regular convolution to a depthwise separable one.

The Xception paper (Chollet 2017, section 1.2) links the two with a single knob:
a 1x1 convolution plus spatial convolutions that each see one of ``g``
*segments* of the channels. ``g = 1`` is a regular convolution (next to a 1x1);
an Inception module splits into a few segments; ``g = C`` (one channel per
segment) is the "extreme" Inception, which is a depthwise separable convolution
but for two details the paper names, both parameters here:

- ``order``: ``"pointwise_first"`` (1x1 first, as in Inception and "extreme
  Inception") or ``"spatial_first"`` (spatial first, as in depthwise separable
  convolutions). With pointwise first the segments split the ``filters``
  channels the 1x1 makes; with spatial first they split the input channels.
- ``nonlinearity``: whether an activation sits between the two steps
  (Inception has one; Xception found it better without). It changes no cost,
  only where the description puts the activation.

The spatial step is ``convviz.core.costs.conv2d`` with ``groups=g``, the 1x1
step is ``conv2d`` with ``kernel_size=1``. As in Keras ``SeparableConv2D``,
only the last step has a bias (when ``use_bias``), so ``order="spatial_first"``
at ``g = C`` costs exactly ``separable_conv2d``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .costs import _pair, _positive, _shape, conv2d

ORDERS = ("pointwise_first", "spatial_first")


@dataclass(frozen=True)
class SegmentCost:
    """Cost of one point of the spectrum, with its steps in order."""

    segments: int
    order: str
    nonlinearity: bool
    params: int
    mult_adds: int
    output_shape: tuple
    steps: tuple  # ((label, Cost), ...) in the order they run
    description: str

    def to_dict(self) -> dict:
        return {"segments": self.segments, "order": self.order,
                "nonlinearity": self.nonlinearity, "params": self.params,
                "mult_adds": self.mult_adds, "output_shape": list(self.output_shape),
                "description": self.description,
                "steps": [{"step": label, "params": c.params, "mult_adds": c.mult_adds,
                           "output_shape": list(c.output_shape)} for label, c in self.steps]}


def _name(segments: int, channels: int, order: str) -> str:
    if segments == 1:
        return "regular convolution"
    if segments == channels:
        return "extreme Inception" if order == "pointwise_first" else "depthwise separable"
    return f"{segments} segments (Inception-like)"


def segment_costs(input_shape, filters, kernel_size, segments, order="pointwise_first",
                  nonlinearity=True, strides=1, padding="same", use_bias=True) -> SegmentCost:
    """A 1x1 convolution and a spatial convolution over ``segments`` channel groups."""
    h, w, c = _shape(input_shape)
    filters = _positive(filters, "filters")
    segments = _positive(segments, "segments")
    kh, kw = _pair(kernel_size, "kernel_size")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}; got {order!r}")
    if not isinstance(nonlinearity, bool):
        raise ValueError(f"nonlinearity must be True or False; got {nonlinearity!r}")
    split = filters if order == "pointwise_first" else c
    if split % segments:
        raise ValueError(f"segments must divide the {split} channels the spatial step sees "
                         f"({'filters' if order == 'pointwise_first' else 'input channels'}); "
                         f"got segments={segments}")
    spatial_label = (f"{kh}x{kw} conv in {segments} segment{'s' * (segments > 1)} "
                     f"of {split // segments} channel{'s' * (split // segments > 1)}")
    if order == "pointwise_first":
        first = conv2d((h, w, c), filters, 1, use_bias=False)
        second = conv2d(first.output_shape, filters, (kh, kw), strides=strides,
                        padding=padding, groups=segments, use_bias=use_bias)
        labels = (f"1x1 conv {c}->{filters}", spatial_label)
    else:
        first = conv2d((h, w, c), c, (kh, kw), strides=strides, padding=padding,
                       groups=segments, use_bias=False)
        second = conv2d(first.output_shape, filters, 1, use_bias=use_bias)
        labels = (spatial_label, f"1x1 conv {c}->{filters}")
    between = ", activation, then " if nonlinearity else ", then (no activation) "
    description = f"{_name(segments, split, order)}: {labels[0]}{between}{labels[1]}"
    return SegmentCost(segments=segments, order=order, nonlinearity=nonlinearity,
                       params=first.params + second.params,
                       mult_adds=first.mult_adds + second.mult_adds,
                       output_shape=second.output_shape,
                       steps=((labels[0], first), (labels[1], second)),
                       description=description)


def spectrum(input_shape, filters, kernel_size, order="pointwise_first", nonlinearity=True,
             strides=1, padding="same", use_bias=True) -> list[SegmentCost]:
    """:func:`segment_costs` for every valid segment count g, from 1 to C, ascending.

    Valid counts are the divisors of the channels the spatial step sees
    (``filters`` for pointwise first, the input channels for spatial first).
    """
    c = _shape(input_shape)[2]
    split = _positive(filters, "filters") if order == "pointwise_first" else c
    return [segment_costs(input_shape, filters, kernel_size, g, order=order,
                          nonlinearity=nonlinearity, strides=strides, padding=padding,
                          use_bias=use_bias)
            for g in range(1, split + 1) if split % g == 0]
