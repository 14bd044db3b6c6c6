"""The cost table of a Keras model: per layer, in total, and by kind (MobileNet's Table 2).

``model_costs(model)`` walks the model with :func:`convviz.models.graph.flatten`
(branches, residual adds and nested models included), turns each call into a
plain :class:`convviz.core.layers.Layer` and prices it with
:func:`convviz.core.costs.layer_parts`. The conventions are those of
``convviz.core.costs`` and are recorded in the report:

- ``unit``: ``"mult_adds"`` (default) or ``"flops"`` (2 per mult-add): what the
  text table shows. Rows always carry ``mult_adds``; with ``"flops"`` also ``flops``.
- ``include_bias``: count bias parameters (Keras does).
- ``include_batchnorm``: ``True`` all four batch-norm parameters per channel
  (Keras ``count_params()``), ``"trainable"`` gamma and beta (the Xception
  paper), ``False`` none (the MobileNet paper).
- ``allow_gaps``: a stride larger than the kernel extent (ResNet's 1x1 stride-2
  shortcut) is read with a note and a warning; ``False`` raises ValueError.

A layer called twice counts its weights once (the second row notes the
sharing) and its mult-adds at every call. A layer with no formula is listed as
unknown, with a warning: its ``mult_adds`` is None and is left out of the total,
its ``params`` are what Keras counts.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from convviz.core import costs
from convviz.core.layers import Layer

from .graph import Node, flatten

UNITS = ("mult_adds", "flops")
_WINDOWED = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D")


@dataclass
class CostReport:
    """What :func:`model_costs` returns; ``rows`` has one dict per layer call."""

    model: str
    rows: list[dict]
    unit: str = "mult_adds"
    conventions: dict = field(default_factory=dict)
    parts: list[tuple[str, int, int | None]] = field(default_factory=list, repr=False)

    @property
    def total_params(self) -> int:
        return sum(r["params"] for r in self.rows)

    @property
    def total_mult_adds(self) -> int:
        """Mult-adds of the layers with a formula (unknown layers are left out)."""
        return sum(r["mult_adds"] or 0 for r in self.rows)

    @property
    def total_flops(self) -> int:
        return 2 * self.total_mult_adds

    @property
    def unknown(self) -> list[str]:
        return [r["name"] for r in self.rows if r["mult_adds"] is None]

    def by_kind(self) -> list[dict]:
        """Mult-adds and parameters per kind of layer, largest first, as in MobileNet's Table 2.

        Kinds: 'Conv 1x1', 'Conv DW 3x3', 'Conv 3x3' (any kernel size), 'Fully
        connected', 'Normalization', 'Other', and 'Unknown' (mult_adds None). A
        separable convolution counts in two kinds, its depthwise and pointwise halves.
        Shares are fractions of the totals; kinds that cost nothing are left out.
        """
        sums: dict[str, list] = {}
        for label, params, mult_adds in self.parts:
            entry = sums.setdefault(label, [0, 0])
            entry[0] += params
            entry[1] = None if mult_adds is None else entry[1] + mult_adds
        total_p, total_m = self.total_params, self.total_mult_adds
        out = [{"kind": label, "mult_adds": m, "params": p,
                "mult_adds_share": None if m is None else (m / total_m if total_m else 0.0),
                "params_share": p / total_p if total_p else 0.0}
               for label, (p, m) in sums.items() if p or m is None or m]
        return sorted(out, key=lambda d: (-(d["mult_adds"] or 0), -d["params"]))

    def to_dict(self) -> dict:
        """JSON-ready: model, unit, conventions, totals, layers, by_kind, unknown."""
        rows = [{**r, "output_shape": list(r["output_shape"])} for r in self.rows]
        return {"model": self.model, "unit": self.unit, "conventions": dict(self.conventions),
                "total_params": self.total_params, "total_mult_adds": self.total_mult_adds,
                "total_flops": self.total_flops, "layers": rows, "by_kind": self.by_kind(),
                "unknown": self.unknown}

    def to_text(self) -> str:
        """A readable table: every layer, the totals, then the breakdown by kind."""
        flops = self.unit == "flops"
        col = "FLOPs" if flops else "Mult-adds"
        scale = 2 if flops else 1
        name_w = max([len(r["name"]) for r in self.rows] + [5])
        type_w = max([len(r["type"]) for r in self.rows] + [4])
        head = (f"{'Layer':<{name_w}}  {'Type':<{type_w}}  {'Output shape':<16}"
                f"{'Params':>12}  {col:>15}  {'Share':>6}  Note")
        lines = [f"Model: {self.model}", head, "-" * len(head)]
        for r in self.rows:
            ops = "?" if r["mult_adds"] is None else f"{scale * r['mult_adds']:,}"
            share = f"{100 * r['share']:.1f}%" if r["mult_adds"] else ""
            lines.append(f"{r['name']:<{name_w}}  {r['type']:<{type_w}}  "
                         f"{str(r['output_shape']):<16}{r['params']:>12,}  {ops:>15}  "
                         f"{share:>6}  {r['note']}".rstrip())
        lines += ["-" * len(head),
                  f"Total params: {self.total_params:,} ({self.total_params / 1e6:.2f}M)",
                  f"Total {col.lower()}: {scale * self.total_mult_adds:,} "
                  f"({scale * self.total_mult_adds / 1e6:.1f}M)",
                  "Conventions: " + ", ".join(f"{k}={v}" for k, v in self.conventions.items())]
        if self.unknown:
            lines.append(f"Unknown layers, left out of the {col.lower()}: "
                         + ", ".join(self.unknown))
        lines += ["", f"{'Kind':<24}{col + ' share':>18}{'Params share':>14}"]
        for d in self.by_kind():
            m = "?" if d["mult_adds_share"] is None else f"{100 * d['mult_adds_share']:.2f}%"
            lines.append(f"{d['kind']:<24}{m:>18}{100 * d['params_share']:>13.2f}%")
        return "\n".join(lines)

    __str__ = to_text


def _keras_axis(axis):
    """Keras counts the batch dimension in ``axis``; the plain formulas do not."""
    if isinstance(axis, (list, tuple)):
        return [_keras_axis(a) for a in axis]
    return axis - 1 if isinstance(axis, int) and axis > 0 else axis


def describe(node: Node) -> Layer:
    """The plain description of one graph node (no validation beyond Keras's own)."""
    shapes = [tuple(s) for s in (node.input_shapes or [node.output_shape])]
    if any(d is None for s in shapes for d in s):
        raise ValueError(f"model must have fully defined input shapes; layer {node.name!r} "
                         f"reads {shapes}. Build it with e.g. input_shape=(224, 224, 3).")
    try:
        config = dict(node.layer.get_config())
    except Exception:  # Keras operations (x + y) may not serialise; they need no settings
        config = {}
    if "axis" in config:
        config["axis"] = _keras_axis(config["axis"])
    return Layer(kind=node.kind, input_shapes=shapes, config=config, name=node.name)


def _is_layer(op) -> bool:
    import keras

    return isinstance(op, keras.layers.Layer)


def _validate(unit, include_bias, include_batchnorm, allow_gaps):
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}; got {unit!r}")
    for arg, value in (("include_bias", include_bias), ("allow_gaps", allow_gaps)):
        if not isinstance(value, bool):
            raise ValueError(f"{arg} must be True or False; got {value!r}")
    if not (include_batchnorm is True or include_batchnorm is False
            or include_batchnorm == "trainable"):
        raise ValueError(f"include_batchnorm must be one of {costs.BATCHNORM_CONVENTIONS}; "
                         f"got {include_batchnorm!r}")


def _gap_note(node: Node, layer: Layer, allow_gaps: bool) -> str:
    """A note when a window's stride skips input pixels; ValueError unless allowed."""
    if node.kind not in _WINDOWED:
        return ""
    c = layer.config
    window = c.get("kernel_size", c.get("pool_size"))
    lost = costs.unseen_fraction(window, c.get("strides") or window, c.get("dilation_rate", 1))
    if lost and not allow_gaps:
        raise ValueError(f"layer {node.name!r}: strides {c.get('strides')} skip input "
                         f"(larger than the kernel extent of {window}); allowed with "
                         "allow_gaps=True")
    return f"stride skips {100 * lost:.0f}% of input pixels" if lost else ""


def _price(node: Node, conventions: dict) -> tuple[list, str]:
    """(Table 2 label, Cost) parts of one node and its note; mult_adds None when unknown."""
    is_layer = _is_layer(node.layer)
    pure = node.kind in costs.ELEMENTWISE_KINDS or node.kind in costs.SHAPE_KEEPING_KINDS
    if node.kind in costs.KINDS and (is_layer or pure):  # Keras ops (x + y) only when pure
        layer = describe(node)
        note = _gap_note(node, layer, conventions["allow_gaps"])
        parts = costs.layer_parts(layer, **conventions)
        if tuple(parts[-1][1].output_shape) == tuple(node.output_shape):
            return parts, note
        why = f"formula's output shape {parts[-1][1].output_shape} disagrees with Keras"
    else:
        why = "no cost formula"
    params = node.layer.count_params() if is_layer and node.layer.built else 0
    return ([("Unknown", costs.Cost(params, None, node.output_shape))],
            f"unknown layer ({why}): mult-adds not counted, params as Keras counts them")


def model_costs(model, unit="mult_adds", include_bias=True, include_batchnorm=True,
                allow_gaps=True) -> CostReport:
    """Parameters and mult-adds of every layer call of a Keras ``model``.

    See the module docstring for the conventions. Raises ValueError for a model
    with undefined input shapes, channels-first layers, or (with
    ``allow_gaps=False``) a stride that skips input.
    """
    _validate(unit, include_bias, include_batchnorm, allow_gaps)
    conventions = {"include_bias": include_bias, "include_batchnorm": include_batchnorm,
                   "allow_gaps": allow_gaps}
    rows, all_parts, owner = [], [], {}
    for node in flatten(model):
        parts, note = _price(node, conventions)
        first = owner.setdefault(id(node.layer), node.name)
        if first != node.name:  # a shared layer called again: weights counted once
            parts = [(label, costs.Cost(0, c.mult_adds, c.output_shape)) for label, c in parts]
            note = f"weights shared with {first}" + (f"; {note}" if note else "")
        unknown = parts[0][1].mult_adds is None
        rows.append({"name": node.name, "type": node.kind,
                     "output_shape": tuple(node.output_shape),
                     "params": sum(c.params for _, c in parts),
                     "mult_adds": None if unknown else sum(c.mult_adds for _, c in parts),
                     "share": None, "params_share": None, "note": note})
        all_parts += [(label, c.params, c.mult_adds) for label, c in parts]
    report = CostReport(model=getattr(model, "name", ""), rows=rows, unit=unit,
                        conventions=conventions, parts=all_parts)
    total_m, total_p = report.total_mult_adds, report.total_params
    for r in rows:
        if r["mult_adds"] is not None:
            r["share"] = r["mult_adds"] / total_m if total_m else 0.0
        r["params_share"] = r["params"] / total_p if total_p else 0.0
        if unit == "flops":
            r["flops"] = None if r["mult_adds"] is None else 2 * r["mult_adds"]
    if report.unknown:
        warnings.warn(f"{len(report.unknown)} layer(s) are listed as unknown (mult-adds not "
                      f"counted): {', '.join(report.unknown)}", UserWarning, stacklevel=2)
    gaps = [r["name"] for r in rows if "stride skips" in r["note"]]
    if gaps:
        warnings.warn(f"stride larger than the kernel extent (input pixels skipped) in: "
                      f"{', '.join(gaps)}", UserWarning, stacklevel=2)
    return report
