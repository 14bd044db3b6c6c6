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
    fig._convviz_artists = None
    fig.subplots_adjust(**margins)
    return fig


def reuse(fig: Figure | None, figsize, key, build, **margins):
    """``(fig, artists)``: the artists ``build`` made in ``fig`` on an earlier call with the
    same ``key``, or ``build(fig)``'s fresh ones in a cleared (or new) figure.

    A renderer that updates its lines and texts in place (``set_data``, ``set_text``) instead
    of building new axes redraws a widget's figure in about half the time: creating axes and
    their ticks is most of the cost of a small figure. ``key`` names what the layout depends
    on (the renderer, the number of panels or boxes); anything else must be set on every call.
    The cache is dropped as soon as anything else clears the figure.
    """
    cached = getattr(fig, "_convviz_artists", None)
    if cached is not None and cached[0] == key and cached[1] == tuple(fig.axes):
        return fig, cached[2]
    fig = new_figure(fig, figsize, **margins)
    artists = build(fig)
    fig._convviz_artists = (key, tuple(fig.axes), artists)
    return fig, artists


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
