"""Helpers shared by the renderers: the figure to draw into, counts as text, kernel mosaics."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def new_figure(fig: Figure | None, figsize, **margins) -> Figure:
    """``fig`` cleared for a redraw (a widget's own figure), or a new figure of ``figsize``.

    ``margins`` go to ``subplots_adjust``: fixed margins, not a layout engine, keep a widget's
    redraw fast (constrained layout doubles it).
    """
    if fig is None:
        fig = Figure(figsize=figsize)
    else:
        for ax in fig.axes:  # dropped whole: Figure.clear() would first clear each, for nothing
            fig.delaxes(ax)
        fig.clear()
    fig.subplots_adjust(**margins)
    return fig


def count(n) -> str:
    """An integer count as the figures print it: ``1,234,567``."""
    return f"{int(n):,}"


def kernel_mosaic(kernel, gap: int = 1) -> np.ndarray:
    """A ``(k, k, C_in, C_out)`` kernel tiled as one image: row block ``o``, column block ``c``.

    ``mosaic[o * (k + gap) + i, c * (k + gap) + j] == kernel[i, j, c, o]``; the gaps are NaN
    (drawn blank).
    """
    kernel = np.asarray(kernel, dtype=float)
    k, _, c_in, c_out = kernel.shape
    step = k + gap
    out = np.full((c_out * step - gap, c_in * step - gap), np.nan)
    for o in range(c_out):
        for c in range(c_in):
            out[o * step:o * step + k, c * step:c * step + k] = kernel[:, :, c, o]
    return out


def symmetric_limit(*arrays) -> float:
    """The largest magnitude over the arrays (ignoring NaN), for a colour scale centred on 0."""
    top = max(float(np.nanmax(np.abs(a))) if np.size(a) else 0.0 for a in arrays)
    return top or 1.0
