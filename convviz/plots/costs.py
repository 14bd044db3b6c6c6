"""What layers cost: where a network spends (MobileNet Table 2), standard against separable,
and how the width multiplier alpha, the resolution multiplier rho and the number of segments
change it. Every number comes from :mod:`convviz.core.costs` / :mod:`convviz.core.spectrum`.
"""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator, NullLocator

from ..core import costs, spectrum
from ._common import count, new_figure, reuse


def layer_cost_table(table, *, fig=None, figsize=(9, 3.2)):
    """Share of mult-adds and of parameters per layer kind, as in MobileNet's Table 2.

    ``table`` maps a kind (``"Conv 1x1"``, ``"Conv DW 3x3"``...) to ``(mult_adds, params)``.
    """
    if not isinstance(table, dict) or not table:
        raise ValueError("table must be a non-empty dict of kind -> (mult_adds, params)")
    kinds = list(table)
    values = np.array([table[kind] for kind in kinds], dtype=float)
    if values.shape != (len(kinds), 2) or (values < 0).any() or (values.sum(axis=0) == 0).any():
        raise ValueError("table values must be (mult_adds, params) pairs of non-negative numbers, "
                         "not all zero")
    shares = 100 * values / values.sum(axis=0)
    fig = new_figure(fig, figsize, left=0.16, right=0.97, bottom=0.16, top=0.8, wspace=0.08)
    axes = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(kinds))
    for ax, column, title, color in ((axes[0], 0, "mult-adds", "C0"), (axes[1], 1, "parameters", "C1")):
        ax.barh(y, shares[:, column], color=color, gid=f"bars-{title}")
        for yi, share in zip(y, shares[:, column]):
            ax.text(share + 1, yi, f"{share:.2f}%", va="center", fontsize=8)
        ax.set(xlim=(0, 118), xlabel="share (%)")
        total = values[:, column].sum()
        ax.set_title(f"{title}: {count(total) if total.is_integer() else f'{total:.4g}'} in all",
                     fontsize=9, y=1.0)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(5))
    axes[0].set_yticks(y, kinds)
    axes[0].invert_yaxis()
    fig.suptitle("where the cost goes, by layer kind", fontsize=10)
    return fig


def cost_comparison(input_shape, filters, kernel_size, strides=1, depth_multiplier=1, *,
                    fig=None, figsize=(8, 3.2)):
    """Parameters and mult-adds of a standard convolution beside its depthwise separable
    counterpart (stacked: depthwise + pointwise), no biases; the ratio and MobileNet's
    ``1/N + 1/k²``."""
    cmp = costs.standard_vs_separable(input_shape, filters, kernel_size, strides=strides,
                                      depth_multiplier=depth_multiplier, use_bias=False)
    fig = new_figure(fig, figsize, left=0.1, right=0.97, bottom=0.12, top=0.78, wspace=0.35)
    labels = ["standard", "separable"]
    for ax, field, ratio in zip(fig.subplots(1, 2), ("params", "mult_adds"),
                                ("params_ratio", "mult_adds_ratio")):
        std = getattr(cmp["standard"], field)
        dw, pw = getattr(cmp["depthwise"], field), getattr(cmp["pointwise"], field)
        ax.bar(labels, [std, 0], color="C0", gid=f"{field}-standard")
        ax.bar(labels, [0, dw], color="C2", label="depthwise", gid=f"{field}-depthwise")
        ax.bar(labels, [0, pw], bottom=[0, dw], color="C1", label="pointwise", gid=f"{field}-pointwise")
        for x, v in ((0, std), (1, dw + pw)):
            ax.text(x, v, count(v), ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, 1.15 * max(std, dw + pw))
        ax.set_title(f"{field.replace('_', '-')}: ratio {cmp[ratio]:.3f}", fontsize=9, y=1.0)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 3))
        ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.legend(fontsize=7, loc="upper right")
    h, w, c = input_shape
    fig.suptitle(f"{kernel_size}×{kernel_size} conv, {h}×{w}×{c} → {filters}: separable / standard "
                 f"= {cmp['mult_adds_ratio']:.3f}; paper's 1/N + 1/k² = {cmp['paper_ratio']:.3f}",
                 fontsize=9)
    return fig


def _scaled(input_shape, filters, alpha, rho):
    """MobileNet's multipliers: channels × alpha, resolution × rho (rounded, at least 1)."""
    h, w, c = input_shape
    return ((max(1, round(rho * h)), max(1, round(rho * w)), max(1, round(alpha * c))),
            max(1, round(alpha * filters)))


def _cost_curves_layout(fig) -> dict:
    """The three panels of :func:`cost_curves`, their lines and titles, without data."""
    axes = fig.subplots(1, 3)
    art = {"axes": axes}
    for ax, name in zip(axes[:2], ("alpha", "rho")):
        (art[f"{name}-mult-adds"],) = ax.plot([], [], color="C0", label="mult-adds", gid=f"{name}-mult-adds")
        (art[f"{name}-params"],) = ax.plot([], [], color="C1", ls="--", label="params", gid=f"{name}-params")
        (art[f"{name}-current"],) = ax.plot([], [], "o", color="C3", gid=f"{name}-current")
        ax.set(xlabel=name, xlim=(0.055, 1.045), ylim=(0, 1.05))
        ax.xaxis.set_major_locator(MaxNLocator(4))
        art[f"{name}-title"] = ax.set_title(" ", fontsize=9, y=1.0)
    axes[0].set_ylabel("relative to alpha = rho = 1")
    ax_g = axes[2]
    (art["segments-mult-adds"],) = ax_g.plot([], [], "o-", color="C0", label="mult-adds",
                                             gid="segments-mult-adds")
    (art["segments-params"],) = ax_g.plot([], [], "s--", color="C1", ms=3, label="params",
                                          gid="segments-params")
    (art["segments-current"],) = ax_g.plot([], [], "o", ms=10, mfc="none", mec="C3", gid="segments-current")
    ax_g.set(xscale="log", xlabel="segments g", ylim=(0, 1.05))
    ax_g.xaxis.set_minor_locator(NullLocator())
    ax_g.legend(fontsize=7)
    art["segments-title"] = ax_g.set_title(" ", fontsize=9, y=1.0)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(4))
    return art


def cost_curves(input_shape, filters, kernel_size, alpha=1.0, rho=1.0, segments=1, *,
                fig=None, figsize=(10, 3.4)):
    """Cost of a layer over the width multiplier alpha, the resolution multiplier rho, and
    the number of segments g, relative to its value at alpha = rho = 1 (or g = 1).

    The alpha and rho panels cost a depthwise separable convolution; the segments panel the
    1x1 + spatial module of :func:`convviz.core.spectrum.spectrum` at the chosen alpha and rho,
    ``segments`` dividing the scaled ``filters``. The current choice is marked.
    """
    for name, value in (("alpha", alpha), ("rho", rho)):
        if not 0 < value <= 1:
            raise ValueError(f"{name} must be in (0, 1]; got {value!r}")
    k = kernel_size
    shape, f = _scaled(input_shape, filters, alpha, rho)
    if f % segments:
        divisors = [g for g in range(1, f + 1) if f % g == 0]
        raise ValueError(f"segments ({segments}) must divide the {f} filters at alpha={alpha:g}; "
                         f"allowed: {divisors}")

    def separable(a, r):
        s, n = _scaled(input_shape, filters, a, r)
        cost = costs.separable_conv2d(s, n, k, use_bias=False)
        return cost.params, cost.mult_adds

    grid = np.linspace(0.1, 1.0, 19)
    base = np.array(separable(1.0, 1.0), dtype=float)
    fig, art = reuse(fig, figsize, "cost_curves", _cost_curves_layout,
                     left=0.07, right=0.98, bottom=0.16, top=0.78, wspace=0.3)
    for name, current, fn in (("alpha", alpha, lambda v: separable(v, rho)),
                              ("rho", rho, lambda v: separable(alpha, v))):
        values = np.array([fn(v) for v in grid]) / base
        now = np.array(fn(current)) / base
        art[f"{name}-mult-adds"].set_data(grid, values[:, 1])
        art[f"{name}-params"].set_data(grid, values[:, 0])
        art[f"{name}-current"].set_data([current] * 2, now[::-1])
        art[f"{name}-title"].set_text(f"{name} = {current:g}: mult-adds ×{now[1]:.2f}")
    points = spectrum.spectrum(shape, f, k, use_bias=False)
    gs = np.array([p.segments for p in points])
    rel = np.array([(p.params, p.mult_adds) for p in points], dtype=float) / [points[0].params,
                                                                            points[0].mult_adds]
    i = list(gs).index(segments)
    art["segments-mult-adds"].set_data(gs, rel[:, 1])
    art["segments-params"].set_data(gs, rel[:, 0])
    art["segments-current"].set_data([segments], [rel[i, 1]])
    art["segments-title"].set_text(f"g = {segments}: mult-adds ×{rel[i, 1]:.2f} of g = 1")
    ax_g = art["axes"][2]
    ax_g.relim()
    ax_g.autoscale_view(scalex=True, scaley=False)
    shown = gs[np.unique(np.linspace(0, len(gs) - 1, min(len(gs), 5)).round().astype(int))]
    ax_g.set_xticks(shown, [str(g) for g in shown])
    fig.suptitle(f"{k}×{k} layer at {shape[0]}×{shape[1]}×{shape[2]} → {f}: separable "
                 f"{count(separable(alpha, rho)[0])} params, {count(separable(alpha, rho)[1])} mult-adds; "
                 f"with {segments} segment(s) {count(points[i].params)} params", fontsize=9)
    return fig
