"""ipywidgets controls over the renderers, and the kernel-free lecture export. Never imports TensorFlow.

Each factory returns a :class:`FigureWidget` (an ``ipywidgets.VBox``) with ``controls``
(name -> control), ``figure`` (its one Figure, redrawn in place), ``options(name)`` and
``render(**state)``.
"""
from ._base import FigureWidget
from .correlation import (branches_widget, correlation_widget, extreme_inception_widget,
                          segment_diagram_widget)
from .costs import cost_comparison_widget, cost_curves_widget, layer_costs_widget
from .decomposition import filter_decomposition_widget, implied_kernel_widget, separable_fit_widget
from .receptive import effective_field_widget, receptive_depth_widget, receptive_field_widget

__all__ = [
    "FigureWidget", "branches_widget", "correlation_widget", "cost_comparison_widget",
    "cost_curves_widget", "effective_field_widget", "extreme_inception_widget",
    "filter_decomposition_widget", "implied_kernel_widget", "layer_costs_widget",
    "receptive_depth_widget", "receptive_field_widget", "segment_diagram_widget",
    "separable_fit_widget",
]
