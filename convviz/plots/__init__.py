"""Matplotlib renderers: plain data in, a ``Figure`` out. Never trains, never downloads, never imports TensorFlow.

Every renderer returns a ``matplotlib.figure.Figure`` it does not show (no pyplot). Pass
``fig=`` to draw into an existing figure instead (cleared first): that is how a widget
redraws its one figure in place.
"""
from .correlation import branches_vs_grouped, correlation_split, extreme_inception, segment_diagram
from .costs import cost_comparison, cost_curves, layer_cost_table
from .decomposition import filter_decomposition, implied_kernel, separable_fit
from .comparison import accuracy_vs_mult_adds
from .receptive import receptive_field_growth, receptive_field_vs_depth, theoretical_vs_effective
from .shuffle import channel_shuffle
from .training import learning_curves

__all__ = [
    "accuracy_vs_mult_adds", "channel_shuffle", "learning_curves",
    "branches_vs_grouped", "correlation_split", "cost_comparison", "cost_curves",
    "extreme_inception", "filter_decomposition", "implied_kernel", "layer_cost_table",
    "receptive_field_growth", "receptive_field_vs_depth", "segment_diagram", "separable_fit",
    "theoretical_vs_effective",
]
