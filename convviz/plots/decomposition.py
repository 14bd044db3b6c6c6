"""Filter decomposition: a standard kernel beside its depthwise separable counterpart.

Three pictures: the shapes and costs of both (:func:`filter_decomposition`), the full kernel
a depthwise + pointwise pair implies (:func:`implied_kernel`), and the best separable
approximation of real weights as the depth multiplier grows (:func:`separable_fit`).
"""
from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Polygon

from ..core import costs, factor
from ._common import count, kernel_mosaic, new_figure, symmetric_limit

SHOWN = 4  # filters drawn per group before the "..."
COLORS = {"standard": "#9ecae1", "depthwise": "#a1d99b", "pointwise": "#fdae6b"}


def _cuboid(ax, x, y, size, depth, color, gid, cells):
    """A k×k×depth filter in oblique projection: front face at (x, y) with a cells×cells grid."""
    dx, dy = 0.45 * depth, 0.3 * depth
    front = [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]
    top = [(x, y + size), (x + size, y + size), (x + size + dx, y + size + dy), (x + dx, y + size + dy)]
    side = [(x + size, y), (x + size + dx, y + dy), (x + size + dx, y + size + dy), (x + size, y + size)]
    for face, shade in ((top, 0.85), (side, 0.7)):
        ax.add_patch(Polygon(face, closed=True, fc=color, ec="0.3", lw=0.6, alpha=shade))
    ax.add_patch(Polygon(front, closed=True, fc=color, ec="0.2", lw=0.8, gid=gid))
    steps = np.linspace(0, size, cells + 1)[1:-1]
    grid = [[(x + t, y), (x + t, y + size)] for t in steps] + [[(x, y + t), (x + size, y + t)] for t in steps]
    ax.add_collection(LineCollection(grid, colors="0.3", lw=0.4))
    return x + size + dx


def _filters(n):
    return f"{count(n)} filter" + "s" * (n != 1)


def _depth(channels):
    """Drawn depth of a filter that spans ``channels`` channels (grows slowly, stays on the page)."""
    return 0.25 + 0.35 * np.log2(channels) if channels > 1 else 0.0


def _row(ax, x, n, size, depth, color, gid, cells, label):
    """``n`` identical filters side by side (the first few, "…", the last); returns the right end."""
    x0 = x
    for i in range(min(n, SHOWN)):
        if n > SHOWN and i == SHOWN - 1:
            ax.text(x + 0.2, 0.5 * size, "…", fontsize=12, va="center")
            x += 0.9
        x = _cuboid(ax, x, 0, size, depth, color, gid, cells) + 0.35
    ax.text((x0 + x) / 2, -0.6, label, ha="center", va="top", fontsize=8)
    return x


def filter_decomposition(input_shape, filters, kernel_size, depth_multiplier=1, strides=1, *,
                         fig=None, figsize=(10, 3.0)):
    """A standard ``k×k×C_in×C_out`` kernel beside depthwise ``k×k×C_in`` (×M) + pointwise ``1×1×C_in·M×C_out``.

    Parameter and mult-add counts (no biases: batch norm follows in these networks) come from
    :mod:`convviz.core.costs` for an ``input_shape = (H, W, C_in)`` feature map.
    """
    k, m = kernel_size, depth_multiplier
    c_in = input_shape[2]
    cmp = costs.standard_vs_separable(input_shape, filters, k, strides=strides,
                                      depth_multiplier=m, use_bias=False)
    std, dw, pw, sep = cmp["standard"], cmp["depthwise"], cmp["pointwise"], cmp["separable"]
    fig = new_figure(fig, figsize, left=0.01, right=0.99, bottom=0.02, top=0.9)
    ax = fig.subplots()
    size = 0.35 * k
    x = _row(ax, 0, filters, size, _depth(c_in), COLORS["standard"], "standard", k,
             f"{_filters(filters)} of {k}×{k}×{count(c_in)}")
    ax.text(x / 2, size + 2.4, "standard convolution", ha="center", fontsize=10, weight="bold")
    ax.text(x / 2, -1.5, f"params {count(std.params)}\nmult-adds {count(std.mult_adds)}",
            ha="center", va="top", fontsize=8, gid="standard-cost")
    start = x + 1.5
    x = _row(ax, start, c_in * m, size, 0.0, COLORS["depthwise"], "depthwise", k,
             f"{_filters(c_in * m)} of {k}×{k}×1" + (f" ({m} per channel)" if m > 1 else ""))
    ax.text(x + 0.3, 0.5 * size, "→", fontsize=14, va="center")
    mid = x
    x = _row(ax, x + 1.3, filters, 0.35, _depth(c_in * m), COLORS["pointwise"], "pointwise", 1,
             f"{_filters(filters)} of 1×1×{count(c_in * m)}")
    ax.text((start + x) / 2, size + 2.4, "depthwise separable", ha="center", fontsize=10, weight="bold")
    ax.text((start + mid) / 2, -1.5, f"params {count(dw.params)}\nmult-adds {count(dw.mult_adds)}",
            ha="center", va="top", fontsize=8, gid="depthwise-cost")
    ax.text((mid + x) / 2, -1.5, f"params {count(pw.params)}\nmult-adds {count(pw.mult_adds)}",
            ha="center", va="top", fontsize=8, gid="pointwise-cost")
    ax.set(xlim=(-0.5, x + 0.5), ylim=(-3.4, size + 3.0), aspect="equal")
    ax.axis("off")
    fig.suptitle(f"input {input_shape[0]}×{input_shape[1]}×{c_in}, stride {strides}: separable costs "
                 f"{count(sep.params)} params ({cmp['params_ratio']:.3f}×) and "
                 f"{count(sep.mult_adds)} mult-adds ({cmp['mult_adds_ratio']:.3f}×) of standard",
                 fontsize=9)
    return fig


def _ends(n):
    """Ticks on the first and last index only: every tick costs time on each redraw."""
    return sorted({0, n - 1})


def _mosaic(ax, kernel, limit, title, xlabel, ylabel):
    """A kernel as a mosaic of its k×k slices, red positive, blue negative, white 0."""
    ax.imshow(kernel_mosaic(kernel), cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    k, _, columns, rows = kernel.shape
    ax.set_xticks([c * (k + 1) + (k - 1) / 2 for c in _ends(columns)], _ends(columns))
    ax.set_yticks([r * (k + 1) + (k - 1) / 2 for r in _ends(rows)], _ends(rows))
    ax.tick_params(labelsize=6, length=0)
    ax.set_title(title, fontsize=9, y=1.0)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)


def implied_kernel(depthwise, pointwise, *, fig=None, figsize=(10, 3.6)):
    """Depthwise ``D (k, k, C_in, M)``, pointwise ``P (C_in·M, C_out)``, and the kernel they imply.

    ``K[i, j, c, o] = Σ_m D[i, j, c, m] · P[c·M + m, o]`` (:func:`convviz.core.factor.implied_kernel`),
    drawn as a mosaic: row block = output filter, column block = input channel.
    """
    full = factor.implied_kernel(depthwise, pointwise)
    depthwise = np.asarray(depthwise, dtype=float)
    pointwise = np.asarray(pointwise, dtype=float).reshape(full.shape[2] * depthwise.shape[3], -1)
    k, _, c_in, m = depthwise.shape
    fig = new_figure(fig, figsize, left=0.05, right=0.98, bottom=0.14, top=0.8, wspace=0.3)
    ax_d, ax_p, ax_k = fig.subplots(1, 3, width_ratios=[c_in * (k + 1), pointwise.shape[1] + 2,
                                                         c_in * (k + 1)])
    _mosaic(ax_d, depthwise, symmetric_limit(depthwise), f"depthwise D  {k}×{k}×{c_in}×{m}",
            "input channel c", "multiplier m")
    limit = symmetric_limit(pointwise)
    ax_p.imshow(pointwise, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax_p.set_title(f"pointwise P  {c_in * m}×{pointwise.shape[1]}", fontsize=9, y=1.0)
    ax_p.set_xlabel("output o", fontsize=8)
    ax_p.set_ylabel("row c·M + m", fontsize=8)
    ax_p.set_xticks(_ends(pointwise.shape[1]))
    ax_p.set_yticks(_ends(pointwise.shape[0]))
    ax_p.tick_params(labelsize=6)
    _mosaic(ax_k, full, symmetric_limit(full), f"implied K  {k}×{k}×{c_in}×{full.shape[3]}",
            "input channel c", "output filter o")
    fig.suptitle("K[i, j, c, o] = Σ_m D[i, j, c, m] · P[c·M + m, o]: every filter of K mixes the "
                 "same per-channel spatial patterns (red > 0 > blue)", fontsize=9)
    return fig


def separable_fit(kernel, depth_multiplier=1, *, input_hw=(32, 32), max_channels=8,
                  max_filters=8, fig=None, figsize=(10, 3.6)):
    """Real weights ``(k, k, C_in, C_out)``, their best separable approximation, the error per M.

    The approximation (:func:`convviz.core.factor.separable_approximation`) is least squares for
    the chosen depth multiplier; the mosaics show the first ``max_channels`` input channels and
    ``max_filters`` filters on one colour scale. The curve is the relative error
    ``||W - K_M|| / ||W||`` for every M, the chosen one marked, with the parameters each costs.
    """
    kernel = np.asarray(kernel, dtype=float)
    depthwise, pointwise = factor.separable_approximation(kernel, depth_multiplier)
    approx = factor.implied_kernel(depthwise, pointwise)
    ms, errors = factor.error_curve(kernel)
    if depth_multiplier > ms[-1]:
        ms, errors = factor.error_curve(kernel, range(1, depth_multiplier + 1))
    k, _, c_in, c_out = kernel.shape
    shape = (int(input_hw[0]), int(input_hw[1]), c_in)
    standard = costs.conv2d(shape, c_out, k, use_bias=False).params
    params = [costs.separable_conv2d(shape, c_out, k, depth_multiplier=int(mm), use_bias=False).params
              for mm in ms]
    error = float(errors[list(ms).index(depth_multiplier)])
    shown = (slice(None), slice(None), slice(max_channels), slice(max_filters))
    limit = symmetric_limit(kernel[shown])
    fig = new_figure(fig, figsize, left=0.05, right=0.98, bottom=0.15, top=0.8, wspace=0.35)
    ax_w, ax_a, ax_e = fig.subplots(1, 3, width_ratios=[1, 1, 1.2])
    _mosaic(ax_w, kernel[shown], limit, "original W", "input channel", "filter")
    _mosaic(ax_a, approx[shown], limit, f"separable, M = {depth_multiplier}", "input channel", "filter")
    ax_e.plot(ms, errors, "o-", color="C0", gid="error-curve")
    ax_e.plot([depth_multiplier], [error], "o", ms=10, mfc="none", mec="C3", gid="chosen")
    for mm, e, p in zip(ms, errors, params):
        ax_e.annotate(count(p), (mm, e), textcoords="offset points", xytext=(3, 4), fontsize=6)
    ax_e.set(xlabel="depth multiplier M", ylabel="relative error ||W − K|| / ||W||",
             ylim=(0, max(1.0, float(errors.max())) * 1.05))
    ax_e.set_title(f"error (labels: params; standard {count(standard)})", fontsize=9, y=1.0)
    ax_e.grid(alpha=0.3)
    fig.suptitle(f"M = {depth_multiplier}: relative error {error:.3f} with "
                 f"{count(params[list(ms).index(depth_multiplier)])} params "
                 f"(standard {count(standard)})", fontsize=9)
    return fig
