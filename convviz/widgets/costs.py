"""Widgets over the cost pictures (:mod:`convviz.plots.costs`)."""
from __future__ import annotations

from .. import plots
from ._base import FigureWidget, choice_slider, dropdown, figsize_of, slider


def layer_costs_widget(tables: dict) -> FigureWidget:
    """MobileNet Table 2 style shares; ``tables`` maps a model name to kind -> (mult_adds, params)."""
    if not isinstance(tables, dict) or not tables:
        raise ValueError("tables must be a non-empty dict of model name -> table")
    controls = {"model": dropdown("model", list(tables))}

    def draw(fig, model):
        plots.layer_cost_table(tables[model], fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.layer_cost_table))


def cost_comparison_widget() -> FigureWidget:
    """Standard against depthwise separable: parameters and mult-adds."""
    controls = {"kernel_size": slider("kernel", 3, 1, 7),
                "in_channels": slider("C_in", 512, 1, 1024),
                "filters": slider("C_out", 512, 1, 1024),
                "size": slider("H = W", 14, 1, 224),
                "strides": slider("stride", 1, 1, 3),
                "depth_multiplier": slider("depth multiplier", 1, 1, 4)}

    def draw(fig, kernel_size, in_channels, filters, size, strides, depth_multiplier):
        plots.cost_comparison((size, size, in_channels), filters, kernel_size, strides,
                              depth_multiplier, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.cost_comparison))


def cost_curves_widget() -> FigureWidget:
    """Cost over the width multiplier alpha, the resolution multiplier rho and the segments."""
    controls = {"alpha": slider("alpha", 1.0, 0.25, 1.0, 0.05),
                "rho": slider("rho", 1.0, 0.25, 1.0, 0.05),
                # powers of two: with channels in steps of 8 most choices divide the filters
                "segments": choice_slider("segments", [2 ** i for i in range(10)]),
                "kernel_size": slider("kernel", 3, 1, 7),
                "channels": slider("channels", 512, 8, 1024, 8),
                "size": slider("H = W", 14, 1, 224)}

    def draw(fig, alpha, rho, segments, kernel_size, channels, size):
        plots.cost_curves((size, size, channels), channels, kernel_size, alpha, rho, segments, fig=fig)

    return FigureWidget(draw, controls, figsize_of(plots.cost_curves))
