"""Widgets over the Inception-hypothesis pictures (:mod:`convviz.plots.correlation`)."""
from __future__ import annotations

import numpy as np

from .. import plots
from ._base import FigureWidget, dropdown, figsize_of, slider


def correlation_widget(activations: dict) -> FigureWidget:
    """Channel and spatial correlations of the activations of a chosen layer.

    ``activations`` maps a layer name to its activations ``(N, H, W, C)``.
    """
    if not isinstance(activations, dict) or not activations:
        raise ValueError("activations must be a non-empty dict of layer name -> (N, H, W, C) array")
    arrays = {name: np.asarray(a) for name, a in activations.items()}
    controls = {"layer": dropdown("layer", list(arrays)),
                "max_offset": slider("max offset", 4, 1, 8)}

    def draw(fig, layer, max_offset):
        plots.correlation_split(arrays[layer], max_offset, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.correlation_split))


def segment_diagram_widget() -> FigureWidget:
    """Which channels each spatial filter sees: 1 segment, g segments, one per channel."""
    controls = {"channels": slider("channels", 16, 1, 32),
                "segments": slider("segments", 4, 1, 32),
                "kernel_size": slider("kernel", 3, 1, 7)}

    def draw(fig, channels, segments, kernel_size):
        plots.segment_diagram(channels, segments, kernel_size, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.segment_diagram))


def branches_widget() -> FigureWidget:
    """An Inception-style module as branches and as one 1x1 then a grouped convolution."""
    controls = {"in_channels": slider("C_in", 64, 1, 256),
                "filters": slider("filters", 32, 1, 256),
                "segments": slider("segments", 4, 1, 32),
                "kernel_size": slider("kernel", 3, 1, 7),
                "size": slider("H = W", 32, 1, 64)}

    def draw(fig, in_channels, filters, segments, kernel_size, size):
        plots.branches_vs_grouped((size, size, in_channels), filters, segments, kernel_size, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.branches_vs_grouped))


def extreme_inception_widget() -> FigureWidget:
    """Extreme Inception beside a depthwise separable convolution."""
    controls = {"in_channels": slider("C_in", 64, 1, 256),
                "filters": slider("filters", 32, 1, 256),
                "kernel_size": slider("kernel", 3, 1, 7),
                "size": slider("H = W", 32, 1, 64)}

    def draw(fig, in_channels, filters, kernel_size, size):
        plots.extreme_inception((size, size, in_channels), filters, kernel_size, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.extreme_inception))
