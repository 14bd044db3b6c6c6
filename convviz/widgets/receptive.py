"""Widgets over the receptive-field pictures (:mod:`convviz.plots.receptive`)."""
from __future__ import annotations

import numpy as np

from .. import plots
from ._base import FigureWidget, dropdown, figsize_of, slider


def receptive_field_widget(image=None) -> FigureWidget:
    """The receptive field of one unit, layer by layer, for a stack of identical layers.

    ``image``: an ``(H, W, 3)`` array to draw over; without it, a 32×32 input grid only.
    ``show_layer`` picks the layer whose exact footprint fills the grid (at most ``layers``).
    """
    if image is not None and (np.ndim(image) != 3 or np.shape(image)[2] != 3):
        raise ValueError(f"image must have shape (H, W, 3); got {np.shape(image)}")
    controls = {"kernel_size": slider("kernel", 3, 1, 7),
                "stride": slider("stride", 1, 1, 3),
                "dilation": slider("dilation", 1, 1, 4),
                "layers": slider("layers", 3, 1, 8),
                "show_layer": slider("show layer", 3, 1, 8)}

    def draw(fig, kernel_size, stride, dilation, layers, show_layer):
        if show_layer > layers:
            raise ValueError(f"show layer ({show_layer}) must be at most layers ({layers})")
        plots.receptive_field_growth([(kernel_size, stride, dilation)] * layers, image,
                                     depth=show_layer, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.receptive_field_growth))


def receptive_depth_widget() -> FigureWidget:
    """Receptive field against depth for 3x3, 5x5 and 7x7 stacks, and their parameters."""
    controls = {"max_depth": slider("depth", 8, 1, 16),
                "channels": slider("channels", 64, 8, 512, 8)}

    def draw(fig, max_depth, channels):
        plots.receptive_field_vs_depth(max_depth, (3, 5, 7), channels, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.receptive_field_vs_depth))


def effective_field_widget(fields: dict) -> FigureWidget:
    """Theoretical against effective field for a chosen stack.

    ``fields`` maps a name to ``(erf, layers)``: the gradient map ``(H, W)`` or ``(H, W, C)``
    and the stack's ``(kernel, stride, dilation)`` list.
    """
    if not isinstance(fields, dict) or not fields:
        raise ValueError("fields must be a non-empty dict of name -> (erf, layers)")
    controls = {"stack": dropdown("stack", list(fields))}

    def draw(fig, stack):
        erf, layers = fields[stack]
        plots.theoretical_vs_effective(erf, layers, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.theoretical_vs_effective))
