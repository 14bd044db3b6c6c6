"""A layer described in plain terms: what the cost formulas need, and no Keras.

:class:`Layer` is what ``convviz.models`` turns a Keras layer into, and what a
notebook or a widget writes by hand when there is no model at all::

    Layer("Conv2D", [(14, 14, 512)], {"filters": 512, "kernel_size": 3, "use_bias": False})

``kind`` is the Keras class name (``"Conv2D"``, ``"DepthwiseConv2D"``,
``"SeparableConv2D"``, ``"Dense"``, ``"BatchNormalization"``...; the full list
is ``convviz.core.costs.KINDS``). ``config`` holds the arguments of the
matching formula in ``convviz.core.costs``, named as Keras names them, so a
Keras ``layer.get_config()`` can be passed as it is; keys a formula does not
take are ignored. Shapes are channels-last and leave out the batch dimension,
and so does ``config["axis"]`` (Keras counts the batch: its axis 3 is our axis 2).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    """One layer: its kind, the shapes it reads and its settings."""

    kind: str
    input_shapes: list[tuple] | tuple[tuple, ...]
    config: dict = field(default_factory=dict)
    name: str = ""

    @property
    def input_shape(self) -> tuple:
        """The shape of the first (usually the only) input."""
        if not self.input_shapes:
            raise ValueError(f"layer {self.name or self.kind!r} has no input_shapes")
        return tuple(self.input_shapes[0])
