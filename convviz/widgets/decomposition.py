"""Widgets over the filter-decomposition pictures (:mod:`convviz.plots.decomposition`)."""
from __future__ import annotations

import numpy as np

from .. import plots
from ._base import FigureWidget, figsize_of, slider


def filter_decomposition_widget() -> FigureWidget:
    """Standard kernel beside depthwise + pointwise, with their costs, for any layer shape."""
    controls = {
        "kernel_size": slider("kernel", 3, 1, 7),
        "in_channels": slider("C_in", 16, 1, 128),
        "filters": slider("C_out", 32, 1, 128),
        "depth_multiplier": slider("depth multiplier", 1, 1, 4),
        "strides": slider("stride", 1, 1, 3),
        "size": slider("H = W", 32, 1, 128),
    }

    def draw(fig, kernel_size, in_channels, filters, depth_multiplier, strides, size):
        plots.filter_decomposition((size, size, in_channels), filters, kernel_size,
                                   depth_multiplier, strides, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.filter_decomposition))


def implied_kernel_widget() -> FigureWidget:
    """A random depthwise + pointwise pair and the standard kernel it implies."""
    controls = {
        "kernel_size": slider("kernel", 3, 1, 5),
        "in_channels": slider("C_in", 3, 1, 8),
        "filters": slider("C_out", 4, 1, 8),
        "depth_multiplier": slider("depth multiplier", 1, 1, 3),
        "seed": slider("seed", 0, 0, 9),
    }

    def draw(fig, kernel_size, in_channels, filters, depth_multiplier, seed):
        rng = np.random.default_rng(seed)
        depthwise = rng.normal(size=(kernel_size, kernel_size, in_channels, depth_multiplier))
        pointwise = rng.normal(size=(in_channels * depth_multiplier, filters))
        plots.implied_kernel(depthwise, pointwise, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.implied_kernel))


def separable_fit_widget(kernel) -> FigureWidget:
    """Trained weights ``(k, k, C_in, C_out)`` against their best separable approximation."""
    kernel = np.asarray(kernel, dtype=float)
    if kernel.ndim != 4:
        raise ValueError(f"kernel must have shape (k, k, C_in, C_out); got {kernel.shape}")
    top = min(kernel.shape[0] * kernel.shape[1], kernel.shape[3])
    controls = {"depth_multiplier": slider("depth multiplier", 1, 1, top)}

    def draw(fig, depth_multiplier):
        plots.separable_fit(kernel, depth_multiplier, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.separable_fit))
