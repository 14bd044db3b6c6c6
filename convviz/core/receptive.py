"""Receptive-field arithmetic along one spatial axis: plain integers, no Keras.

A feature map's receptive field on the model input is three numbers per axis
(the convention of google-research's ``receptive_field`` library):

- ``size``: how many input pixels one output position spans;
- ``stride``: how far that span moves when the output position moves by one;
- ``padding``: how far the span of output position 0 starts before input pixel 0.

Output position ``i`` then sees input pixels ``i*stride - padding`` up to, not
including, ``i*stride - padding + size`` (:meth:`Field.window`). A layer with
kernel ``k``, stride ``s``, dilation ``d`` and ``p`` pixels of padding before
its input updates the field of the map it reads (:func:`compose`)::

    size    += (k - 1) * d * stride
    padding += p * stride
    stride  *= s

so a plain stack has the closed form of :func:`closed_form`, and ``n`` stacked
``k``-wide stride-1 convolutions see ``1 + n*(k - 1)`` pixels.

Everything here works on one axis; a 2-D map has one :class:`Field` per axis.
The graph walking (which layer feeds which) lives in ``convviz.models.receptive``.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """Receptive field of a feature map on the input, along one axis."""

    size: int = 1
    stride: int = 1
    padding: int = 0

    def window(self, i: int, n: int | None = None) -> tuple[int, int]:
        """Input pixels ``[start, stop)`` seen by output position ``i``.

        Unclipped (it may run into the padding, below 0 or past the input) unless
        the input size ``n`` is given, then clipped to ``[0, n)``. For the pixels
        really reached through a finite, padded network use :func:`visible`.
        """
        start = i * self.stride - self.padding
        stop = start + self.size
        if n is None:
            return start, stop
        return min(max(start, 0), n), max(min(stop, n), 0)

    @property
    def centre_offset(self) -> float:
        """Centre of output position 0's window, in input pixels (``(size-1)/2 - padding``)."""
        return (self.size - 1) / 2 - self.padding


def _positive_int(value, name: str) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def resolve_padding(n: int, kernel: int, stride: int = 1, dilation: int = 1,
                    padding="valid") -> tuple[int, int]:
    """Pixels of padding ``(before, after)`` a layer adds to an axis of ``n`` pixels.

    ``padding`` is ``"valid"`` (none), ``"same"`` (resolved as TensorFlow/Keras
    do: ``total = max((ceil(n/s) - 1)*s + (k-1)*d + 1 - n, 0)``, ``before =
    total // 2``, the extra pixel after), an int (the same on both sides) or a
    pair ``(before, after)``; negative numbers crop.
    """
    n, kernel = _positive_int(n, "n"), _positive_int(kernel, "kernel")
    stride, dilation = _positive_int(stride, "stride"), _positive_int(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            total = max((math.ceil(n / stride) - 1) * stride + (kernel - 1) * dilation + 1 - n, 0)
            return total // 2, total - total // 2
    elif _is_int(padding):
        return int(padding), int(padding)
    elif isinstance(padding, (tuple, list)) and len(padding) == 2 and all(map(_is_int, padding)):
        return int(padding[0]), int(padding[1])
    raise ValueError(f"padding must be 'valid', 'same', an int or a pair (before, after) "
                     f"of ints; got {padding!r}")


def output_size(n: int, kernel: int, stride: int = 1, dilation: int = 1, padding="valid") -> int:
    """Length of the axis after the layer: ``floor((n + pads - (k-1)*d - 1) / s) + 1``.

    Raises ValueError when the (padded) input is shorter than the dilated kernel.
    """
    before, after = resolve_padding(n, kernel, stride, dilation, padding)
    span = (kernel - 1) * dilation + 1
    if n + before + after < span:
        raise ValueError(f"n={n} (padded by {before}+{after}) is shorter than the kernel's "
                         f"span {span} (kernel {kernel}, dilation {dilation}); "
                         "allowed: n + padding >= span")
    return (n + before + after - span) // stride + 1


def compose(field: Field, kernel: int, stride: int = 1, dilation: int = 1,
            pad_before: int = 0) -> Field:
    """The field of a layer's output, given the ``field`` of the map it reads."""
    kernel, stride = _positive_int(kernel, "kernel"), _positive_int(stride, "stride")
    dilation = _positive_int(dilation, "dilation")
    return Field(size=field.size + (kernel - 1) * dilation * field.stride,
                 stride=field.stride * stride,
                 padding=field.padding + pad_before * field.stride)


def closed_form(kernels, strides=None, dilations=None, paddings=None) -> Field:
    """Field of a plain stack of layers, without the layer-by-layer recursion.

    With ``S_l`` the product of the strides before layer ``l``::

        size    = 1 + sum_l (k_l - 1) * d_l * S_l
        stride  = prod_l s_l
        padding = sum_l p_l * S_l

    ``strides``, ``dilations`` default to 1 and ``paddings`` (pixels before) to 0.
    """
    kernels = list(kernels)
    layers = len(kernels)
    strides = [1] * layers if strides is None else list(strides)
    dilations = [1] * layers if dilations is None else list(dilations)
    paddings = [0] * layers if paddings is None else list(paddings)
    for name, values in (("strides", strides), ("dilations", dilations), ("paddings", paddings)):
        if len(values) != layers:
            raise ValueError(f"{name} must have one entry per kernel ({layers}); got {len(values)}")
    for name, values in (("kernels", kernels), ("strides", strides), ("dilations", dilations)):
        for value in values:
            _positive_int(value, name)
    before = [math.prod(strides[:l]) for l in range(layers)]
    return Field(size=1 + sum((k - 1) * d * S for k, d, S in zip(kernels, dilations, before)),
                 stride=math.prod(strides),
                 padding=sum(p * S for p, S in zip(paddings, before)))


def merge(fields, n: int | None = None) -> tuple[Field | None, bool, str]:
    """Field of a map that adds or concatenates maps with these ``fields``.

    Returns ``(field, aligned, note)``. Branches with the same stride and the same
    window centre are aligned: the merged field is the largest one. Same stride
    but different centres: the merged field is the union of the windows (exact),
    ``aligned`` is False and the note says by how much the centres differ.
    Different strides: no single field describes the union, so ``None``, False and
    a note, unless the merged axis has ``n == 1`` position (then the union of
    position 0's windows is exact).
    """
    fields = list(fields)
    if not fields:
        raise ValueError("fields must name at least one branch; got none")

    def union(stride):
        padding = max(f.padding for f in fields)
        return Field(size=padding + max(f.size - f.padding for f in fields),
                     stride=stride, padding=padding)

    strides = sorted({f.stride for f in fields})
    if len(strides) > 1:
        if n == 1:
            return union(max(strides)), True, ""
        return None, False, f"misaligned branches: strides {strides} differ"
    centres = sorted({f.centre_offset for f in fields})
    if len(centres) == 1 or n == 1:
        return union(strides[0]), True, ""
    shift = centres[-1] - centres[0]
    return union(strides[0]), False, (f"misaligned branches: window centres differ by "
                                      f"{shift:g} px; field is their union")


def visible(positions, kernel: int, stride: int = 1, dilation: int = 1,
            pad_before: int = 0, n: int | None = None) -> set[int]:
    """Positions of the input axis (length ``n``) that output ``positions`` read.

    Taps falling into the padding (below 0 or at ``n`` and past) are dropped, so
    walking this back layer by layer gives exactly the input pixels an output
    position reaches, dilation holes and borders included.
    """
    taps = {i * stride - pad_before + t * dilation for i in positions for t in range(kernel)}
    return {t for t in taps if t >= 0 and (n is None or t < n)}
