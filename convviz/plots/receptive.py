"""Receptive fields: how far one output unit sees, layer by layer, in theory and in practice.

A stack is a list of layers ``(kernel, stride, dilation)``, the same on both axes;
the arithmetic is :mod:`convviz.core.receptive`'s, per axis.
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from ..core import costs
from ..core.receptive import Field, closed_form, compose, output_size, resolve_padding, visible
from ._common import count, new_figure, reuse


def _check_layers(layers):
    layers = [tuple(layer) for layer in layers]
    if not layers:
        raise ValueError("layers must hold at least one (kernel, stride, dilation)")
    for i, layer in enumerate(layers, 1):
        if len(layer) != 3 or any(int(v) != v or v < 1 for v in layer):
            raise ValueError(f"layer {i}: expected (kernel, stride, dilation), positive integers; got {layer}")
        k, s, d = layer
        span = (k - 1) * d + 1
        if s > span:
            raise ValueError(f"layer {i}: stride {s} skips input pixels (its kernel spans {span}); "
                             f"allowed: stride <= {span}")
    return layers


def _walk(layers, n, padding):
    """Along one axis of ``n`` pixels: per layer (input length, padding before, output length, Field)."""
    field, steps = Field(), []
    for k, s, d in layers:
        before, _ = resolve_padding(n, k, s, d, padding)
        m = output_size(n, k, s, d, padding)
        field = compose(field, k, s, d, before)
        steps.append((n, before, m, field))
        n = m
    return steps


def _footprint(layers, steps, depth):
    """Input pixels (along one axis) that the centre unit of layer ``depth`` reaches."""
    positions = {(steps[depth - 1][2] - 1) // 2}
    for (k, s, d), (n, before, _, _) in zip(layers[depth - 1::-1], steps[depth - 1::-1]):
        positions = visible(positions, k, s, d, before, n)
    return sorted(positions)


def _window(steps, depth):
    """Unclipped ``[start, stop)`` input window of the centre unit of layer ``depth``."""
    n, _, m, field = steps[depth - 1]
    return field.window((m - 1) // 2)


def receptive_field_growth(layers, image=None, *, input_size=(32, 32), depth=None, padding="same",
                           fig=None, figsize=(9, 4.2)):
    """The receptive field of the centre unit of each layer, over ``image`` and over the input grid.

    ``layers``: list of ``(kernel, stride, dilation)``. ``image``: an ``(H, W, 3)`` array (its size
    replaces ``input_size``); without it only the grid is drawn. ``depth`` (default: the last
    layer) is the layer whose exact footprint (dilation holes and borders included) fills the
    grid; the windows of layers 1..depth are drawn as nested rectangles.
    """
    layers = _check_layers(layers)
    if image is not None:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] not in (3, 4):
            raise ValueError(f"image must have shape (H, W, 3); got {image.shape}")
    h, w = (image.shape[:2] if image is not None else input_size)
    depth = len(layers) if depth is None else int(depth)
    if not 1 <= depth <= len(layers):
        raise ValueError(f"depth must be in [1, {len(layers)}]; got {depth}")
    rows, cols = _walk(layers, h, padding), _walk(layers, w, padding)
    fig = new_figure(fig, figsize, left=0.04, right=0.83, bottom=0.08, top=0.86, wspace=0.15)
    axes = fig.subplots(1, 2 if image is not None else 1, squeeze=False)[0]
    colors = [f"C{i % 10}" for i in range(depth)]

    def windows(ax):
        for l in range(1, depth + 1):
            (y0, y1), (x0, x1) = _window(rows, l), _window(cols, l)
            ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=1.5,
                                   ec=colors[l - 1], label=f"layer {l}: {y1 - y0}×{x1 - x0}",
                                   gid=f"window-{l}"))

    if image is not None:
        axes[0].imshow(image, interpolation="nearest")
        windows(axes[0])
        axes[0].set_title("over the image", y=1.0)
    grid = axes[-1]
    ys, xs = _footprint(layers, rows, depth), _footprint(layers, cols, depth)
    mask = np.zeros((h, w))
    mask[np.ix_(ys, xs)] = 1
    grid.imshow(mask, cmap="Greys", vmin=0, vmax=1.6, interpolation="nearest")
    if max(h, w) <= 64:
        grid.vlines(np.arange(w + 1) - 0.5, -0.5, h - 0.5, color="0.85", lw=0.4)
        grid.hlines(np.arange(h + 1) - 0.5, -0.5, w - 0.5, color="0.85", lw=0.4)
    windows(grid)
    grid.set_title(f"input grid: {len(ys) * len(xs)} pixels reached by layer {depth}", y=1.0)
    (y0, y1), (x0, x1) = _window(rows, depth), _window(cols, depth)
    for ax in axes:
        ax.set(xlim=(min(x0, 0) - 0.5, max(x1, w) - 0.5), ylim=(max(y1, h) - 0.5, min(y0, 0) - 0.5))
        ax.locator_params(nbins=4)
    grid.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False)
    fig.suptitle(f"receptive field of one unit after {depth} layer(s): {y1 - y0}×{x1 - x0} pixels, "
                 f"stride {rows[depth - 1][3].stride}", fontsize=10)
    return fig


def _depth_layout(kernel_sizes):
    """The two panels of :func:`receptive_field_vs_depth`, one empty line per kernel size."""

    def build(fig):
        ax_rf, ax_p = fig.subplots(1, 2)
        art = {"axes": (ax_rf, ax_p)}
        for i, k in enumerate(kernel_sizes):
            (art[f"field-{k}"],) = ax_rf.plot([], [], "o-", color=f"C{i}", label=f"{k}×{k}", gid=f"field-{k}")
            (art[f"params-{k}"],) = ax_p.plot([], [], "o-", color=f"C{i}", label=f"{k}×{k}", gid=f"params-{k}")
        ax_rf.set(xlabel="depth (layers)", ylabel="receptive field (pixels)")
        ax_rf.set_title("field against depth", y=1.0)
        ax_p.set(xlabel="receptive field (pixels)", ylabel="parameters")
        art["params-title"] = ax_p.set_title(" ", y=1.0)
        for ax in (ax_rf, ax_p):
            ax.grid(alpha=0.3)
            ax.locator_params(nbins=5)
        ax_rf.legend(fontsize=8)
        return art

    return build


def receptive_field_vs_depth(max_depth=8, kernel_sizes=(3, 5, 7), channels=64, *,
                             fig=None, figsize=(9, 3.6)):
    """Receptive field against depth for stacks of k×k stride-1 convolutions, and what it costs.

    Left: field size per depth for each kernel size. Right: parameters against field size
    (``channels`` in and out, no biases). The title compares the stack of the smallest
    kernel with one layer of the largest that sees as far.
    """
    if int(max_depth) != max_depth or max_depth < 1:
        raise ValueError(f"max_depth must be a positive integer; got {max_depth!r}")
    kernel_sizes = sorted(int(k) for k in kernel_sizes)
    if not kernel_sizes or kernel_sizes[0] < 2:
        raise ValueError(f"kernel_sizes must be integers >= 2; got {kernel_sizes}")
    fig, art = reuse(fig, figsize, ("receptive_field_vs_depth", tuple(kernel_sizes)),
                     _depth_layout(kernel_sizes), left=0.08, right=0.98, bottom=0.15, top=0.82,
                     wspace=0.3)
    ax_rf, ax_p = art["axes"]
    depths = np.arange(1, max_depth + 1)
    shape = (8, 8, channels)
    for k in kernel_sizes:
        fields = [closed_form([k] * n).size for n in depths]
        params = depths * costs.conv2d(shape, channels, k, use_bias=False).params
        art[f"field-{k}"].set_data(depths, fields)
        art[f"params-{k}"].set_data(fields, params)
    art["params-title"].set_text(f"parameters ({channels} channels)")
    for ax in (ax_rf, ax_p):
        ax.relim()
        ax.autoscale_view()
    small, big = kernel_sizes[0], kernel_sizes[-1]
    n = (big - 1) // (small - 1)
    if n * (small - 1) == big - 1 and small != big:
        p_small = n * costs.conv2d(shape, channels, small, use_bias=False).params
        p_big = costs.conv2d(shape, channels, big, use_bias=False).params
        fig.suptitle(f"{big}×{big} field: {n} layers of {small}×{small} = {count(p_small)} params, "
                     f"1 layer of {big}×{big} = {count(p_big)}", fontsize=10)
    return fig


def _mass_square(erf, fraction=0.95):
    """Side of the smallest square, centred on the map's centre, that holds ``fraction`` of its mass."""
    h, w = erf.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[:h, :w]
    radius = np.maximum(np.abs(yy - cy), np.abs(xx - cx))  # Chebyshev distance to the centre
    order = np.argsort(radius, axis=None)
    mass = np.cumsum(erf.ravel()[order]) / erf.sum()
    r = radius.ravel()[order][np.searchsorted(mass, fraction - 1e-12)]
    return int(round(2 * r + 1))


def theoretical_vs_effective(erf, layers, *, padding="same", fig=None, figsize=(9, 3.6)):
    """The theoretical field of the centre output unit beside its effective (gradient) field.

    ``erf``: ``(H, W)`` or ``(H, W, C)`` gradient of the centre output unit with respect to the
    input (its magnitude is used, summed over channels). ``layers``: the stack's
    ``(kernel, stride, dilation)`` list. Right: both along the centre row.
    """
    layers = _check_layers(layers)
    erf = np.abs(np.asarray(erf, dtype=float))
    if erf.ndim == 3:
        erf = erf.sum(axis=-1)
    if erf.ndim != 2 or erf.sum() == 0:
        raise ValueError(f"erf must be a non-zero (H, W) or (H, W, C) array; got shape {erf.shape}")
    h, w = erf.shape
    rows, cols = _walk(layers, h, padding), _walk(layers, w, padding)
    (y0, y1), (x0, x1) = _window(rows, len(layers)), _window(cols, len(layers))
    effective = _mass_square(erf)
    fig = new_figure(fig, figsize, left=0.06, right=0.98, bottom=0.15, top=0.82, wspace=0.25)
    ax_img, ax_row = fig.subplots(1, 2)
    ax_img.imshow(erf / erf.max(), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    ax_img.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="C2", lw=1.5,
                               ls="--", label=f"theoretical {y1 - y0}×{x1 - x0}", gid="theoretical"))
    cy, cx = (h - 1) / 2, (w - 1) / 2
    half = effective / 2
    ax_img.add_patch(Rectangle((cx - half, cy - half), effective, effective, fill=False, ec="C0",
                               lw=1.5, label=f"95% of gradient {effective}×{effective}", gid="effective"))
    ax_img.set(xlim=(-0.5, w - 0.5), ylim=(h - 0.5, -0.5))
    ax_img.set_title("effective field |∂y/∂x|", y=1.0)
    ax_img.legend(fontsize=7, loc="lower left")
    row = erf[int(round(cy))]
    ax_row.plot(np.arange(w), row / row.max(), color="C0", label="effective (centre row)")
    inside = (np.arange(w) >= x0) & (np.arange(w) < x1)
    ax_row.step(np.arange(w), inside.astype(float), where="mid", color="C2", ls="--", label="theoretical")
    ax_row.set(xlabel="input column", ylabel="relative magnitude", ylim=(0, 1.1))
    ax_row.set_title("centre row", y=1.0)
    ax_row.legend(fontsize=7)
    for ax in (ax_img, ax_row):
        ax.locator_params(nbins=5)
    fig.suptitle(f"theoretical field {y1 - y0}×{x1 - x0} px; 95% of the gradient within "
                 f"{effective}×{effective} px", fontsize=10)
    return fig
