"""Receptive fields of a Keras model, at every layer.

The graph is read with :func:`convviz.models.graph.flatten`; the arithmetic is
``convviz.core.receptive``, one axis at a time (rows, then columns). Each layer
is one of:

- windowed: convolutions, pooling, ``ZeroPadding2D``/``Cropping2D`` (a kernel
  of 1 with padding), global pooling and ``Flatten`` (a kernel as large as the
  map): the field grows by :func:`~convviz.core.receptive.compose`;
- elementwise (normalisation, activations, dropout, ``Dense``, which acts on
  the channels only...): the field passes through;
- a merge (``Add``, ``Concatenate``...): :func:`~convviz.core.receptive.merge`
  of the branches, flagged when they are misaligned;
- anything else: reported as unknown in the note, and every layer after it
  has no field; nothing is guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import receptive as rf
from . import graph

CONV = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D"}
POOL = {"MaxPooling2D", "AveragePooling2D"}
COLLAPSE = {"GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten"}
PADDING = {"ZeroPadding2D", "Cropping2D"}
MERGE = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"}
ELEMENTWISE = {
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
    "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "Rescaling", "Normalization", "Identity", "ActivityRegularization", "Dense",
}
UPSAMPLE = {"Conv2DTranspose", "UpSampling2D"}
AXES = ("rows", "cols")


@dataclass(frozen=True)
class LayerField:
    """Receptive field of one layer's output on the model input.

    ``fields`` is one :class:`~convviz.core.receptive.Field` per axis (rows,
    cols), or None when it cannot be computed (``note`` says why).
    ``output_shape`` leaves out the batch dimension, at the input size used.
    """

    name: str
    kind: str
    output_shape: tuple
    fields: tuple | None
    aligned: bool = True
    note: str = ""

    def _pair(self, attr):
        return None if self.fields is None else tuple(getattr(f, attr) for f in self.fields)

    @property
    def size(self):
        """``(rows, cols)`` input pixels one output position spans."""
        return self._pair("size")

    @property
    def stride(self):
        """``(rows, cols)`` input pixels between neighbouring output positions."""
        return self._pair("stride")

    @property
    def padding(self):
        """``(rows, cols)`` pixels position 0's window starts before the input."""
        return self._pair("padding")


@dataclass(frozen=True)
class _Step:
    """How a node reads its inputs: per-axis (kernel, stride, dilation, pad_before)
    and input lengths for a windowed layer, None to pass positions through."""

    inputs: list
    taps: tuple | None
    n_in: tuple | None
    n_out: tuple | None  # positions per axis of the output map; None when unknown


def receptive_fields(model, input_size=None) -> dict[str, LayerField]:
    """``{node name: LayerField}`` for every layer call of ``model``, inputs first.

    ``input_size`` is the input's ``(height, width)`` (or one int for both); it
    is needed when the model's input has no fixed size, and overrides it when
    given, because "same" padding depends on it.
    """
    return _walk(model, input_size)[0]


def rf_table(model, layer=None, input_size=None) -> list[dict]:
    """Rows for printing: ``name, type, output_shape, size, stride, padding, aligned, note``.

    One row per layer call, or only ``layer``'s row when a name is given.
    ``size``, ``stride`` and ``padding`` are ``(rows, cols)`` pairs, None when unknown.
    """
    fields = receptive_fields(model, input_size)
    names = list(fields) if layer is None else [_check_layer(layer, fields)]
    return [{"name": f.name, "type": f.kind, "output_shape": f.output_shape, "size": f.size,
             "stride": f.stride, "padding": f.padding, "aligned": f.aligned, "note": f.note}
            for f in (fields[n] for n in names)]


def input_pixels(model, layer, position, input_size=None) -> tuple[np.ndarray, np.ndarray]:
    """Input ``(rows, cols)`` that output ``position`` of ``layer`` reaches.

    Walked back layer by layer, dropping the taps that fall in padding, so the
    arrays have the holes of dilated kernels and stop at the input's borders.
    For a chain of layers the pixels seen are exactly ``rows x cols``; after a
    merge of branches it is the smallest such grid holding them.
    """
    fields, steps = _walk(model, input_size)
    name = _check_layer(layer, fields)
    position = _check_position(position, steps[name].n_out, fields[name].note)
    wanted = {name: [{position[0]}, {position[1]}]}
    for node in reversed(list(fields)):
        if node not in wanted:
            continue
        step, sets = steps[node], wanted.pop(node)
        if not step.inputs:
            return tuple(np.array(sorted(s), dtype=int) for s in sets)
        if step.taps is not None:
            sets = [rf.visible(s, *t, n=n) for s, t, n in zip(sets, step.taps, step.n_in)]
        for parent in step.inputs:
            n = steps[parent].n_out  # a broadcast branch has one position per axis
            for axis, s in enumerate(sets):
                wanted.setdefault(parent, [set(), set()])[axis] |= {0} if s and n[axis] == 1 else s
    raise AssertionError(f"walk from {name!r} never reached the model input")


def input_window(model, layer, position, clip=True, input_size=None):
    """Input window ``((row_start, row_stop), (col_start, col_stop))``, stops excluded.

    ``clip=True``: the bounding box of :func:`input_pixels`, the pixels really
    reached (None if the position sees only padding). ``clip=False``: the
    window of the field, ``position*stride - padding`` plus ``size``, which may
    reach outside the input.
    """
    if clip:
        pixels = input_pixels(model, layer, position, input_size)
        if any(len(p) == 0 for p in pixels):
            return None
        return tuple((int(p[0]), int(p[-1]) + 1) for p in pixels)
    fields, steps = _walk(model, input_size)
    name = _check_layer(layer, fields)
    if fields[name].fields is None:
        raise ValueError(f"layer {name!r} has no receptive field: {fields[name].note}")
    position = _check_position(position, steps[name].n_out)
    return tuple(f.window(i) for f, i in zip(fields[name].fields, position))


def effective_receptive_field(model, layer=None, position=None, n_samples=16, seed=0,
                              input_size=None) -> np.ndarray:
    """Gradient magnitude of one output unit over the input, ``(H, W)``, max 1.

    The effective receptive field (Luo et al., 2016): ``|d y / d x|`` summed over
    the input channels and averaged over ``n_samples`` random normal inputs, where
    ``y`` is ``layer``'s output at ``position`` summed over channels (the whole
    output for a layer without spatial axes). ``layer`` defaults to the last
    layer with a spatial output, ``position`` to the centre of its map.
    ``layer`` must be a top-level layer of ``model`` (not inside a nested model).
    """
    import keras
    import tensorflow as tf

    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
    fields, steps = _walk(model, input_size)
    if layer is None:
        spatial = [n for n, f in fields.items() if len(f.output_shape) == 3]
        layer = spatial[-1]
    name = _check_layer(layer, fields)
    if "/" in name or "#" in name:
        raise ValueError(f"layer must be a top-level layer called once; {name!r} is nested or "
                         "a repeated call. Pass the nested model itself.")
    n_out = steps[name].n_out
    if position is None and n_out is not None:
        position = (n_out[0] // 2, n_out[1] // 2)
    i, j = _check_position(position, n_out, fields[name].note)
    height, width, channels = fields[next(iter(fields))].output_shape
    sub = keras.Model(model.inputs, model.get_layer(name).output)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, height, width, channels))
    x = tf.constant(x, dtype=sub.inputs[0].dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = sub(x, training=False)
        unit = tf.reduce_sum(y[:, i, j] if len(y.shape) == 4 else y)
    erf = np.abs(tape.gradient(unit, x).numpy()).sum(axis=(0, 3))
    return erf / erf.max() if erf.max() > 0 else erf


def _check_layer(layer, fields) -> str:
    if layer not in fields:
        names = list(fields)
        names = names if len(names) <= 8 else names[:5] + ["..."] + names[-3:]
        shown = ", ".join(n if n == "..." else repr(n) for n in names)
        raise ValueError(f"layer must name a layer of the model; got {layer!r}; allowed: {shown}")
    return layer


def _check_position(position, n_out, note="") -> tuple[int, int]:
    if n_out is None:
        raise ValueError(f"position: this layer's output has no known size ({note})")
    ok = (isinstance(position, (tuple, list)) and len(position) == 2
          and all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in position))
    if not ok or not all(0 <= p < n for p, n in zip(position, n_out)):
        raise ValueError(f"position must be a pair (row, col) of ints with 0 <= row < {n_out[0]} "
                         f"and 0 <= col < {n_out[1]}; got {position!r}")
    return int(position[0]), int(position[1])


def _input_size(node, input_size) -> tuple[int, int]:
    shape = node.output_shape
    if len(shape) != 3:
        raise ValueError(f"model input must be an image (height, width, channels); "
                         f"input {node.name!r} has shape {shape}")
    size = tuple(shape[:2]) if input_size is None else input_size
    if isinstance(size, int):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        if input_size is None:
            raise ValueError(f"input_size is needed: model input {node.name!r} has shape {shape}; "
                             "pass input_size=(height, width)")
        raise ValueError(f"input_size must be a positive int or a pair (height, width); "
                         f"got {input_size!r}")
    return tuple(size)


def _taps(node, n):
    """Per-axis (kernel, stride, dilation, padding spec) of a windowed layer."""
    layer, kind = node.layer, node.kind
    if kind in CONV:
        k, s, d, pad = layer.kernel_size, layer.strides, layer.dilation_rate, layer.padding
    elif kind in POOL:
        k, s, d, pad = layer.pool_size, layer.strides, (1, 1), layer.padding
    elif kind == "ZeroPadding2D":
        k, s, d, pad = (1, 1), (1, 1), (1, 1), layer.padding
    elif kind == "Cropping2D":
        k, s, d, pad = (1, 1), (1, 1), (1, 1), [(-a, -b) for a, b in layer.cropping]
    else:  # COLLAPSE: one window over the whole map
        k, s, d, pad = n, (1, 1), (1, 1), "valid"
    return [(k[a], s[a], d[a], pad if isinstance(pad, str) else tuple(pad[a])) for a in (0, 1)]


def _read(node, n_in):
    """``(taps, n_out, note)``: how ``node`` reads its inputs of ``n_in`` positions.

    ``taps`` are per-axis ``(kernel, stride, dilation, pad_before)`` for a
    windowed layer, None for one that passes positions through; ``n_out`` is
    None (and ``note`` says why) for a layer this module does not know.
    """
    kind, fmt = node.kind, getattr(node.layer, "data_format", "channels_last")
    if fmt != "channels_last":
        return None, None, f"data_format {fmt!r} is not supported (only 'channels_last')"
    if kind in CONV | POOL | PADDING | COLLAPSE:
        n = n_in[0]
        taps = _taps(node, n)
        pads = [rf.resolve_padding(n[a], *taps[a][:3], padding=taps[a][3]) for a in (0, 1)]
        n_out = tuple(rf.output_size(n[a], *taps[a][:3], padding=pads[a]) for a in (0, 1))
        return tuple(t[:3] + (p[0],) for t, p in zip(taps, pads)), n_out, ""
    if kind in ELEMENTWISE:
        return None, n_in[0], ""
    if kind == "Reshape" and n_in[0] == (1, 1) and (
            len(node.output_shape) == 1 or tuple(node.output_shape[:2]) == (1, 1)):
        return None, (1, 1), ""
    if kind in MERGE and getattr(node.layer, "axis", -1) in (-1, 3):
        return None, tuple(max(n[a] for n in n_in) for a in (0, 1)), ""
    if kind in UPSAMPLE:
        return None, None, f"{kind} upsamples (a stride below 1): field not computed"
    return None, None, f"unknown layer kind {kind!r} (or unsupported settings): field not computed"


def _field(node, parents, taps, n_in, n_out):
    """``(fields, aligned, note)`` of ``node``'s output, from its ``parents``' fields."""
    if node.kind in MERGE:
        if any(n != n_out for n in n_in):
            return None, False, f"broadcast merge of maps sized {n_in}: field not computed"
        merged = [rf.merge([p.fields[a] for p in parents], n=n_out[a]) for a in (0, 1)]
        fields = tuple(m[0] for m in merged)
        fields = None if None in fields else fields
        note = "; ".join(f"{axis}: {m[2]}" for axis, m in zip(AXES, merged) if m[2])
        return fields, merged[0][1] and merged[1][1], note
    if taps is None:
        return parents[0].fields, True, ""
    return tuple(rf.compose(f, *t) for f, t in zip(parents[0].fields, taps)), True, ""


def _walk(model, input_size):
    """``({name: LayerField}, {name: _Step})`` for every node, in topological order."""
    nodes = graph.flatten(model)
    starts = [node for node in nodes if node.kind == "InputLayer"]
    if len(starts) != 1:
        raise ValueError(f"model must have exactly one image input; got {len(starts)} "
                         f"({[n.name for n in starts]})")
    fields, steps = {}, {}
    for node in nodes:
        parents = [fields[p] for p in node.inputs]
        n_in = [steps[p].n_out for p in node.inputs]
        field, aligned, note, taps = None, True, "", None
        if node.kind == "InputLayer":
            n_out, field = _input_size(node, input_size), (rf.Field(), rf.Field())
        elif not node.inputs:
            n_out, note = None, f"{node.kind} reads no input: field not computed"
        else:
            blind = next((p.name for p in parents if p.fields is None), None)
            if any(n is None for n in n_in):
                n_out, note = None, f"after {blind!r}, which has no field"
            else:
                taps, n_out, note = _read(node, n_in)
                if n_out is not None and blind is not None:
                    note = f"after {blind!r}, which has no field"
                elif n_out is not None:
                    field, aligned, note = _field(node, parents, taps, n_in, n_out)
        shape = node.output_shape
        if n_out is not None and len(shape) == 3:
            shape = n_out + tuple(shape[2:])
        fields[node.name] = LayerField(node.name, node.kind, shape, field, aligned, note)
        steps[node.name] = _Step(list(node.inputs), taps, n_in[0] if taps else None, n_out)
    return fields, steps
